"""Denials: read the payer's prior-authorization answer exactly as written, and the clock it starts."""

from smart_app.denials.deadlines import Deadline, WindowRule, add_business_days, is_business_day, p2p_deadline
from smart_app.denials.pas import Denial, DenialItem, open_denials, read_denial, service_text

__all__ = [
    "Deadline",
    "Denial",
    "DenialItem",
    "WindowRule",
    "add_business_days",
    "is_business_day",
    "open_denials",
    "p2p_deadline",
    "read_denial",
    "service_text",
]
