"""The code systems the app reads and writes: canonical URLs, the short names policy files use, the names people
read, and the ``system|code`` keys the criteria index shares with the value sets."""

from __future__ import annotations

SYSTEMS = {
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "snomed": "http://snomed.info/sct",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "cpt": "http://www.ama-assn.org/go/cpt",
    "hcpcs": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "loinc": "http://loinc.org",
    "ndc": "http://hl7.org/fhir/sid/ndc",
}
# What a person calls each system (``CPT 72148``).
DISPLAY_NAMES = {
    "icd10cm": "ICD-10-CM",
    "snomed": "SNOMED CT",
    "rxnorm": "RxNorm",
    "cpt": "CPT",
    "hcpcs": "HCPCS",
    "loinc": "LOINC",
    "ndc": "NDC",
}
# Other spellings real feeds use for the same systems.
ALIASES = {
    "urn:oid:2.16.840.1.113883.6.90": "icd10cm",
    "http://hl7.org/fhir/sid/icd-10": "icd10cm",
    "urn:oid:2.16.840.1.113883.6.96": "snomed",
    "urn:oid:2.16.840.1.113883.6.88": "rxnorm",
    "urn:oid:2.16.840.1.113883.6.12": "cpt",
    "urn:oid:2.16.840.1.113883.6.285": "hcpcs",
    "urn:oid:2.16.840.1.113883.6.1": "loinc",
}
URL_TO_SHORT = {url: short for short, url in SYSTEMS.items()} | ALIASES


def short_system(system: str | None) -> str | None:
    """The short name (``icd10cm``) for a system URL, or None when it is not one the library uses."""
    if not system:
        return None
    return URL_TO_SHORT.get(system.rstrip("/")) or URL_TO_SHORT.get(system.replace("https://", "http://").rstrip("/"))


def code_key(system: str | None, code: str | None) -> str | None:
    """``icd10cm|M54.16``: the key the chart index and the value sets share (ICD-10 codes without their dot)."""
    short = short_system(system)
    if not short or not code:
        return None
    value = code.strip()
    if short == "icd10cm":
        value = value.replace(".", "").upper()
    elif short == "ndc":
        value = ndc11(value)
    return f"{short}|{value}"


NDC_PADDING = {(4, 4, 2): (1, 0, 0), (5, 3, 2): (0, 1, 0), (5, 4, 1): (0, 0, 1), (5, 4, 2): (0, 0, 0)}


def ndc11(code: str) -> str:
    """An NDC in the 11-digit 5-4-2 form without hyphens: hyphenated 4-4-2, 5-3-2 and 5-4-1 codes are padded with
    a leading zero in the short segment; an 11-digit code is kept; anything else is returned unchanged."""
    parts = code.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        padding = NDC_PADDING.get(tuple(len(p) for p in parts))  # type: ignore[arg-type]
        if padding:
            return "".join("0" * pad + part for pad, part in zip(padding, parts, strict=True))
    return code
