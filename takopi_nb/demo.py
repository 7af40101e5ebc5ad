"""Local stand-ins for the example notebooks: nothing here talks to a real service.

- :func:`sandbox` points takopi_nb at a scratch folder (config, keys, catalog
  cache) and works offline, so a demo never touches your real setup.
- :class:`DemoOpenAIServer` is a tiny OpenAI-compatible server on 127.0.0.1
  (chat completions, streaming, embeddings, model list). There is no model
  behind it: it answers with a fixed, clearly labelled text, and its
  "embeddings" are hashes of the words.
- :class:`DemoChatGPT` plays the "Sign in with ChatGPT" device-code server and
  the Codex backend on 127.0.0.1, so the sign-in display can be shown end to end.

Only the standard library is used; every server binds to the loopback interface.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["DemoChatGPT", "DemoOpenAIServer", "sandbox"]

DEMO_NOTE = "(local demo server — no language model behind it)"


def sandbox(directory: str | os.PathLike[str] | None = None) -> Any:
    """Keep this process's takopi_nb config, keys and catalog cache in a scratch folder, offline.

    Returns the process-wide config (``tk.get_config()``), now pointing there.
    Keys go to a private file in that folder, never to your OS keyring. A folder
    made here (no ``directory`` given) is deleted when the interpreter exits.
    """
    if directory is None:
        folder = Path(tempfile.mkdtemp(prefix="takopi-demo-"))
        # it holds a key file: leave nothing behind in the temp dir
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        kept = "deleted when Python exits"
    else:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        kept = "kept after exit"
    os.environ["TAKOPI_NB_OFFLINE"] = "1"
    os.environ["TAKOPI_NB_CACHE_DIR"] = str(folder / "cache")
    os.environ["JUPYTER_DATA_DIR"] = str(folder / "data")
    os.environ["TAKOPI_NB_CONFIG"] = str(folder / "providers.json")
    from . import catalog
    from ._config import get_config

    catalog._reset()  # the catalog is created again from the environment set above
    config = get_config()
    config.admin_config_files = []
    config.secret_backend = "file"
    config.config_file = str(folder / "providers.json")
    config.runtime.secrets.file_on_purpose = (
        f"this demo keeps keys in a scratch file on purpose, never in your OS keyring "
        f"(the folder is {kept})"
    )
    return config


# -- a small loopback HTTP server -----------------------------------------------------------


class _Reply:
    def __init__(
        self,
        status: int = 200,
        body: bytes | Iterable[bytes] = b"",
        content_type: str = "application/json",
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type

    @classmethod
    def json(cls, data: Any, status: int = 200) -> _Reply:
        return cls(status, json.dumps(data).encode())


Route = Callable[[str, dict[str, str], bytes, dict[str, list[str]]], _Reply]


class _QuietServer(ThreadingHTTPServer):
    """Does not print a traceback into the notebook when a client disconnects early."""

    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 resets connections when a batch opens 16 at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        kind = sys.exc_info()[0]
        if kind is not None and issubclass(kind, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _LoopbackServer:
    """Serves ``routes[(method, path)]`` on 127.0.0.1:<free port> from a daemon thread."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> _LoopbackServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm and the client's
            # delayed ACK, every answer would wait ~40 ms on loopback.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass  # requests carry credentials in headers: never log them

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append((self.command, parts.path))
                route = server.routes.get((self.command, parts.path))
                if route is None:
                    reply = _Reply.json({"error": {"message": f"no route {parts.path}"}}, 404)
                else:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    reply = route(parts.path, headers, body, parse_qs(parts.query))
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client hung up: nothing to report

            def _send(self, reply: _Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if isinstance(reply.body, bytes):
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                else:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for piece in reply.body:
                        self.wfile.write(f"{len(piece):X}\r\n".encode() + piece + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = _serve

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="takopi-demo-server",
            daemon=True,
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


def _sse(events: Iterable[Any]) -> Iterator[bytes]:
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        yield f"data: {data}\n\n".encode()


def _words(text: str) -> list[str]:
    pieces = text.split(" ")
    return [p + (" " if i < len(pieces) - 1 else "") for i, p in enumerate(pieces)]


def _last_user_text(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    str(part.get("text", "")) for part in content if isinstance(part, dict)
                )
    return ""


def _last_tool_output(messages: Any) -> str | None:
    """The content of the conversation's last message when it is a tool result."""
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        last = messages[-1]
        if last.get("role") == "tool":
            content = last.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return None


def demo_tool_call(tools: Any, messages: Any) -> dict[str, Any] | None:
    """The tool call the demo "model" makes, or None when it answers in text.

    There is no model: when tools are offered and the last message is the
    user's, it calls the first tool, filling numeric parameters with the
    prompt's numbers in order and text parameters with the prompt's last word.
    """
    if not isinstance(tools, list) or not tools or _last_tool_output(messages) is not None:
        return None
    function = tools[0].get("function") if isinstance(tools[0], dict) else None
    if not isinstance(function, dict) or not function.get("name"):
        return None
    prompt = _last_user_text(messages)
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", prompt)]
    words = re.findall(r"[^\W\d_]+", prompt)
    properties = (function.get("parameters") or {}).get("properties") or {}
    arguments: dict[str, Any] = {}
    for name, schema in properties.items():
        kind = schema.get("type") if isinstance(schema, dict) else None
        if kind in ("integer", "number"):
            value = numbers.pop(0) if numbers else 0
            arguments[name] = int(value) if kind == "integer" else value
        else:
            arguments[name] = words[-1] if words else ""
    return {
        "id": "call_demo_" + secrets.token_hex(4),
        "type": "function",
        "function": {"name": function["name"], "arguments": json.dumps(arguments)},
    }


def demo_reply(prompt: str) -> str:
    shown = " ".join(prompt.split())
    if len(shown) > 200:
        shown = shown[:197] + "..."
    return f"**Hello from the demo server** {DEMO_NOTE}. You asked: “{shown}”"


def demo_embedding(text: str, dimensions: int = 8) -> list[float]:
    """A deterministic unit vector from the words of ``text`` (similar words, similar vectors)."""
    vector = [0.0] * dimensions
    for word in text.lower().split():
        digest = hashlib.sha256(word.encode()).digest()
        for i in range(dimensions):
            vector[i] += digest[i] / 255.0 - 0.5
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [round(x / norm, 6) for x in vector]


class DemoOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 for demos: ``/v1/chat/completions``,
    ``/v1/embeddings`` and ``/v1/models``. It needs a Bearer token (any value) and
    answers with fixed, labelled text; use :attr:`base_url` as a provider's Base URL.
    Offered tools, it calls the first one (see :func:`demo_tool_call`), then answers
    with the tool's result.
    """

    MODELS = ("gpt-5.2", "gpt-5-mini", "text-embedding-3-small")

    def __init__(self, reply: Callable[[str], str] = demo_reply) -> None:
        self.reply = reply
        self.chat_calls = 0
        self.embedding_calls = 0
        self._server = _LoopbackServer()
        self._server.routes = {
            ("GET", "/v1/models"): self._models,
            ("POST", "/v1/chat/completions"): self._chat,
            ("POST", "/v1/embeddings"): self._embeddings,
        }

    def start(self) -> DemoOpenAIServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> DemoOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<DemoOpenAIServer {self.base_url} {DEMO_NOTE}>"

    @property
    def base_url(self) -> str:
        return self._server.url + "/v1"

    @staticmethod
    def _unauthorized(headers: dict[str, str]) -> _Reply | None:
        if not headers.get("authorization", "").startswith("Bearer "):
            return _Reply.json(
                {"error": {"message": "Missing API key (demo server).", "type": "auth"}}, 401
            )
        return None

    def _models(self, path: str, headers: dict[str, str], body: bytes, query: Any) -> _Reply:
        return self._unauthorized(headers) or _Reply.json(
            {"object": "list", "data": [{"id": m, "object": "model"} for m in self.MODELS]}
        )

    def _chat(self, path: str, headers: dict[str, str], body: bytes, query: Any) -> _Reply:
        denied = self._unauthorized(headers)
        if denied:
            return denied
        request = json.loads(body or b"{}")
        self.chat_calls += 1
        model = str(request.get("model", ""))
        call = demo_tool_call(request.get("tools"), request.get("messages"))
        if call is not None:
            return self._tool_call(request, model, call)
        text = self.reply(_last_user_text(request.get("messages")))
        tool_output = _last_tool_output(request.get("messages"))
        if tool_output is not None:
            text = f"**Demo server** {DEMO_NOTE}: the tool answered “{tool_output}”."
        created = int(time.time())
        # Rough token counts (words), so usage and cost show something plausible.
        asked = len(json.dumps(request.get("messages")).split())
        usage = {
            "prompt_tokens": asked,
            "completion_tokens": len(text.split()),
            "total_tokens": asked + len(text.split()),
        }
        if not request.get("stream"):
            return _Reply.json(
                {
                    "id": "chatcmpl-demo",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text},
                        }
                    ],
                    "usage": usage,
                }
            )

        def events() -> Iterator[Any]:
            for word in _words(text):
                yield {
                    "id": "chatcmpl-demo",
                    "object": "chat.completion.chunk",
                    "model": model,
                    "created": created,
                    "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
                }
            yield {
                "id": "chatcmpl-demo",
                "object": "chat.completion.chunk",
                "model": model,
                "created": created,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
            if (request.get("stream_options") or {}).get("include_usage"):
                yield {
                    "id": "chatcmpl-demo",
                    "object": "chat.completion.chunk",
                    "model": model,
                    "created": created,
                    "choices": [],
                    "usage": usage,
                }
            yield "[DONE]"

        return _Reply(200, _sse(events()), "text/event-stream")

    def _tool_call(self, request: dict[str, Any], model: str, call: dict[str, Any]) -> _Reply:
        """Answer with one tool call, as a model would (streamed as one delta when asked)."""
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        if not request.get("stream"):
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
            return _Reply.json(
                {
                    "id": "chatcmpl-demo",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
                    "usage": usage,
                }
            )

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-demo",
                "object": "chat.completion.chunk",
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        events: list[Any] = [
            chunk({"role": "assistant", "tool_calls": [{"index": 0, **call}]}),
            chunk({}, "tool_calls"),
        ]
        if (request.get("stream_options") or {}).get("include_usage"):
            events.append({"id": "chatcmpl-demo", "model": model, "choices": [], "usage": usage})
        events.append("[DONE]")
        return _Reply(200, _sse(events), "text/event-stream")

    def _embeddings(self, path: str, headers: dict[str, str], body: bytes, query: Any) -> _Reply:
        denied = self._unauthorized(headers)
        if denied:
            return denied
        request = json.loads(body or b"{}")
        self.embedding_calls += 1
        texts = request.get("input")
        if isinstance(texts, str):
            texts = [texts]
        data = [
            {"object": "embedding", "index": i, "embedding": demo_embedding(str(t))}
            for i, t in enumerate(texts or [])
        ]
        return _Reply.json(
            {
                "object": "list",
                "data": data,
                "model": request.get("model"),
                "usage": {"prompt_tokens": len(data), "total_tokens": len(data)},
            }
        )


# -- "Sign in with ChatGPT" -------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, Any]) -> str:
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}.demo-signature"


class DemoChatGPT:
    """A loopback stand-in for the ChatGPT sign-in server and the Codex backend.

    Point a config at it with ``cfg.codex_issuer = demo.issuer`` and a codex
    provider's Base URL at :attr:`codex_base`. Approve a pending code with
    :meth:`approve` (what the user does on the real verification page), or set
    ``auto_approve_after`` to approve after that many polls.
    """

    def __init__(
        self,
        *,
        email: str = "ada@example.com",
        plan: str = "plus",
        interval: int = 1,
        auto_approve_after: int | None = None,
    ) -> None:
        self.email = email
        self.plan = plan
        self.interval = interval
        self.auto_approve_after = auto_approve_after
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, Any]] = {}
        self._codes: dict[str, str] = {}
        self._server = _LoopbackServer()
        self._server.routes = {
            ("POST", "/api/accounts/deviceauth/usercode"): self._usercode,
            ("POST", "/api/accounts/deviceauth/token"): self._poll,
            ("POST", "/oauth/token"): self._token,
            ("POST", "/oauth/revoke"): lambda *a: _Reply.json({}),
            ("GET", "/backend-api/codex/models"): self._models,
            ("POST", "/backend-api/codex/responses"): self._responses,
        }

    def start(self) -> DemoChatGPT:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> DemoChatGPT:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<DemoChatGPT {self.issuer} (local stand-in, not OpenAI)>"

    @property
    def issuer(self) -> str:
        return self._server.url

    @property
    def codex_base(self) -> str:
        return self._server.url + "/backend-api/codex"

    @property
    def pending_codes(self) -> list[str]:
        with self._lock:
            return [code for code, d in self._pending.items() if not d["approved"]]

    def approve(self, user_code: str | None = None) -> str:
        """Approve ``user_code`` (default: the newest pending one); returns the code."""
        deadline = time.monotonic() + 10
        while True:
            with self._lock:
                codes = [c for c, d in self._pending.items() if not d["approved"]]
                code = user_code or (codes[-1] if codes else None)
                if code is not None and code in self._pending:
                    self._pending[code]["approved"] = True
                    return code
            if time.monotonic() > deadline:
                raise LookupError("no sign-in code is waiting for approval")
            time.sleep(0.05)

    # -- routes --------------------------------------------------------------------------

    def _usercode(self, path: str, headers: dict[str, str], body: bytes, query: Any) -> _Reply:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        code = (
            "".join(secrets.choice(letters) for _ in range(4))
            + "-"
            + "".join(secrets.choice(letters) for _ in range(5))
        )
        device_id = "deviceauth_" + secrets.token_hex(8)
        expires = datetime.now(timezone.utc) + timedelta(minutes=15)
        with self._lock:
            self._pending[code] = {"id": device_id, "approved": False, "polls": 0}
        return _Reply.json(
            {
                "device_auth_id": device_id,
                "user_code": code,
                "interval": str(self.interval),
                "expires_at": expires.isoformat(),
            }
        )

    def _poll(self, path: str, headers: dict[str, str], body: bytes, query: Any) -> _Reply:
        request = json.loads(body or b"{}")
        with self._lock:
            entry = self._pending.get(str(request.get("user_code")))
            if entry is None or entry["id"] != request.get("device_auth_id"):
                return _Reply.json({"error": {"code": "invalid_request"}}, 400)
            entry["polls"] += 1
            if self.auto_approve_after is not None and entry["polls"] >= self.auto_approve_after:
                entry["approved"] = True
            if not entry["approved"]:
                return _Reply.json(
                    {"error": {"code": "deviceauth_authorization_pending", "message": "pending"}},
                    403,
                )
            authorization_code = "demo-code-" + secrets.token_hex(8)
            self._codes[authorization_code] = str(request.get("user_code"))
        return _Reply.json(
            {
                "authorization_code": authorization_code,
                "code_challenge": "demo",
                "code_verifier": "demo",
            }
        )

    def _tokens(self) -> dict[str, Any]:
        now = int(time.time())
        auth = {"chatgpt_account_id": "acct_demo", "chatgpt_plan_type": self.plan}
        claims = {
            "email": self.email,
            "exp": now + 3600,
            "iat": now,
            "https://api.openai.com/auth": auth,
        }
        return {
            "id_token": _jwt(claims),
            "access_token": _jwt(claims),
            "refresh_token": "demo-refresh-" + secrets.token_hex(8),
            "expires_in": 3600,
        }

    def _token(self, path: str, headers: dict[str, str], body: bytes, query: Any) -> _Reply:
        if headers.get("content-type", "").startswith("application/json"):
            form = json.loads(body or b"{}")
        else:
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") == "authorization_code":
            with self._lock:
                if self._codes.pop(str(form.get("code")), None) is None:
                    return _Reply.json({"error": "invalid_grant"}, 400)
        return _Reply.json(self._tokens())

    def _models(self, path: str, headers: dict[str, str], body: bytes, query: Any) -> _Reply:
        return _Reply.json(
            {
                "models": [
                    {
                        "slug": "gpt-5.4",
                        "display_name": "GPT-5.4",
                        "visibility": "list",
                        "supported_in_api": True,
                        "priority": 1,
                        "context_window": 272000,
                    },
                ]
            }
        )

    def _responses(self, path: str, headers: dict[str, str], body: bytes, query: Any) -> _Reply:
        if not headers.get("authorization", "").startswith("Bearer "):
            return _Reply.json({"detail": "Unauthorized"}, 401)
        request = json.loads(body or b"{}")
        prompt = ""
        for item in request.get("input") or []:
            if isinstance(item, dict) and item.get("role") == "user":
                content = item.get("content")
                if isinstance(content, str):
                    prompt = content
                elif isinstance(content, list):
                    prompt = " ".join(
                        str(p.get("text", "")) for p in content if isinstance(p, dict)
                    )
        text = demo_reply(prompt)
        model = request.get("model")

        def events() -> Iterator[Any]:
            yield {"type": "response.created", "response": {"model": model}}
            for word in _words(text):
                yield {"type": "response.output_text.delta", "delta": word}
            yield {
                "type": "response.completed",
                "response": {
                    "model": model,
                    "status": "completed",
                    "usage": {"input_tokens": 1, "output_tokens": 1},
                },
            }

        return _Reply(200, _sse(events()), "text/event-stream")
