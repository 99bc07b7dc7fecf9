"""``p2p-brief criteria lint [PATH]``: check every file of the policy library and report ``file:line: message``.

Checks: YAML syntax, each file's JSON Schema, unknown value sets, FHIRPath that does not parse, duplicate ids,
criteria named in ``combine`` that do not exist, guideline ids missing from ``guidelines.yaml``, and two policies
claiming the same service for the same payer. A payer registry (``*payer-registry.yaml``, or the file
``P2P_PAYER_REGISTRY`` names) is checked too: its schema, payers ``payers.yaml`` does not know, and a private key
written into the file instead of named by its file or environment variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from smart_app.content import content_dir
from smart_app.criteria.evaluate import leaves, rule_expressions
from smart_app.criteria.fhirpath_check import fhirpath_syntax_error

SPECIAL = {"rxnorm-products.yaml": "rxnorm-products", "guidelines.yaml": "guidelines"}
PAYER_REGISTRY = "payer-registry"
INLINE_KEY_MARKERS = ("PRIVATE KEY", '"kty"', "'kty'")


def _line_of(node: yaml.Node | None, path: list[Any]) -> int:
    """The 1-based line of the YAML node at ``path`` (the nearest parent that exists)."""
    line = (node.start_mark.line + 1) if node else 1
    for step in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


class _File:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: Any = None
        self.node: yaml.Node | None = None

    def at(self, *path: Any) -> str:
        return f"{self.path}:{_line_of(self.node, list(path))}"


def _schema_name(path: Path) -> str | None:
    if path.name.endswith(f"{PAYER_REGISTRY}.yaml"):
        return PAYER_REGISTRY
    if path.name in SPECIAL:
        return SPECIAL[path.name]
    if path.parent.name == "policies":
        return "policy"
    if path.parent.name == "valuesets":
        return "valueset"
    return None


def _load(path: Path, schemas: Path, problems: list[str], name: str | None = None) -> _File | None:
    found = _File(path)
    try:
        text = path.read_text(encoding="utf-8")
        found.node = yaml.compose(text)
        found.data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML ({getattr(exc, 'problem', exc)})")
        return None
    name = name or _schema_name(path)
    if name is None:
        return None
    if name == PAYER_REGISTRY:
        problems.extend(_inline_keys(found, found.data, []))
    schema = json.loads((schemas / f"{name}.schema.json").read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(found.data))
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{found.at(*error.absolute_path)}: {where}: {error.message}")
    return None if errors else found


def _inline_keys(found: _File, value: Any, path: list[Any]) -> list[str]:
    """A private key written into the registry (a PEM or a JWK) instead of named: the file is shared and copied;
    the key must live in its own file or an environment variable."""
    if isinstance(value, dict):
        if "kty" in value and ("d" in value or "p" in value):
            where = "/".join(str(p) for p in path) or "(top level)"
            return [f"{found.at(*path)}: {where}: a private key is written inline (a JWK); {KEY_ADVICE}"]
        return [p for k, v in value.items() for p in _inline_keys(found, v, [*path, k])]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _inline_keys(found, v, [*path, i])]
    if isinstance(value, str) and any(marker in value for marker in INLINE_KEY_MARKERS):
        where = "/".join(str(p) for p in path) or "(top level)"
        return [f"{found.at(*path)}: {where}: a private key is written inline; {KEY_ADVICE}"]
    return []


KEY_ADVICE = "name its PEM file (privateKey: {file: PATH}) or an environment variable (privateKey: {env: NAME})"


def _check_payer_registry(registry: _File, payer_keys: set[str], problems: list[str]) -> None:
    for key in registry.data["payers"]:
        if key not in payer_keys:
            problems.append(f"{registry.at('payers', key)}: payers/{key}: {key!r} is not a payer key of payers.yaml")


COURSE_RULES = ("minDays", "minCount")


def _check_policy(
    policy: _File,
    valuesets: dict[str, str],
    guidelines: set[str],
    claimed: dict[tuple[str, str], str],
    problems: list[str],
) -> None:
    data = policy.data
    ids: set[str] = set()
    for i, criterion in enumerate(data["criteria"]):
        if criterion["id"] in ids:
            problems.append(f"{policy.at('criteria', i, 'id')}: duplicate criterion id {criterion['id']!r}")
        ids.add(criterion["id"])
        for j, evidence in enumerate(criterion["evidence"]):
            names = evidence["valueset"] if isinstance(evidence["valueset"], list) else [evidence["valueset"]]
            for name in names:
                if name not in valuesets:
                    problems.append(
                        f"{policy.at('criteria', i, 'evidence', j, 'valueset')}: unknown value set {name!r}"
                    )
                elif valuesets[name] != evidence["find"]:
                    problems.append(
                        f"{policy.at('criteria', i, 'evidence', j, 'valueset')}: value set {name!r} holds "
                        f"{valuesets[name]} codes but the rule finds {evidence['find']}"
                    )
            for rule in COURSE_RULES:
                if rule in evidence and evidence["find"] not in ("medication", "procedure"):
                    problems.append(
                        f"{policy.at('criteria', i, 'evidence', j, rule)}: {rule} applies to medication or procedure "
                        f"courses, not to {evidence['find']}"
                    )
            if "minCount" in evidence and "minDays" not in evidence:
                problems.append(f"{policy.at('criteria', i, 'evidence', j, 'minCount')}: minCount needs minDays")
            for rule, expression in rule_expressions(evidence).items():
                problem = fhirpath_syntax_error(expression)
                if problem:
                    problems.append(
                        f"{policy.at('criteria', i, 'evidence', j, rule)}: FHIRPath does not parse: "
                        f"{expression!r} ({problem})"
                    )
    for leaf in leaves(data["combine"]):
        if leaf not in ids:
            problems.append(f"{policy.at('combine')}: combine names {leaf!r}, which is not a criterion of this policy")
    for i, guideline in enumerate(data.get("guidelines", [])):
        if guideline not in guidelines:
            problems.append(f"{policy.at('guidelines', i)}: guideline {guideline!r} is not in guidelines.yaml")
    for i, service in enumerate(data["services"]):
        for payer in data["payers"]:
            key = (f"{service['system']}|{service['code']}", payer)
            if key in claimed:
                problems.append(
                    f"{policy.at('services', i)}: {service['system']} {service['code']} for payer {payer!r} is "
                    f"already claimed by {claimed[key]}"
                )
            else:
                claimed[key] = str(policy.path)


def lint(target: Path | None = None, *, schema: str | None = None) -> list[str]:
    """Every problem in the library folder ``target`` (``criteria/`` by default), or in one file of it checked
    against the shipped library's value sets and guidelines, as ``file:line: message``. ``schema`` names the
    schema of a single file whose name does not say it (``payer-registry``)."""
    shipped = content_dir("criteria")
    target = target or shipped
    schemas = shipped / "schemas"
    problems: list[str] = []
    if target.is_dir():
        paths = sorted(p for p in target.rglob("*.yaml") if _schema_name(p))
        context: dict[Path, _File | None] = {}
    else:
        if not target.exists():
            return [f"{target}:1: no such file"]
        paths = [target]
        same = target.resolve()
        context = {
            p: _load(p, schemas, []) for p in sorted(shipped.rglob("*.yaml")) if _schema_name(p) and p.resolve() != same
        }
    files = {p: _load(p, schemas, problems, schema) for p in paths}
    for path, loaded in files.items():
        if loaded and (schema or _schema_name(path)) == PAYER_REGISTRY:
            payers = yaml.safe_load((shipped / "payers.yaml").read_text(encoding="utf-8"))
            _check_payer_registry(loaded, {p["key"] for p in payers["payers"]}, problems)
    valuesets: dict[str, Path] = {}
    kinds: dict[str, str] = {}
    guidelines: set[str] = set()
    for path, loaded in [*context.items(), *files.items()]:
        if not loaded:
            continue
        if path.parent.name == "valuesets" and path.name not in SPECIAL:
            if loaded.data["id"] in valuesets and path in files:
                problems.append(
                    f"{loaded.at('id')}: value set id {loaded.data['id']!r} also in {valuesets[loaded.data['id']]}"
                )
            valuesets[loaded.data["id"]] = path
            kinds[loaded.data["id"]] = loaded.data["kind"]
        if path.name == "guidelines.yaml":
            ids = [g["id"] for g in loaded.data["guidelines"]]
            for i, gid in enumerate(ids):
                if gid in ids[:i] and path in files:
                    problems.append(f"{loaded.at('guidelines', i, 'id')}: duplicate guideline id {gid!r}")
            guidelines |= set(ids)
    policy_ids: dict[str, Path] = {}
    claimed: dict[tuple[str, str], str] = {}
    for path, loaded in [*context.items(), *files.items()]:
        if not loaded or path.parent.name != "policies":
            continue
        report = problems if path in files else []
        if loaded.data["id"] in policy_ids:
            report.append(f"{loaded.at('id')}: policy id {loaded.data['id']!r} also in {policy_ids[loaded.data['id']]}")
        policy_ids[loaded.data["id"]] = path
        _check_policy(loaded, kinds, guidelines, claimed, report)
    return problems
