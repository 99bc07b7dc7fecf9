"""The P2P request window of one denial: every rule that applies (payer, delegate, default), the stricter one
chosen, the time left, and whether the P2P route is still open.

Pure arithmetic over the rules and a clock given by the caller: no "now" is read here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from smart_app.denials.deadlines import WindowRule, p2p_deadline
from smart_app.denials.pas import Denial
from smart_app.denials.payers import P2PRule, PayerRules, source

URGENT_HOURS = 24
NO_P2P_DECISIONS = {
    "approved": "No P2P: the request was certified.",
    "no-action": "No P2P: the payer says no review was needed.",
    "cancelled": "No P2P: the request was cancelled.",
    "rejected": "No P2P: the payer rejected the request as submitted; correct and resubmit it.",
}
STATUS_WORDS = {
    "published": "published by the payer",
    "practice-reported": "practice-reported, not found in a published payer source — verify with the payer",
    "conservative-default": "a conservative default, no rule on file — verify with the payer",
    "letter": "stated in the payer's letter for this denial",
}
TRUSTED_STATUSES = ("published", "letter")


def _rule_windows(rule: P2PRule, setting: str | None) -> list[tuple[str | None, dict[str, Any]]]:
    """The windows of a rule for this setting; with the setting unknown, every setting's window (earliest wins)."""
    by_setting = rule.facts.get("windowBySetting", {})
    if setting and setting in by_setting:
        return [(setting, by_setting[setting])]
    base = [(setting if by_setting else None, rule.window)] if rule.window else []
    if setting is None and by_setting:
        return base + [(name, window) for name, window in by_setting.items()]
    return base


def _source_text(source_id: str) -> str:
    found = source(source_id)
    return f"{found['title']} — {found['url']}" if found.get("url") else found["title"]


def _candidates(rule: P2PRule, denial: Denial, decided_at: datetime, zone: ZoneInfo) -> list[dict[str, Any]]:
    found = []
    for setting, window in _rule_windows(rule, denial.setting):
        deadline = p2p_deadline(decided_at, WindowRule(window["amount"], window["unit"]), zone)
        label = f" ({setting})" if setting else ""
        found.append(
            {
                "owner": rule.owner,
                "closesAt": deadline.closes_at,
                "basis": f"{rule.owner}{label}: {deadline.basis}",
                "status": window["status"],
                "statusText": STATUS_WORDS[window["status"]],
                "source": _source_text(window["source"]),
            }
        )
    return found


def _letter_candidate(denial: Denial, decided_at: datetime, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The window the letter states, as one more candidate: the earliest deadline of all wins."""
    stated = denial.letter_window
    if stated is None:
        return []
    deadline = p2p_deadline(decided_at, WindowRule(stated.amount, stated.unit), zone)
    page = f", page {stated.page}" if stated.page else ""
    return [
        {
            "owner": "the letter",
            "closesAt": deadline.closes_at,
            "basis": f"the letter says “{stated.words}”: {deadline.basis}",
            "status": "letter",
            "statusText": STATUS_WORDS["letter"],
            "source": f"the payer's letter{page}: “{stated.words}”",
        }
    ]


def time_left(closes_at: datetime, now: datetime) -> str:
    """What is left of a deadline at ``now``, as a person reads it ("5 d 14 h", "3 h 20 min", "closed")."""
    seconds = int(closes_at.timestamp() - now.timestamp())  # elapsed time, right across a DST change
    if seconds <= 0:
        return "closed"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min"


def _fact(rules: list[P2PRule], name: str) -> dict[str, str] | None:
    for rule in rules:
        fact = rule.facts.get(name)
        if fact:
            return {"text": fact["text"], "source": _source_text(fact["source"]), "owner": rule.owner}
    return None


RESTRICTIVENESS = ("not-offered", "before-decision-only", "after-denial", "unknown")


def _route(payer_rules: PayerRules, denial: Denial) -> tuple[str, str | None, str | None]:
    """Whether a P2P can change this decision: ``open``, ``before-decision`` (pended: ask now) or ``closed``.

    The most restrictive rule wins: the payer's, the delegate's, and the plan type's sourced default.
    """
    rules = [*payer_rules.rules]
    if payer_rules.plan_default and payer_rules.plan_default.facts.get("offeredSource"):
        rules.append(payer_rules.plan_default)
    deciding = min(rules, key=lambda r: RESTRICTIVENESS.index(r.offered) if r.offered in RESTRICTIVENESS else 3)
    offered = deciding.offered
    text = deciding.facts.get("offeredText")
    source_id = deciding.facts.get("offeredSource")
    source_text = _source_text(source_id) if source_id else None
    if offered == "before-decision-only":
        if denial.decision == "pended":
            return "before-decision", text, source_text
        return "closed", text, source_text
    if offered == "not-offered":
        return "closed", text, source_text
    return "open", text, source_text


def p2p_window(
    denial: Denial, payer_rules: PayerRules, zone: ZoneInfo, now: datetime, state: str | None = None
) -> dict[str, Any]:
    """The ``p2pWindow`` of the brief JSON: ``deadline``, ``basis``, ``source`` and what the page needs."""
    rules = payer_rules.rules
    route, offered_text, offered_source = _route(payer_rules, denial)
    window_texts = [t for r in rules for t in (r.facts.get("windowText"), r.facts.get("windowNote")) if t]
    result: dict[str, Any] = {
        "deadline": None,
        "basis": None,
        "source": None,
        "status": None,
        "statusText": None,
        "verify": True,
        "timeLeft": None,
        "hoursLeft": None,
        "urgent": False,
        "closed": route == "closed",
        "route": route,
        "routeText": offered_text,
        "routeSource": offered_source,
        "candidates": [],
        "notes": [*payer_rules.notes, *window_texts],
        "schedule": _fact(list(reversed(rules)), "schedule"),
        "whoMustCall": _fact(list(reversed(rules)), "whoMustCall"),
        "considers": _fact(list(reversed(rules)), "considers"),
        "appealClock": _fact(list(reversed(rules)), "appealClock"),
        "routing": _routing(payer_rules, state),
    }
    if denial.decision in NO_P2P_DECISIONS:
        result.update(basis=NO_P2P_DECISIONS[denial.decision], verify=False, route="none", closed=False)
        return result
    if denial.decision == "pended":
        if route == "before-decision":
            result["basis"] = "Ask before the payer decides: this payer hears a P2P only before its decision."
        else:
            result["basis"] = "Pended, not decided: no P2P clock has started. Send what the payer asked for."
        return result
    if denial.decided_at is None:
        result["basis"] = "The answer carries no decision date: take the window from the denial letter."
        return result
    decided_at = denial.decided_at
    if decided_at.tzinfo is None:  # a date with no time: the start of that day where the practice is
        decided_at = decided_at.replace(tzinfo=zone)
        result["notes"].append(
            "The decision has a date but no time: the clock starts at 00:00 that day in the practice's time zone."
        )
    candidates = [c for r in rules for c in _candidates(r, denial, decided_at, zone)]
    candidates += _letter_candidate(denial, decided_at, zone)
    if not candidates:
        result["basis"] = "The rules on file state no day count for this payer: read the window from the denial letter."
        return result
    chosen = min(candidates, key=lambda c: c["closesAt"].timestamp())
    basis = chosen["basis"]
    if len(candidates) > 1:
        others = "; ".join(c["basis"] for c in candidates if c is not chosen)
        basis += f". Stricter than {others} — the earlier deadline applies."
    hours_left = (chosen["closesAt"].timestamp() - now.timestamp()) / 3600
    result.update(
        deadline=chosen["closesAt"].isoformat(),
        basis=basis,
        source=chosen["source"],
        status=chosen["status"],
        statusText=chosen["statusText"],
        verify=chosen["status"] not in TRUSTED_STATUSES,
        timeLeft=time_left(chosen["closesAt"], now),
        hoursLeft=round(hours_left, 1),
        urgent=0 < hours_left < URGENT_HOURS and route != "closed",
        closed=route == "closed" or hours_left <= 0,
        candidates=[{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in c.items()} for c in candidates],
    )
    if hours_left <= 0 and route != "closed":
        result["routeText"] = (
            f"The P2P request window closed {chosen['closesAt']:%Y-%m-%d %H:%M %Z}: the written appeal is next."
        )
    return result


def _routing(payer_rules: PayerRules, state: str | None) -> dict[str, str] | None:
    for match in (payer_rules.payer, payer_rules.delegate):
        routing = match.entry.get("routing") if match else None
        if routing and (not routing.get("states") or state in routing["states"]):
            return {"text": routing["text"], "source": _source_text(routing["source"])}
    return None


def decision_date_warning(denial: Denial, now: datetime) -> str | None:
    """A warning when the decision date is in the future (a typo or a clock problem at the payer)."""
    if denial.decided_at and denial.decided_at.tzinfo and denial.decided_at.timestamp() > now.timestamp():
        return (
            f"The decision date {denial.decided_at:%Y-%m-%d %H:%M} is in the future; the deadline is counted from "
            "it anyway — check the date on the payer's letter."
        )
    return None
