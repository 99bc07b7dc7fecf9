"""The policy library in ``criteria/``: value sets, the RxNorm product map, guidelines and policies, each file
checked against its JSON Schema when loaded. ``lint`` reports problems as ``file:line`` lines instead of raising.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from smart_app.content import content_dir
from smart_app.errors import InputError
from smart_app.fhir.facts import Code
from smart_app.fhir.systems import SYSTEMS, code_key
from smart_app.rule_files import validate_rule_file


@dataclass(frozen=True)
class ValueSet:
    """Codes of one clinical idea (``nsaids``), exact or by prefix (ICD-10-CM families), with where they came from."""

    id: str
    title: str
    kind: str  # condition | medication | procedure | observation
    source: str
    exact: frozenset[str]
    prefixes: frozenset[str]
    words: tuple[str, ...] = ()  # last-resort text matches, marked as such in the evidence
    conversions: tuple[tuple[str, str, float, float], ...] = ()  # (from unit, to unit, factor, offset)

    def convert(self, value: float, unit: str | None, wanted: str) -> float | None:
        """``value`` in ``wanted`` units (``to = from × factor + offset``), or None when no conversion is on file."""
        if unit == wanted:
            return value
        for source_unit, target_unit, factor, offset in self.conversions:
            if source_unit == unit and target_unit == wanted:
                return round(value * factor + offset, 2)
        return None

    def matches(self, key: str | None) -> bool:
        """Whether a ``system|code`` key is in the value set."""
        if not key:
            return False
        if key in self.exact:
            return True
        system, _, code = key.partition("|")
        return any(f"{system}|{code[:n]}" in self.prefixes for n in range(1, len(code) + 1))


@dataclass(frozen=True)
class Policy:
    """One payer policy (or guideline-based default) and its criteria, as authored in ``criteria/policies/``."""

    id: str
    title: str
    publisher: str
    version: str
    source_url: str
    follows: str
    services: frozenset[str]
    payers: tuple[str, ...]
    criteria: tuple[dict[str, Any], ...]
    combine: dict[str, Any]
    guidelines: tuple[str, ...]
    if_upheld: str
    not_encoded: tuple[str, ...] = ()
    path: str = field(default="", compare=False)


@dataclass(frozen=True)
class Library:
    """Everything in ``criteria/`` the engine needs, loaded once."""

    valuesets: dict[str, ValueSet]
    policies: tuple[Policy, ...]
    guidelines: dict[str, dict[str, Any]]
    ingredients: dict[str, str]  # rxnorm|product or ndc|code -> rxnorm|ingredient
    ingredient_names: dict[str, str] = field(default_factory=dict)  # rxnorm|ingredient -> "ibuprofen"

    def policy_for(self, service: Code | None, payer_key: str | None) -> Policy | None:
        """The policy for a requested service: the payer's own first, else a default (``payers: ["*"]``)."""
        keys = {code_key(service.system, service.code)} if service else set()
        keys |= {self.ingredients[k] for k in list(keys) if k in self.ingredients}
        keys.discard(None)
        matching = [p for p in self.policies if p.services & keys]
        own = [p for p in matching if payer_key and payer_key in p.payers]
        default = [p for p in matching if "*" in p.payers]
        return next(iter(own or default), None)


def _key(entry: dict[str, Any]) -> str:
    return code_key(SYSTEMS[entry["system"]], str(entry["code"])) or f"{entry['system']}|{entry['code']}"


def _valueset(data: dict[str, Any]) -> ValueSet:
    exact = frozenset(_key(c) for c in data.get("codes", []) if "code" in c)
    prefixes = frozenset(
        f"{c['system']}|{str(c['prefix']).replace('.', '').upper()}" for c in data.get("codes", []) if "prefix" in c
    )
    return ValueSet(
        id=data["id"],
        title=data["title"],
        kind=data["kind"],
        source=data["source"],
        exact=exact,
        prefixes=prefixes,
        words=tuple(data.get("words", [])),
        conversions=tuple((c["from"], c["to"], c["factor"], c["offset"]) for c in data.get("conversions", [])),
    )


def _policy(data: dict[str, Any], path: Path) -> Policy:
    return Policy(
        id=data["id"],
        title=data["title"],
        publisher=data["publisher"],
        version=str(data["version"]),
        source_url=data["source"]["url"],
        follows=data["source"]["follows"],
        services=frozenset(_key(s) for s in data["services"]),
        payers=tuple(data["payers"]),
        criteria=tuple(data["criteria"]),
        combine=data["combine"],
        guidelines=tuple(data.get("guidelines", [])),
        if_upheld=data["ifUpheld"],
        not_encoded=tuple(data.get("notEncoded", [])),
        path=str(path),
    )


def load_library(root: Path | None = None) -> Library:
    """Load and schema-check every file under ``root`` (``criteria/`` by default); ``InputError`` on a bad one."""
    root = root or content_dir("criteria")
    valuesets = {}
    for path in sorted((root / "valuesets").glob("*.yaml")):
        if path.name == "rxnorm-products.yaml":
            continue
        data = validate_rule_file(path, "valueset")
        valuesets[data["id"]] = _valueset(data)
    products = validate_rule_file(root / "valuesets" / "rxnorm-products.yaml", "rxnorm-products")
    ingredients = {_key(p): f"rxnorm|{p['ingredient']}" for p in products["products"]}
    names = {f"rxnorm|{p['ingredient']}": p["ingredientName"] for p in products["products"]}
    guidelines = {g["id"]: g for g in validate_rule_file(root / "guidelines.yaml", "guidelines")["guidelines"]}
    policies = tuple(
        _policy(validate_rule_file(path, "policy"), path) for path in sorted((root / "policies").glob("*.yaml"))
    )
    for policy in policies:
        for criterion in policy.criteria:
            for evidence in criterion["evidence"]:
                for vs in _valueset_ids(evidence):
                    if vs not in valuesets:
                        raise InputError(f"{policy.path}: criterion {criterion['id']}: unknown value set {vs!r}")
    return Library(valuesets, policies, guidelines, ingredients, names)


def _valueset_ids(evidence: dict[str, Any]) -> list[str]:
    value = evidence.get("valueset")
    return list(value) if isinstance(value, list) else [value] if value else []


@cache
def library() -> Library:
    """The shipped library (cached for the process)."""
    return load_library()


__all__ = ["Library", "Policy", "ValueSet", "library", "load_library"]
