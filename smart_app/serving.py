"""Run WSGI apps on loopback in background threads (the demo command and the end-to-end tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _LateBoundApp:
    """A WSGI app whose target is set after the socket is bound, so the app can know its own port."""

    def __init__(self) -> None:
        self.target: WsgiApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.target is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"starting"]
        return self.target(environ, start_response)


@dataclass
class RunningServer:
    """A bound, serving loopback server and the URL it answers on."""

    server: BaseWSGIServer
    thread: threading.Thread
    url: str
    _app: _LateBoundApp = field(repr=False)

    def mount(self, app: WsgiApp) -> None:
        """Start answering with ``app``."""
        self._app.target = app

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def bind(host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Bind ``host:port`` (0 picks a free port) and serve in a daemon thread; mount an app afterwards."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the built-in servers bind to loopback only")
    late = _LateBoundApp()
    server = make_server(host, port, late, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi-{server.port}", daemon=True)
    thread.start()
    return RunningServer(server=server, thread=thread, url=f"http://{host}:{server.port}", _app=late)


def wait_until_ready(url: str, *, timeout: float = 10.0) -> None:
    """Poll ``url`` until it answers with anything but 503, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code != 503:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class QuietRequestHandler(WSGIRequestHandler):
    """Logs the method, path and status only: query strings may carry codes, states or launch values."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request, without the query string."""
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s', self.command, path, code)
