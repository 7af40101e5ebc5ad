"""A threaded stdlib HTTP server on 127.0.0.1 with request recording.

Subclass :class:`FakeHandler`-based routing by giving :class:`LoopbackServer`
a ``routes`` mapping ``(METHOD, path) -> callable(request) -> Response``.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from typing_extensions import Self


class FakeHTTPServer(ThreadingHTTPServer):
    """A loopback server with a real server's accept backlog (socketserver's default is 5).

    With 16 clients connecting at once on a loaded machine, a backlog of 5 overflows and
    connections are reset: a failure of the fake, not of the client under test.
    """

    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up early is routine (cancelled streams, interrupted batches).
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    connection: int = 0
    """Which TCP connection (1, 2, ... in accept order) carried the request."""
    socket: socket.socket | None = field(default=None, repr=False, compare=False)

    def wait_for_hangup(self, timeout: float) -> bool:
        """Whether the client closed (or shut down) the connection within ``timeout``
        seconds, while this request is still unanswered."""
        assert self.socket is not None
        ready, _, _ = select.select([self.socket], [], [], timeout)
        if not ready:
            return False
        try:
            return self.socket.recv(1, socket.MSG_PEEK) == b""
        except OSError:  # reset by the client
            return True

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Response:
        return cls(status, json.dumps(data).encode(), dict(headers))


Handler = Callable[[Request], Response]


class LoopbackServer:
    """Serve ``routes`` on 127.0.0.1:<free port> in a background thread.

    ``routes`` maps ``(method, path)`` to a handler; a handler under
    ``(method, "*")`` catches every path of that method. Every request is kept
    in ``requests`` for assertions.
    """

    def __init__(self, routes: dict[tuple[str, str], Handler] | None = None) -> None:
        self.routes: dict[tuple[str, str], Handler] = dict(routes or {})
        self.requests: list[Request] = []
        self.connections = 0
        """TCP connections accepted so far (keep-alive reuse shows as fewer than requests)."""
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            connection_number = 0

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1
                    self.connection_number = server.connections

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers.items()),
                    body,
                    self.connection_number,
                    self.connection,
                )
                with server._lock:
                    server.requests.append(request)
                handler = server.routes.get((self.command, parts.path)) or server.routes.get(
                    (self.command, "*")
                )
                response = (
                    handler(request)
                    if handler
                    else Response.json(
                        {"error": {"message": f"no route {self.command} {parts.path}"}}, 404
                    )
                )
                self._send(response)

            def _send(self, response: Response) -> None:
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                if isinstance(response.body, bytes):
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in response.body:
                        if chunk:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._httpd: ThreadingHTTPServer = FakeHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        # serve_forever polls every 0.5 s by default, which would make every stop() that slow.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]


class FakeService:
    """Base of the service fakes: owns a :class:`LoopbackServer` in ``self._server``."""

    _server: LoopbackServer

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self._server.url


def sse(events: Iterable[tuple[str | None, Any]]) -> Iterator[bytes]:
    """Server-sent events frames: ``(event name or None, data)``; data is JSON-encoded unless str."""
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        frame = (f"event: {name}\n" if name else "") + f"data: {text}\n\n"
        yield frame.encode()
