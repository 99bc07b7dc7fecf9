"""Logging that never carries a secret: Authlib logs every token it issues (``"Issue token %r"``) and every
assertion it checks at DEBUG, so its loggers are capped at INFO whatever level the rest of the app logs at.
(The demo EHR is an Authlib server in the same process as the app.)"""

from __future__ import annotations

import logging

SECRET_BEARING_LOGGERS = ("authlib",)


def cap_secret_bearing_loggers() -> None:
    """Keep the libraries that log tokens at DEBUG from doing so, even when the app runs at DEBUG."""
    for name in SECRET_BEARING_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
