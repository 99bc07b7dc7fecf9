"""How a measured value reads to a person: ``8 {score}`` on a 0-10 rating is "8 on a 0–10 scale", UCUM's
bracketed forms lose their brackets (``mm[Hg]`` -> mmHg), and an annotation-only unit (``{score}``, ``{beats}``;
UCUM says it means 1) is said in words. The value itself is never changed."""

from __future__ import annotations

import re

#: "0-10 verbal numeric rating", "0–10 scale", "(0-100) score" in an Observation's name: the scale the value is on.
SCALE = re.compile(r"\b(\d+)\s*[-–]\s*(\d+)\b(?=[^\d]*\b(?:rating|scale|score)\b)", re.IGNORECASE)
ANNOTATION = re.compile(r"^\{([^{}]*)\}$")


def quantity_words(value: float, unit: str | None, name: str = "") -> str:
    """``value`` with its unit as a person reads it; ``name`` (the observation's) may say which scale it is on."""
    number = f"{value:g}"
    scale = SCALE.search(name or "")
    unit = (unit or "").strip()
    annotation = ANNOTATION.match(unit)
    if scale and (not unit or annotation or unit == "1"):
        return f"{number} on a {scale.group(1)}–{scale.group(2)} scale"
    if annotation:
        words = annotation.group(1).replace("_", " ").strip()
        return f"{number} ({words})" if words else number
    if unit in ("", "1"):
        return number
    return f"{number} {unit.replace('[', '').replace(']', '')}"
