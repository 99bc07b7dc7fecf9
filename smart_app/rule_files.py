"""Load the rule files in ``criteria/`` (YAML), each checked against its JSON Schema in ``criteria/schemas/``.

A rule file that does not match its schema stops the app with the file and the place that is wrong: a payer
window or a legal citation read from a broken file would be worse than no brief.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from smart_app.content import content_dir
from smart_app.errors import InputError


def _schema(name: str) -> dict[str, Any]:
    path = content_dir("criteria") / "schemas" / f"{name}.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


def validate_rule_file(path: Path, schema_name: str) -> dict[str, Any]:
    """Parse ``path`` as YAML and check it against ``criteria/schemas/<schema_name>.schema.json``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise InputError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    validator = jsonschema.Draft202012Validator(_schema(schema_name))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise InputError(f"{path}: {where}: {first.message}")
    return data


@cache
def rule_file(name: str) -> dict[str, Any]:
    """``criteria/<name>.yaml``, validated against its schema (cached for the process)."""
    return validate_rule_file(content_dir("criteria") / f"{name}.yaml", name)
