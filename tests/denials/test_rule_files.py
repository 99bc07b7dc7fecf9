"""The rule files load only when they match their schemas, and a broken one names the file and the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from smart_app.content import content_dir
from smart_app.errors import InputError
from smart_app.rule_files import validate_rule_file


@pytest.mark.parametrize("name", ["payers", "reviewer-rights", "triage"])
def test_shipped_rule_files_match_their_schemas(name: str) -> None:
    assert validate_rule_file(content_dir("criteria") / f"{name}.yaml", name)


def test_a_window_without_a_source_is_refused(tmp_path: Path) -> None:
    text = (content_dir("criteria") / "payers.yaml").read_text()
    broken = tmp_path / "payers.yaml"
    broken.write_text(
        text.replace(
            "window: {amount: 21, unit: calendar-days, status: published, source: uhc-appeals}",
            "window: {amount: 21, unit: calendar-days, status: published}",
            1,
        )
    )
    with pytest.raises(InputError, match=r"payers\.yaml: payers/0/p2p/window: 'source' is a required property"):
        validate_rule_file(broken, "payers")


def test_a_rule_without_its_quoted_text_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "reviewer-rights.yaml"
    broken.write_text("rules:\n  - id: x\n    citation: y\nnoRule: {say: ask}\n")
    with pytest.raises(InputError, match="reviewer-rights.yaml: rules/0: 'planTypes' is a required property"):
        validate_rule_file(broken, "reviewer-rights")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "triage.yaml"
    broken.write_text("categories:\n  medical-necessity: [unclosed\n")
    with pytest.raises(InputError, match=r"triage\.yaml:\d+: not valid YAML"):
        validate_rule_file(broken, "triage")
