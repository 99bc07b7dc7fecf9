"""Production serving: the app under gunicorn, several worker processes, each building its own app.

Everything a request needs across workers lives in the database (server-side sessions, launches, case records,
the outbox), so a callback served by another worker than the launch still finds its launch. Migrations run once
in the parent before the workers start (``p2p-brief serve`` does it), never racing in the workers.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from smart_app.web import create_app

        return create_app()


def serve_with_gunicorn(host: str, port: int, *, workers: int, threads: int) -> None:
    """Serve on ``host:port`` with ``workers`` processes of ``threads`` threads each; returns when stopped."""
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 60,
            "graceful_timeout": 20,
            "accesslog": None,  # request lines carry ?ctx= handles and ids only, but no access log is kept at all
            "errorlog": "-",
            "forwarded_allow_ips": "127.0.0.1",
            "proc_name": "p2p-brief",
        }
    ).run()
