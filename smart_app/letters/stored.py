"""A letter's reading as plain JSON for storage, and back: each field with its value and its source line (page,
text, box), so the review page can quote and highlight it and a confirmed letter becomes the same ``LetterFields``
every time its case is opened."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from typing import Any

from smart_app.letters.model import Box, Found, LetterFields, LetterReading, Service, Source, Window

DATE_FIELDS = frozenset({"birth_date", "appeal_deadline"})
FIELD_NAMES = tuple(f.name for f in dataclass_fields(LetterFields) if f.name not in ("services", "notes"))


def _source_json(source: Source) -> dict[str, Any]:
    box = source.box
    return {
        "page": source.page,
        "text": source.text,
        "box": None if box is None else [box.left, box.top, box.right, box.bottom],
    }


def _source(data: dict[str, Any]) -> Source:
    box = data.get("box")
    return Source(int(data["page"]), str(data["text"]), Box(*map(float, box)) if box else None)


def _value_json(value: Any) -> Any:
    if isinstance(value, Service):
        return {"system": value.system, "code": value.code, "units": value.units}
    if isinstance(value, Window):
        return {"amount": value.amount, "unit": value.unit, "text": value.text}
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _value(name: str, data: Any) -> Any:
    if name == "p2p_window":
        return Window(int(data["amount"]), str(data["unit"]), str(data["text"]))
    if name in DATE_FIELDS:
        return date.fromisoformat(data)
    if name == "decided_at":
        return datetime.fromisoformat(data) if "T" in data else date.fromisoformat(data)
    return data


def _found_json(found: Found[Any] | None) -> dict[str, Any] | None:
    return None if found is None else {"value": _value_json(found.value), "source": _source_json(found.source)}


def fields_json(fields: LetterFields) -> dict[str, Any]:
    """The fields as JSON: ``{name: {"value", "source"} | None, "services": [...], "notes": [...]}``."""
    data: dict[str, Any] = {name: _found_json(getattr(fields, name)) for name in FIELD_NAMES}
    data["services"] = [_found_json(s) for s in fields.services]
    data["notes"] = list(fields.notes)
    return data


def fields_from_json(data: dict[str, Any]) -> LetterFields:
    """The ``LetterFields`` stored as ``fields_json``."""
    values: dict[str, Any] = {}
    for name in FIELD_NAMES:
        found = data.get(name)
        values[name] = None if found is None else Found(_value(name, found["value"]), _source(found["source"]))
    services = tuple(
        Found(
            Service(str(s["value"]["system"]), str(s["value"]["code"]), s["value"].get("units")), _source(s["source"])
        )
        for s in data.get("services") or []
    )
    return LetterFields(**values, services=services, notes=tuple(data.get("notes") or ()))


def reading_json(reading: LetterReading) -> dict[str, Any]:
    """What the review page needs of a reading: the fields, and each page's number and OCR confidence."""
    return {
        "fields": fields_json(reading.fields),
        "pages": [
            {
                "number": p.number,
                "ocrUsed": p.ocr_used,
                "ocrConfidence": p.ocr_confidence,
                "lines": len(p.lines),
                "note": p.note,
                "rotation": p.rotation,  # the page image is turned as OCR turned the page, so the boxes fall on it
            }
            for p in reading.text.pages
        ],
    }
