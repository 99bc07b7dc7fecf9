"""Benchmark: reading the shipped denial letters (tests/data/letters) into fields, on the text PDFs and on their
200 dpi scans through OCR. Prints per-field accuracy against ``<id>.expected.json`` (text and scan), OCR seconds
per page (median, max) and the whole read per letter, for each OCR setting compared (resolution, tesseract threads).
Not collected by pytest: ``python tests/bench/bench_letters.py [--variants 300x1,200x1,300x2] [--markdown]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "letters"))
from letter_accuracy import FIELDS, LETTERS, compare, expected, letter_ids  # noqa: E402

import smart_app.letters.document as document  # noqa: E402
from smart_app.cli import brief_clock, brief_from_bundle  # noqa: E402
from smart_app.content import content_dir  # noqa: E402
from smart_app.letters.contract import letter_json  # noqa: E402
from smart_app.letters.reading import read_letter  # noqa: E402

DEMO = content_dir("fhir") / "demo"
VARIANTS = "300x1,200x1,300x2"  # the OCR settings compared: DPIxTHREADS, the default first


def _read_all(kind: str, page_times: list[float]) -> tuple[dict[str, dict[str, Any]], list[float]]:
    """Every letter of ``kind`` ("" text, "-scan" scan) read: per letter the comparison; and each read's seconds."""
    results, reads = {}, []
    real_ocr = document.ocr_page

    def timed_ocr(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        page = real_ocr(*args, **kwargs)
        page_times.append(time.perf_counter() - started)
        return page

    document.ocr_page = timed_ocr  # type: ignore[assignment]
    try:
        for letter_id in letter_ids():
            data = (LETTERS / f"{letter_id}{kind}.pdf").read_bytes()
            started = time.perf_counter()
            contract = letter_json(read_letter(data, f"{letter_id}{kind}.pdf"))
            reads.append(time.perf_counter() - started)
            results[letter_id] = compare(contract, expected(letter_id))
    finally:
        document.ocr_page = real_ocr
    return results, reads


def page_count(letter_id: str) -> int:
    """How many pages the letter's text PDF has."""
    document = pdfium.PdfDocument((LETTERS / f"{letter_id}.pdf").read_bytes())
    try:
        return len(document)
    finally:
        document.close()


def _accuracy(results: dict[str, dict[str, Any]], field: str) -> tuple[int, int]:
    return sum(1 for fields in results.values() if fields[field][0]), len(results)


BRIEFED = {  # letters whose demo chart holds their patient: chart Bundle for each
    "uhc-lumbar-mri": "lumbar-mri",
    "aetna-ra-adalimumab": "ra-tnf",
    "cigna-glp1-semaglutide": "glp1-t2dm",
    "humana-knee-tka-pended": "knee-tka",
}


def _brief_times(kind: str) -> list[float]:
    """Seconds for ``p2p-brief brief BUNDLE --letter FILE``'s pipeline (read the letter, check the patient, brief
    the chart against it) for each letter that has its demo chart."""
    clock = brief_clock("2026-11-23", "America/Chicago")
    times = []
    for letter_id, chart in BRIEFED.items():
        started = time.perf_counter()
        brief_from_bundle(DEMO / f"{chart}.json", clock=clock, letter=LETTERS / f"{letter_id}{kind}.pdf")
        times.append(time.perf_counter() - started)
    return times


def _variant(spec: str) -> tuple[int, int]:
    dpi, threads = spec.split("x")
    return int(dpi), int(threads)


def tables(variants: list[tuple[int, int]], *, markdown: bool = True) -> list[str]:
    """The accuracy table and the timing table (a blank line between), for each OCR setting in ``variants``
    (DPI, tesseract threads); the first setting is left in the environment for the briefs' row."""
    text_results, text_reads = _read_all("", [])
    scans: dict[tuple[int, int], tuple[dict[str, dict[str, Any]], list[float], list[float]]] = {}
    for dpi, threads in variants:
        os.environ["P2P_LETTER_OCR_DPI"], os.environ["OMP_THREAD_LIMIT"] = str(dpi), str(threads)
        pages: list[float] = []
        results, reads = _read_all("-scan", pages)
        scans[(dpi, threads)] = (results, reads, pages)
    names = [f"scan {dpi} dpi, {threads} thr" for dpi, threads in variants]
    rule = ["|" + "---|" * (2 + len(names))] if markdown else []

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |" if markdown else "  ".join(cells)

    lines = [row(["field", "text PDF", *names]), *rule]
    for field in FIELDS:
        cells = [field, "{}/{}".format(*_accuracy(text_results, field))]
        lines.append(row(cells + ["{}/{}".format(*_accuracy(scans[v][0], field)) for v in variants]))
    lines.append(row(["all fields", _total(text_results)] + [_total(scans[v][0]) for v in variants]))
    lines += ["", row(["timing", "text PDF", *names]), *rule]
    lines.append(row(["OCR s/page median (max)", "—", *(_spread(scans[v][2]) for v in variants)]))
    lines.append(row(["read s/letter median (max)", _spread(text_reads), *(_spread(scans[v][1]) for v in variants)]))
    lines.append(row(["pages OCR'd", "0", *(str(len(scans[v][2])) for v in variants)]))
    os.environ["P2P_LETTER_OCR_DPI"], os.environ["OMP_THREAD_LIMIT"] = str(variants[0][0]), str(variants[0][1])
    text_briefs, scan_briefs = _brief_times(""), _brief_times("-scan")
    cells = [f"brief --letter s median (max), {len(BRIEFED)} letters", _spread(text_briefs), _spread(scan_briefs)]
    lines.append(row(cells + ["—"] * (len(variants) - 1)))
    return lines


def variants_of(text: str) -> list[tuple[int, int]]:
    """``"300x1,200x1"`` as ``[(300, 1), (200, 1)]``."""
    return [_variant(v) for v in text.split(",")]


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=VARIANTS, help="OCR settings to compare: DPIxTHREADS,...")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables (for docs/benchmarks.md)")
    args = parser.parse_args()
    for line in tables(variants_of(args.variants), markdown=args.markdown):
        print(line)  # noqa: T201


def _total(results: dict[str, dict[str, Any]]) -> str:
    right = sum(1 for fields in results.values() for value in fields.values() if value[0])
    count = sum(len(fields) for fields in results.values())
    return f"{right}/{count} ({right / count:.0%})"


def _spread(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.2f} ({max(seconds):.2f})" if seconds else "—"


if __name__ == "__main__":
    main()
