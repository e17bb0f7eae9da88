"""A tiny threaded HTTP server base for the loopback stand-ins of Slack and X."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    """An incoming request, parsed: query and form/JSON body merged into `params`."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]
    body: bytes
    json_body: Any = None


@dataclass
class Response:
    """What a route answers."""

    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> as is
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """A failure to inject into the next matching calls.

    `status`/`body`: answer this instead. `delay`: wait before answering (a client with a
    shorter timeout sees a timeout). `after_processing`: do the real work first, then
    misbehave, so the caller cannot know that it worked. `drop`: close the connection
    without an answer. `malformed`: answer 200 with a body that is not JSON.
    """

    match: str
    times: int = 1
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    after_processing: bool = False
    drop: bool = False
    malformed: bool = False


class Listening(Protocol):
    """Anything that says where a stand-in listens (itself, or its address elsewhere)."""

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>."""
        ...


class StandIn:
    """Base of a stand-in server: routing, call log, fault injection, start/stop."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls: list[Request] = []
        self.faults: list[Fault] = []
        self.version = 0  # grows with every change of state, so that a viewer knows to look
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- to be provided by subclasses ----------------------------------------------------

    def route_name(self, request: Request) -> str:
        """A name that faults and rate limits match on (e.g. `chat.postMessage`)."""
        return request.path

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        raise NotImplementedError

    # -- server --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen on a free loopback port, serving from a daemon thread."""
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                stand_in._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def touch(self) -> None:
        """Note that the state changed (a message posted, a tweet sent, ...)."""
        with self.lock:
            self.version += 1

    def fail_next(self, match: str, **kwargs: Any) -> Fault:
        """Inject a fault into the next call(s) whose route name starts with `match`."""
        fault = Fault(match=match, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def calls_to(self, name: str) -> list[Request]:
        """Every call so far whose route name is `name`."""
        with self.lock:
            return [call for call in self.calls if self.route_name(call) == name]

    def _take_fault(self, name: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if name.startswith(fault.match) and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        url = urlsplit(http.path)
        params: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
        content_type = http.headers.get("Content-Type") or ""
        json_body = None
        if raw and "json" in content_type:
            try:
                json_body = json.loads(raw)
            except ValueError:
                json_body = None
            if isinstance(json_body, dict):
                params.update(json_body)
        elif raw and "x-www-form-urlencoded" in content_type:
            # A binary upload arrives with urllib's default content type: not a form.
            with contextlib.suppress(UnicodeDecodeError):
                params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        request = Request(
            method=http.command,
            path=url.path,
            headers={k.lower(): v for k, v in http.headers.items()},
            params=params,
            body=raw,
            json_body=json_body,
        )
        with self.lock:
            self.calls.append(request)
        fault = self._take_fault(self.route_name(request))
        response: Response | None = None
        if fault is not None and not fault.after_processing:
            response = self._faulty(http, fault)
            if response is None:
                return
        if response is None:
            response = self.handle(request)
            if fault is not None:
                faulty = self._faulty(http, fault)
                if faulty is None:
                    return
                response = faulty if (fault.status or fault.malformed) else response
        self._write(http, response)

    def _faulty(self, http: BaseHTTPRequestHandler, fault: Fault) -> Response | None:
        if fault.delay:
            time.sleep(fault.delay)
        if fault.drop:
            http.close_connection = True
            with contextlib.suppress(OSError):
                http.connection.shutdown(2)
            return None
        if fault.malformed:
            return Response(200, b"<html>502 Bad Gateway</html>", {"Content-Type": "text/html"})
        if fault.status is not None:
            return Response(fault.status, fault.body, dict(fault.headers))
        return Response(200, None)  # delay only: the real answer follows

    def _write(self, http: BaseHTTPRequestHandler, response: Response) -> None:
        body = response.body
        headers = dict(response.headers)
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif isinstance(body, str):
            payload = body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        elif body is None:
            payload = b""
        else:
            payload = body
        try:
            http.send_response(response.status)
            for key, value in headers.items():
                http.send_header(key, value)
            http.send_header("Content-Length", str(len(payload)))
            http.end_headers()
            http.wfile.write(payload)
        except OSError:
            pass  # the client gave up (a timeout test); nothing to answer to


def wait_for(condition: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll `condition` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
