"""The brief: the view model of one denial in its chart, the JSON contract of ``p2p-brief brief``."""

from smart_app.brief.model import build_brief, denial_summary

__all__ = ["build_brief", "denial_summary"]
