"""Recognise the payer behind a denial and find its P2P rule in ``criteria/payers.yaml``.

The ClaimResponse's insurer may be a delegate (eviCore, Carelon, Evolent) reviewing for the plan the Coverage
names; a plan may delegate a service group (advanced imaging, say) to one. When both rules apply, both are
returned, so the deadline can take the stricter one. A payer not on file falls back to its plan type's default,
which always carries "verify with the payer".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from smart_app.denials.pas import Denial
from smart_app.rule_files import rule_file

PAYER_ID_TYPES = frozenset({"payerid", "PI", "NIIP"})


@dataclass(frozen=True)
class PayerMatch:
    """A payers.yaml entry recognised for an Organization, and how it was recognised."""

    key: str
    name: str
    kind: str  # payer | delegate
    matched_by: str
    entry: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class P2PRule:
    """One P2P rule that applies to a denial: whose it is, the facts it states, and the sources behind them."""

    owner: str  # who the rule belongs to, e.g. "Cigna", "eviCore (reviewing for Cigna)", "Medicare Advantage default"
    role: str  # payer | delegate | plan-type-default | fallback
    facts: dict[str, Any] = field(compare=False)

    @property
    def window(self) -> dict[str, Any] | None:
        """``{"amount", "unit", "source", "status"}`` or None when no window is stated."""
        return self.facts.get("window")

    @property
    def offered(self) -> str:
        """``after-denial``, ``before-decision-only``, ``not-offered`` or ``unknown``."""
        return str(self.facts.get("offered", "unknown"))


def payers() -> list[dict[str, Any]]:
    """Every payer and delegate entry of ``criteria/payers.yaml``."""
    return list(rule_file("payers")["payers"])


def source(source_id: str) -> dict[str, Any]:
    """A source of ``criteria/payers.yaml`` by id (title, url, checked, quote)."""
    return dict(rule_file("payers")["sources"][source_id])


def _payer_ids(org: dict[str, Any]) -> set[str]:
    ids = set()
    for identifier in org.get("identifier") or []:
        if not isinstance(identifier, dict) or not identifier.get("value"):
            continue
        codes = {c.get("code") for c in (identifier.get("type") or {}).get("coding") or [] if isinstance(c, dict)}
        if codes & PAYER_ID_TYPES or "payer" in str(identifier.get("system", "")).lower():
            ids.add(str(identifier["value"]).strip())
    return ids


def recognise(org: dict[str, Any] | None) -> PayerMatch | None:
    """The payers.yaml entry for an Organization: by payer ID first, then by name (whole words, any case)."""
    if not org:
        return None
    ids = _payer_ids(org)
    name = str(org.get("name") or "")
    aliases = [name, *(str(a) for a in org.get("alias") or [])]
    for entry in payers():
        shared = ids & {str(i) for i in entry["match"].get("payerIds", [])}
        if shared:
            return PayerMatch(entry["key"], entry["name"], entry.get("kind", "payer"), f"payer ID {min(shared)}", entry)
    for entry in payers():
        for pattern in entry["match"].get("names", []):
            regex = re.compile(rf"\b{re.escape(pattern)}\b", re.IGNORECASE)
            hit = next((a for a in aliases if regex.search(a)), None)
            if hit:
                return PayerMatch(entry["key"], entry["name"], entry.get("kind", "payer"), f"name “{hit}”", entry)
    return None


def recognise_name(name: str | None) -> PayerMatch | None:
    """The entry for a payer named in words (a hand-entered denial)."""
    return recognise({"name": name}) if name else None


def _service_groups() -> dict[str, dict[str, Any]]:
    return dict(rule_file("payers").get("serviceGroups", {}))


def service_groups_of(code: str | None) -> list[str]:
    """The service groups (``advanced-imaging``, ...) a CPT/HCPCS code falls in, by the ranges in payers.yaml."""
    if not code:
        return []
    found = []
    for key, group in _service_groups().items():
        for low, high in group.get("ranges", []):
            if len(code) == len(low) and low <= code <= high:
                found.append(key)
                break
    return found


def _merged(entry: dict[str, Any], plan_type: str | None) -> dict[str, Any]:
    facts = dict(entry.get("p2p", {}))
    if plan_type:
        facts.update(entry.get("byPlanType", {}).get(plan_type, {}))
    return facts


def _default(plan_type: str | None) -> P2PRule:
    plan_types = rule_file("payers")["planTypes"]
    if plan_type in plan_types:
        label = plan_types[plan_type]["label"]
        return P2PRule(f"{label} default", "plan-type-default", dict(plan_types[plan_type]["default"]))
    return P2PRule("Default for an unknown payer and plan", "fallback", dict(rule_file("payers")["fallback"]))


@dataclass(frozen=True)
class PayerRules:
    """The payer (or None), the delegate (or None) and the P2P rules that apply, payer's first."""

    payer: PayerMatch | None
    delegate: PayerMatch | None
    rules: list[P2PRule]
    notes: list[str]
    plan_default: P2PRule | None = None  # the plan type's default: its sourced limits on the P2P route still apply


def _delegation(payer: PayerMatch, service_code: str | None) -> tuple[PayerMatch, dict[str, Any]] | None:
    groups = set(service_groups_of(service_code))
    for delegation in payer.entry.get("delegations", []):
        if groups & set(delegation["services"]):
            delegate = next((e for e in payers() if e["key"] == delegation["to"]), None)
            if delegate:
                return PayerMatch(delegate["key"], delegate["name"], "delegate", "delegation", delegate), delegation
    return None


def rules_for(denial: Denial, plan_type: str | None, service_code: str | None) -> PayerRules:
    """The P2P rules for ``denial``: the plan's own, a delegate's where one reviews, or the plan-type default."""
    insurer = recognise(denial.insurer) or recognise_name(denial.payer_name)
    plan = recognise(denial.plan_payer)
    notes: list[str] = []
    payer, delegate = insurer, None
    if insurer and insurer.kind == "delegate":
        delegate, payer = insurer, plan if plan and plan.kind == "payer" else None
        notes.append(
            f"{delegate.name} made this decision"
            + (f" for {payer.name} (the plan on the Coverage)." if payer else "; the plan behind it is not on file.")
        )
    elif insurer is None and plan is not None:
        payer = plan
    if payer and delegate is None:
        found = _delegation(payer, service_code)
        if found:
            delegate, delegation = found
            notes.append(
                f"{payer.name} delegates review of this service to {delegate.name}"
                f" ({delegation.get('text', 'per payers.yaml')}): if the letter comes from {delegate.name}, "
                f"request the P2P through {delegate.name}."
            )
    rules: list[P2PRule] = []
    if payer:
        rules.append(P2PRule(payer.name, "payer", _merged(payer.entry, plan_type)))
    if delegate:
        owner = f"{delegate.name} (reviewing for {payer.name})" if payer else delegate.name
        rules.append(P2PRule(owner, "delegate", _merged(delegate.entry, plan_type)))
    if not rules:
        rules.append(_default(plan_type))
        notes.append(
            f"The payer ({denial.payer_name or 'not named'}) is not in criteria/payers.yaml: "
            "the window below is a default — verify with the payer."
        )
    plan_default = _default(plan_type) if plan_type else None
    return PayerRules(payer, delegate, rules, notes, plan_default)
