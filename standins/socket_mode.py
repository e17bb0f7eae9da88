"""A loopback stand-in of Slack's Socket Mode WebSocket endpoint.

The Slack Web API stand-in hands out its URL from `apps.connections.open`; the bot's real
Socket Mode client (slack_sdk's built-in one) connects, gets `hello`, and receives
envelopes (slash commands, interactivity, events) that it must acknowledge by envelope id,
as Slack's servers expect. Plain RFC 6455 framing over a TCP socket, standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class SocketModeStandIn:
    """Accepts WebSocket connections and trades envelopes with them."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.acks: dict[str, dict[str, Any]] = {}
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """What `apps.connections.open` answers."""
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link"

    def stop(self) -> None:
        """Close everything."""
        self._running = False
        with self._lock:
            for connection in self._connections:
                connection.close()
        self._listener.close()

    def connected(self) -> bool:
        """Whether a client is connected."""
        with self._lock:
            return bool(self._connections)

    def send(
        self, envelope_type: str, payload: dict[str, Any], *, accepts_response_payload: bool = False
    ) -> str:
        """Push an envelope to the newest connection; its id, to wait for the ack."""
        envelope_id = f"env-{next(self._ids)}"
        message = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._lock:
            connection = self._connections[-1]
        connection.sendall(_frame(TEXT, json.dumps(message).encode()))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The client's acknowledgement of an envelope."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if envelope_id in self.acks:
                    return self.acks[envelope_id]
            time.sleep(0.02)
        raise AssertionError(f"no ack for {envelope_id} within {timeout}s")

    def _accept(self) -> None:
        while self._running:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                return
            request += chunk
        headers = dict(
            line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line
        )
        key = {k.lower(): v for k, v in headers.items()}["sec-websocket-key"]
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324
        connection.sendall(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        hello = {
            "type": "hello",
            "num_connections": 1,
            "connection_info": {"app_id": "A0SERVICE"},
            "debug_info": {"host": "stand-in"},
        }
        connection.sendall(_frame(TEXT, json.dumps(hello).encode()))
        with self._lock:
            self._connections.append(connection)
        reader = _Reader(connection)
        while self._running:
            frame = reader.frame()
            if frame is None:
                break
            opcode, data = frame
            if opcode == PING:
                connection.sendall(_frame(PONG, data))
            elif opcode == TEXT:
                message = json.loads(data)
                if "envelope_id" in message:
                    with self._lock:
                        self.acks[message["envelope_id"]] = message
            elif opcode == CLOSE:
                break
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        connection.close()


def _frame(opcode: int, data: bytes) -> bytes:
    """A server frame: final, unmasked."""
    head = bytes([0x80 | opcode])
    if len(data) < 126:
        return head + bytes([len(data)]) + data
    if len(data) < 1 << 16:
        return head + bytes([126]) + struct.pack(">H", len(data)) + data
    return head + bytes([127]) + struct.pack(">Q", len(data)) + data


class _Reader:
    """Reads the client's (masked) frames."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._buffer = b""

    def _read(self, count: int) -> bytes | None:
        while len(self._buffer) < count:
            try:
                chunk = self._connection.recv(65536)
            except OSError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def frame(self) -> tuple[int, bytes] | None:
        head = self._read(2)
        if head is None:
            return None
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            raw = self._read(2)
            if raw is None:
                return None
            length = struct.unpack(">H", raw)[0]
        elif length == 127:
            raw = self._read(8)
            if raw is None:
                return None
            length = struct.unpack(">Q", raw)[0]
        mask = self._read(4) if head[1] & 0x80 else b"\0\0\0\0"
        data = self._read(length) if length else b""
        if mask is None or data is None:
            return None
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))
