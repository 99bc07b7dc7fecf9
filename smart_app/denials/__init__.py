"""Denials: read the payer's prior-authorization answer exactly as written (Da Vinci PAS and plain R4)."""

from smart_app.denials.pas import Denial, DenialItem, open_denials, read_denial, service_text

__all__ = ["Denial", "DenialItem", "open_denials", "read_denial", "service_text"]
