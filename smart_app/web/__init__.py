"""The web layer: the Flask app factory and one blueprint per surface (launch, denials, brief, outcome, health)."""

from smart_app.web.app import create_app

__all__ = ["create_app"]
