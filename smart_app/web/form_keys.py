"""One-time form keys: each form that creates a record carries a random key, so a second submit of the same form
(Back, then submit again) shows the first result instead of writing a second one. A call note and a hand-entered
denial keep the key on their own rows (unique there, so two submits at once make one); the scheduling log, drafts
and brief edits keep it with the path of what they made (``store.form_submissions``)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, redirect, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from smart_app.smart.launch import LaunchContext
from smart_app.store.form_submissions import earlier_result, remember_result

FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def submitted_form_key() -> str | None:
    """The key the submitted form carries, or None (a form without one, or anything but a key we would issue)."""
    key = request.form.get("form_key", "")
    return key if FORM_KEY.fullmatch(key) else None


def form_key_for(form: Mapping[str, Any] | None) -> str:
    """The key to render into a form: the one it was submitted with (it comes back with errors, nothing was
    created), else a new one."""
    key = (form or {}).get("form_key")
    return key if isinstance(key, str) and FORM_KEY.fullmatch(key) else secrets.token_urlsafe(18)


def earlier_submission(context: LaunchContext) -> ResponseReturnValue | None:
    """A redirect to what this form made when its key was submitted before (for this EHR and patient), else None."""
    key = submitted_form_key()
    if key is None:
        return None
    path = earlier_result(current_app.extensions["p2p_db"], form_key=key, tenant=context.tenant,
                          patient_id=context.patient or "")  # fmt: skip
    return redirect(path, code=303) if path else None


def remember_submission(context: LaunchContext, response: Response) -> Response:
    """Keep where a form that made something led (its redirect), under the key it was submitted with."""
    key = submitted_form_key()
    if key is not None and response.status_code in (302, 303) and response.location:
        remember_result(current_app.extensions["p2p_db"], form_key=key, tenant=context.tenant,
                        patient_id=context.patient or "", result_path=response.location)  # fmt: skip
    return response


def init_app(app: Flask) -> None:
    """Templates render a form's key with ``form_key_for(form)``."""
    app.add_template_global(form_key_for, "form_key_for")
