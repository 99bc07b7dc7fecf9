"""Locate the content folders (fhir/, criteria/, templates/, launch/) in a wheel or a source checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CONTENT_FOLDERS = ("fhir", "criteria", "templates", "launch")


def content_dir(name: str) -> Path:
    """Return the folder holding one of the top-level content folders.

    In a wheel the build backend maps them to ``smart_app/_content/<name>``; in an editable install or a
    plain checkout they stand beside the package, at the project root.
    """
    if name not in CONTENT_FOLDERS:
        raise ValueError(f"unknown content folder {name!r}; expected one of {', '.join(CONTENT_FOLDERS)}")
    packaged = Path(str(resources.files("smart_app") / "_content" / name))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name
