"""Where each field of a denial was read, in words a person can check against the record: the element path in the
payer's answer (``ClaimResponse.item[0].adjudication[0].extension(reviewAction).reasonCode``), the letter's line
(``letter page 1: 'Reference number A265903318'``), or "typed by hand".

The readers call this as they read (``pas.read_denial``, ``pdex.read_eob_denial``, ``hand_entry``,
``letters.denial``), so the path names the element the value really came from, found the way the reader finds it:
a PAS ClaimResponse keeps its service on the Claim (joined by ``item.sequence``), a PDex EOB on its own item; a
decision time is PDex's ``adjudicationActionDate`` before ``created``. The P2P window is never in the answer: it is
the payer's rule on file unless a letter states one. Pure functions over plain JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

FIELDS = ("decidedOn", "reason", "preAuthRef", "service", "p2pWindow", "reviewer", "payer")
TYPED_BY_HAND = "typed by hand"
RULES_ON_FILE = "the payer's rules on file (criteria/payers.yaml), counted from the decision"


def _ends(ext: Any, name: str) -> bool:
    return isinstance(ext, dict) and str(ext.get("url") or "").endswith(name)


def _dicts(values: Any) -> list[dict[str, Any]]:
    return [v for v in values or [] if isinstance(v, dict)] if isinstance(values, list) else []


def _adjudications(answer: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each adjudication with its path: the items' first, then the header's."""
    for i, item in enumerate(answer.get("item") or []):
        for j, adjudication in enumerate(_dicts((item or {}).get("adjudication"))):
            yield f"{kind}.item[{i}].adjudication[{j}]", adjudication
    for j, adjudication in enumerate(_dicts(answer.get("adjudication"))):
        yield f"{kind}.adjudication[{j}]", adjudication


def _review_action_part(answer: dict[str, Any], kind: str, part: str) -> str | None:
    for path, adjudication in _adjudications(answer, kind):
        for ext in (e for e in adjudication.get("extension") or [] if _ends(e, "extension-reviewAction")):
            if any(isinstance(s, dict) and s.get("url") == part for s in ext.get("extension") or []):
                return f"{path}.extension(reviewAction).{part}"
    return None


def _decided(answer: dict[str, Any], kind: str) -> str | None:
    for path, adjudication in _adjudications(answer, kind):
        if any(_ends(e, "base-ext-when-adjudicated") for e in adjudication.get("extension") or []):
            return f"{path}.extension(adjudicationActionDate)"
    return f"{kind}.created" if answer.get("created") else None


def _reason(answer: dict[str, Any], kind: str) -> str | None:
    parts = [_review_action_part(answer, kind, "reasonCode")]
    for i, item in enumerate(_dicts(answer.get("item"))):
        adjudications = _dicts(item.get("adjudication"))
        if any(c.get("code") == "denialreason" for a in adjudications for c in _codings(a.get("category"))):
            parts.append(f"{kind}.item[{i}].adjudication(denialreason)")
        elif any(a.get("reason") for a in adjudications):
            parts.append(f"{kind}.item[{i}].adjudication.reason")
    notes = {n.get("number"): k for k, n in enumerate(_dicts(answer.get("processNote"))) if n.get("text")}
    used = [notes[n] for item in _dicts(answer.get("item")) for n in item.get("noteNumber") or [] if n in notes]
    parts += [f"{kind}.processNote[{k}].text" for k in dict.fromkeys(used or list(notes.values()))]
    parts.append(f"{kind}.disposition" if answer.get("disposition") else None)
    found = [p for p in dict.fromkeys(parts) if p]
    return " + ".join(found) if found else None


def _codings(concept: Any) -> list[dict[str, Any]]:
    return _dicts((concept or {}).get("coding")) if isinstance(concept, dict) else []


def _reference(answer: dict[str, Any], kind: str) -> str | None:
    if answer.get("preAuthRef"):
        return f"{kind}.preAuthRef"
    if any(_ends(e, "extension-authorizationNumber") for e in answer.get("extension") or []):
        return f"{kind}.extension(authorizationNumber)"
    for i, item in enumerate(_dicts(answer.get("item"))):
        for name in ("authorizationNumber", "administrationReferenceNumber"):
            if any(_ends(e, f"extension-{name}") for e in item.get("extension") or []):
                return f"{kind}.item[{i}].extension({name})"
    return _review_action_part(answer, kind, "number")


def _service(answer: dict[str, Any], kind: str, claim: dict[str, Any] | None) -> str | None:
    if kind == "ExplanationOfBenefit":
        items = _dicts(answer.get("item"))
        return next((f"{kind}.item[{i}].productOrService" for i, it in enumerate(items) if it.get("productOrService")),
                    None)  # fmt: skip
    requested = _dicts((claim or {}).get("item"))
    for k, item in enumerate(requested):
        if item.get("productOrService"):
            return f"Claim.item[{k}].productOrService (joined by item.sequence)"
    added = _dicts(answer.get("addItem"))
    return next((f"{kind}.addItem[{k}].productOrService" for k, a in enumerate(added) if a.get("productOrService")),
                None)  # fmt: skip


def answer_provenance(answer: dict[str, Any], claim: dict[str, Any] | None = None) -> dict[str, str]:
    """Where each brief field of a ClaimResponse's or PDex EOB's denial is in the resource (``claim``: the request a
    ClaimResponse answers, which holds the service); a field the answer lacks says so."""
    kind = str(answer.get("resourceType") or "ClaimResponse")
    found = {
        "decidedOn": _decided(answer, kind),
        "reason": _reason(answer, kind),
        "preAuthRef": _reference(answer, kind),
        "service": _service(answer, kind, claim),
        "p2pWindow": RULES_ON_FILE,
        "reviewer": f"{kind}.extension(claimResponseReviewer)"
        if any(_ends(e, "extension-claimResponseReviewer") for e in answer.get("extension") or [])
        else None,
        "payer": f"{kind}.insurer" if answer.get("insurer") else None,
    }
    return {name: value or f"not stated in the {kind}" for name, value in found.items()}


def typed_provenance() -> dict[str, str]:
    """Every field of a hand-entered denial: typed by hand (the window, as for any answer, from the rules)."""
    return {name: (RULES_ON_FILE if name == "p2pWindow" else TYPED_BY_HAND) for name in FIELDS}
