"""The benchmark report's plumbing (tests/bench, not collected itself): re-running some sections of
docs/benchmarks.md keeps the others, and the upload benchmark confirms what the reader read, typing only what it
left blank. No timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_letter_upload  # noqa: E402
import run_all  # noqa: E402

from smart_app.sandbox.demo_letters import expected_fields, letter_specs  # noqa: E402

REPORT = """# Benchmarks

Run 2026-11-23 22:16 UTC by `python tests/bench/run_all.py` on: a machine.

## 1. Reading the brief's chart

| a | b |
|---|---|
| 1 | 2 |

Note one.

## 4. Load

| users |
|---|
| 200 |

## 5. Reading denial letters (text PDF and scan)

old letters table
"""


def test_rerunning_some_sections_keeps_the_others_and_adds_new_ones_in_order() -> None:
    rerun = {"6": "## 6. Upload to brief\n\nnew upload table\n", "5": "## 5. Reading denial letters\n\nnew letters\n"}
    spliced = run_all.splice(REPORT, rerun)
    assert spliced.startswith("# Benchmarks\n\nRun 2026-11-23 22:16 UTC")
    assert "| 1 | 2 |\n\nNote one.\n\n## 4. Load" in spliced  # sections not re-run are kept as they were
    assert "old letters table" not in spliced and "new letters" in spliced
    assert spliced.index("## 4.") < spliced.index("## 5.") < spliced.index("## 6.")
    assert spliced.endswith("new upload table\n")


def test_a_full_run_writes_every_section_under_the_header() -> None:
    written = run_all.splice("# Benchmarks\n\nRun today.\n\n", {"2": "## 2. Two\n\nb\n", "1": "## 1. One\n\na\n"})
    assert written == "# Benchmarks\n\nRun today.\n\n## 1. One\n\na\n\n## 2. Two\n\nb\n"


def test_the_upload_benchmark_types_only_what_the_reader_left_blank() -> None:
    spec = next(s for s in letter_specs() if s["id"] == "cigna-glp1-semaglutide")
    expected = expected_fields(spec, shift_days=10)
    read = {"payer": "Cigna Healthcare", "reference": "3184O52201", "reviewer_name": "", "practice": "",
            "ctx": "c", "csrf": "t"}  # fmt: skip
    form, typed = bench_letter_upload.filled(read, expected)
    assert form["reference"] == "3184O52201"  # kept as read: the liaison confirms the prefilled fields
    assert form["reviewer_name"] == "Alison M. Tarrant" and form["p2p_window_unit"] == "hours"
    assert form["birth_date"] == expected["birthDate"] != "1968-01-27"  # the letter as dated for the demo's day
    assert form["service_system_0"] == "NDC" and form["service_code_0"] == "0169-4181-13"
    assert form["decided_date"] == expected["decidedAt"][:10] and form["decided_time"] == "09:14"
    assert form.get("p2p_portal", "") == "" and form["ctx"] == "c"  # what the letter does not say stays blank
    assert typed == len([v for v in bench_letter_upload.typed_values(expected).values() if v]) - 2
