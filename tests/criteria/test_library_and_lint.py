"""The policy library: lookup (payer's own policy before a default, drugs by ingredient), lint, and scale."""

from __future__ import annotations

import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from chartkit import chart, condition, procedure, statement

from smart_app.cli import main
from smart_app.content import content_dir
from smart_app.criteria.apply import criteria_for
from smart_app.criteria.evaluate import evaluate_policy
from smart_app.criteria.index import index_chart
from smart_app.criteria.library import library, load_library
from smart_app.criteria.lint import lint
from smart_app.denials.pas import Denial, DenialItem
from smart_app.fhir.facts import Code

CPT = "http://www.ama-assn.org/go/cpt"


def test_shipped_library_lints_clean_and_names_its_sources() -> None:
    assert lint() == []
    lib = library()
    assert len(lib.policies) == 10
    for policy in lib.policies:
        assert policy.source_url.startswith("http") and policy.follows
        assert all(g in lib.guidelines for g in policy.guidelines)
    assert all(vs.source for vs in lib.valuesets.values())


@pytest.mark.parametrize(
    ("system", "code", "policy"),
    [
        (CPT, "72148", "lumbar-spine-mri"),
        ("http://hl7.org/fhir/sid/ndc", "0074-0554-02", "tnf-inhibitor-ra"),  # the Humira pen, by its ingredient
        ("http://hl7.org/fhir/sid/ndc", "0169-4181-13", "glp1-type2-diabetes"),
        ("http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "J0585", "botulinum-toxin-chronic-migraine"),
        (CPT, "12345", None),
    ],
)
def test_policy_lookup(system: str, code: str, policy: str | None) -> None:
    found = library().policy_for(Code(system, code, None), "uhc")
    assert (found.id if found else None) == policy


def _copy_library(tmp_path: Path) -> Path:
    root = tmp_path / "criteria"
    for name in ("policies", "valuesets"):
        shutil.copytree(content_dir("criteria") / name, root / name)
    shutil.copy(content_dir("criteria") / "guidelines.yaml", root / "guidelines.yaml")
    return root


def test_a_payers_own_policy_wins_over_the_default(tmp_path: Path) -> None:
    root = _copy_library(tmp_path)
    text = (root / "policies" / "knee-mri.yaml").read_text()
    own = text.replace("id: knee-mri", "id: knee-mri-uhc").replace('payers: ["*"]', "payers: [uhc]")
    (root / "policies" / "knee-mri-uhc.yaml").write_text(own)
    lib = load_library(root)
    service = Code(CPT, "73721", None)
    assert lib.policy_for(service, "uhc").id == "knee-mri-uhc"  # type: ignore[union-attr]
    assert lib.policy_for(service, "aetna").id == "knee-mri"  # type: ignore[union-attr]
    assert lint(root) == []


def test_lint_reports_each_problem_with_file_and_line(tmp_path: Path) -> None:
    root = _copy_library(tmp_path)
    path = root / "policies" / "lumbar-spine-mri.yaml"
    text = path.read_text()
    text = text.replace("valueset: low-back-pain,", "valueset: no-such-set,")
    text = text.replace("guidelines: [acr-low-back-pain-2021,", "guidelines: [made-up-guideline,")
    text = text.replace("  - id: lbp-red-flag", "  - id: lbp-duration-6wk")
    path.write_text(text)
    (root / "policies" / "copy.yaml").write_text(
        (root / "policies" / "knee-mri.yaml").read_text().replace("id: knee-mri", "id: knee-mri-copy")
    )
    problems = lint(root)
    lines = "\n".join(problems)
    assert f"{path}:21: unknown value set 'no-such-set'" in lines
    assert "duplicate criterion id 'lbp-duration-6wk'" in lines
    assert "guideline 'made-up-guideline' is not in guidelines.yaml" in lines
    assert "combine names 'lbp-red-flag', which is not a criterion of this policy" in lines
    assert "cpt 73721 for payer '*' is already claimed by" in lines
    assert all(line.split(":")[1].isdigit() for line in problems)


def test_lint_schema_error_and_bad_fhirpath(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy_library(tmp_path)
    path = root / "policies" / "knee-mri.yaml"
    text = path.read_text().replace("withinDaysBefore: 365}", 'withinDaysBefore: 365, where: "code.coding.where("}')
    path.write_text(text.replace('publisher: "Aetna', 'publisherr: "Aetna'))
    assert main(["criteria", "lint", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:1: (top level): Additional properties are not allowed ('publisherr' was unexpected)" in out
    path.write_text(text)
    problems = lint(root)
    assert any("FHIRPath does not parse: 'code.coding.where('" in p and str(path) in p for p in problems)
    assert main(["criteria", "lint"]) == 0


def test_lint_one_file_against_the_shipped_library(tmp_path: Path) -> None:
    good = tmp_path / "policies" / "new.yaml"
    good.parent.mkdir()
    good.write_text(
        (content_dir("criteria") / "policies" / "knee-mri.yaml")
        .read_text()
        .replace("id: knee-mri", "id: knee-mri-aetna")
        .replace('payers: ["*"]', "payers: [aetna]")
    )
    assert lint(good) == []
    assert lint(tmp_path / "policies" / "missing.yaml") == [f"{tmp_path / 'policies' / 'missing.yaml'}:1: no such file"]


def test_no_policy_on_file_gives_the_generic_outline() -> None:
    denial = Denial("cr", "ClaimResponse/cr", None, None, None, None, None, "Payer", None, None,
                    [DenialItem(1, "denied", None, None, [], [], Code(CPT, "12345", None), None)], [], [])  # fmt: skip
    part = criteria_for(denial, chart(), "uhc", date(2026, 11, 23))
    assert part["policy"] is None and part["criteria"] == []
    assert part["noPolicy"].startswith("No policy on file for CPT 12345")
    assert len(part["genericOutline"]) == 3


def test_a_ten_thousand_resource_chart_is_evaluated_correctly() -> None:
    request = date(2026, 11, 16)
    noise = [procedure("99213", (request - timedelta(days=i % 3000)).isoformat()) for i in range(9_000)]
    noise += [condition("I10", (request - timedelta(days=i % 3000)).isoformat()) for i in range(997)]
    facts = [condition("M54.16", "2026-09-01"), statement("5640", "2026-09-05", "2026-11-01")]
    lib = library()
    big = chart(*noise, *facts)
    assert len(big.index) == 10_000  # 9,999 clinical resources and the patient
    started = time.perf_counter()
    result = evaluate_policy(
        next(p for p in lib.policies if p.id == "lumbar-spine-mri"), lib, index_chart(big, lib.ingredients), request
    )
    elapsed = time.perf_counter() - started
    assert result["policyResult"] == "meets"
    assert elapsed < 30  # a guard against a hang, not a benchmark (see tests/bench/bench_criteria.py)


@pytest.mark.parametrize("ndc", ["0074-0554-02", "00074055402"])
def test_ndc_in_either_form_finds_the_drug_policy(ndc: str) -> None:
    found = library().policy_for(Code("http://hl7.org/fhir/sid/ndc", ndc, None), None)
    assert found is not None and found.id == "tnf-inhibitor-ra"


def test_lint_catches_rules_the_engine_would_ignore(tmp_path: Path) -> None:
    root = _copy_library(tmp_path)
    path = root / "policies" / "brain-mri-headache.yaml"
    text = path.read_text().replace(
        "- {find: condition, valueset: neuro-deficit}", "- {find: medication, valueset: neuro-deficit, minCount: 2}"
    )
    text = text.replace(
        "- {find: condition, valueset: headache-red-flags}",
        "- {find: condition, valueset: headache-red-flags, minDays: 9}",
    )
    path.write_text(text)
    lines = "\n".join(lint(root))
    assert "value set 'neuro-deficit' holds condition codes but the rule finds medication" in lines
    assert "minDays applies to medication or procedure courses, not to condition" in lines
    assert "minCount needs minDays" in lines
