"""HTTP serving: `POST /slack/events` and `GET /healthz` as a WSGI app, and waitress to run it."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from waitress.server import create_server

from bot.health import Health

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_REQUEST_BYTES = 1024 * 1024
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text format
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


def slack_endpoint(
    app: App,
    *,
    health: Health,
    signing_secret: str | None,
    metrics: Callable[[], bytes] | None = None,
) -> WsgiApp:
    """POST /slack/events for Slack, GET /healthz for load balancers and people, GET
    /metrics for Prometheus (`metrics`: the exposition, `bot/metrics.py`).

    Without a signing secret (Socket Mode, where events come over the WebSocket) only
    /healthz and /metrics are served.
    """
    slack = SlackRequestHandler(app, path="/slack/events")
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if path == "/healthz" and method == "GET":
            status, report = health.report()
            return _answer(start_response, status, report)
        if path == "/metrics" and method == "GET" and metrics is not None:
            start_response("200 OK", [("Content-Type", METRICS_TYPE)])
            return [metrics()]
        if verifier is None:
            return _answer(start_response, 404, {"error": "not found"})
        if method != "POST":
            return slack(environ, start_response)
        body = _read_body(environ)
        # Bolt reads the body (UTF-8, JSON, form) and the timestamp before it checks
        # the signature, so an unreadable forgery would end in a 500; check it first.
        if not _signed_by_slack(verifier, body, environ):
            return _answer(start_response, 401, {"error": "invalid request"})
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            return slack(environ, start_response)
        except ValueError:  # signed, but not what Slack sends (JSON, UTF-8)
            log.warning("a signed request to %s could not be read", path)
            return _answer(start_response, 400, {"error": "unreadable request"})

    return application


def _answer(start_response: Callable[..., Any], status: int, body: object) -> list[bytes]:
    reason = _REASONS.get(status, "Service Unavailable")
    start_response(f"{status} {reason}", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _signed_by_slack(verifier: SignatureVerifier, body: bytes, environ: dict[str, Any]) -> bool:
    try:
        return verifier.is_valid(
            body,
            environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
            environ.get("HTTP_X_SLACK_SIGNATURE"),
        )
    except ValueError:  # a timestamp that is no number, a body that is not UTF-8
        return False


class HttpServer:
    """waitress, in the foreground (production) or in a thread (tests, Socket Mode health)."""

    def __init__(self, application: WsgiApp, *, host: str, port: int, threads: int) -> None:
        self._server = create_server(
            application,
            host=host,
            port=port,
            threads=threads,
            # Slack's requests are a few kilobytes; a forged gigabyte is refused (413)
            # before it is read into memory to check its signature.
            max_request_body_size=MAX_REQUEST_BYTES,
        )
        self.port: int = self._server.effective_port  # type: ignore[union-attr]
        self._thread: threading.Thread | None = None
        self._stopping = False

    def run(self) -> None:
        """Serve in this thread until SystemExit/KeyboardInterrupt."""
        self._server.run()

    def start_in_thread(self) -> None:
        """Serve from a daemon thread."""
        self._thread = threading.Thread(target=self._run_until_stopped, name="http", daemon=True)
        self._thread.start()

    def _run_until_stopped(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):
            # Closing the sockets from another thread can break the loop's select() with
            # EBADF; that is the stop we asked for, not a failure.
            if not self._stopping:
                raise

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._stopping = True
        self._server.close()
        if self._thread is not None:
            self._thread.join(timeout=10)
