"""Faithful loopback fakes of the LLM provider HTTP APIs takopi_nb speaks.

:class:`FakeProvider` serves, under one path prefix (``/v1`` unless told):

- OpenAI-compatible ``POST chat/completions`` (JSON, or SSE chunks ending in
  ``data: [DONE]``, with the usage chunk when ``stream_options.include_usage``),
  ``POST embeddings``, ``GET models``; ``Authorization: Bearer``; error bodies
  ``{"error": {"message", "type", "param", "code"}}``.
- Anthropic Messages ``POST messages`` (``x-api-key``, or the bearer form the
  current SDK sends, and ``anthropic-version`` required; SSE ``message_start``, ``content_block_start``, ``ping``,
  ``content_block_delta`` (``text_delta``), ``content_block_stop``,
  ``message_delta`` (usage), ``message_stop``); error bodies
  ``{"type": "error", "error": {"type", "message"}}``.
- OpenAI Responses ``POST responses`` (JSON, or SSE ``response.*`` events).
- Gemini ``POST models/{model}:generateContent`` and
  ``:streamGenerateContent?alt=sse`` (``x-goog-api-key``).

Requests are checked as strictly as the real services check them (see
:mod:`tests.fakes.rules`): ``Authorization`` must use the Bearer scheme; a field
the API does not document, or of another JSON type (``max_tokens: "lots"``),
is refused with that service's own 400 (OpenAI ``invalid_type``, Anthropic's
``Input should be a valid integer``, Google's ``INVALID_ARGUMENT``);
``anthropic-version`` must be a published version; a wrong Google key is
Google's 400 ``API_KEY_INVALID``. ``tests/test_fakes_strict.py`` holds a case
per rule.

``flavor`` says whose ``GET models`` and whose error shape the server has:
``"openai"`` (Bearer, ``{"data": [...]}``) or ``"anthropic"`` (x-api-key). All
requests are recorded in ``requests`` (see :mod:`tests.fakes.http`).

Knobs (plain attributes): ``reply`` (the answer's chunks), ``fail_next()``
(queue error answers, e.g. 429 with ``Retry-After`` or 500), ``redirect_to``
(answer 307 to another origin), ``list_models`` (False: ``GET models`` is 404),
``truncate_stream`` (drop the stream before its end), ``stream_error`` (an
error event mid-stream), ``echo_key`` (the 401 message quotes the key it got,
as a careless proxy might), ``hold()`` (answer nothing until ``release()``: a test
that needs a request in flight waits on events, never on a delay).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Literal

from tests.fakes.formats import (
    anthropic_error,
    anthropic_message,
    anthropic_stream_end,
    openai_error,
    responses_text_deltas,
)
from tests.fakes.http import FakeHTTPServer, FakeService, LoopbackServer, Request, Response, sse
from tests.fakes.rules import (
    ARRAY,
    BOOLEAN,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    Violation,
    check_fields,
    json_type,
)

__all__ = ["FakeProvider", "OtherHost", "openai_error"]


# The request fields each real API documents, with their JSON types: any other field, or a
# field of another type, is refused (OpenAI: 400 invalid_request_error; Anthropic: 400 with
# pydantic's words; Google: 400 INVALID_ARGUMENT).
TEXT_OR_PARTS = ("string", "array")
CHAT_FIELDS: dict[str, tuple[str, ...]] = {
    "model": STRING,
    "messages": ARRAY,
    "audio": OBJECT,
    "frequency_penalty": NUMBER,
    "function_call": ("string", "object"),
    "functions": ARRAY,
    "logit_bias": OBJECT,
    "logprobs": BOOLEAN,
    "max_completion_tokens": INTEGER,
    "max_tokens": INTEGER,
    "metadata": OBJECT,
    "modalities": ARRAY,
    "n": INTEGER,
    "parallel_tool_calls": BOOLEAN,
    "prediction": OBJECT,
    "presence_penalty": NUMBER,
    "prompt_cache_key": STRING,
    "reasoning_effort": STRING,
    "response_format": OBJECT,
    "safety_identifier": STRING,
    "seed": INTEGER,
    "service_tier": STRING,
    "stop": ("string", "array"),
    "store": BOOLEAN,
    "stream": BOOLEAN,
    "stream_options": OBJECT,
    "temperature": NUMBER,
    "tool_choice": ("string", "object"),
    "tools": ARRAY,
    "top_logprobs": INTEGER,
    "top_p": NUMBER,
    "user": STRING,
    "verbosity": STRING,
    "web_search_options": OBJECT,
}
EMBEDDING_FIELDS: dict[str, tuple[str, ...]] = {
    "model": STRING,
    "input": TEXT_OR_PARTS,
    "encoding_format": STRING,
    "dimensions": INTEGER,
    "user": STRING,
}
RESPONSES_FIELDS: dict[str, tuple[str, ...]] = {
    "model": STRING,
    "input": TEXT_OR_PARTS,
    "instructions": STRING,
    "include": ARRAY,
    "max_output_tokens": INTEGER,
    "metadata": OBJECT,
    "parallel_tool_calls": BOOLEAN,
    "previous_response_id": STRING,
    "prompt_cache_key": STRING,
    "reasoning": OBJECT,
    "service_tier": STRING,
    "store": BOOLEAN,
    "stream": BOOLEAN,
    "temperature": NUMBER,
    "text": OBJECT,
    "tool_choice": ("string", "object"),
    "tools": ARRAY,
    "top_p": NUMBER,
    "truncation": STRING,
    "user": STRING,
}
MESSAGES_FIELDS: dict[str, tuple[str, ...]] = {
    "model": STRING,
    "messages": ARRAY,
    "max_tokens": INTEGER,
    "container": STRING,
    "mcp_servers": ARRAY,
    "metadata": OBJECT,
    "service_tier": STRING,
    "stop_sequences": ARRAY,
    "stream": BOOLEAN,
    "system": TEXT_OR_PARTS,
    "temperature": NUMBER,
    "thinking": OBJECT,
    "tool_choice": OBJECT,
    "tools": ARRAY,
    "top_k": INTEGER,
    "top_p": NUMBER,
}
GEMINI_FIELDS: dict[str, tuple[str, ...]] = {
    "contents": ARRAY,
    "generationConfig": OBJECT,
    "systemInstruction": OBJECT,
    "safetySettings": ARRAY,
    "tools": ARRAY,
    "toolConfig": OBJECT,
    "cachedContent": STRING,
}
GEMINI_GENERATION_FIELDS: dict[str, tuple[str, ...]] = {
    "maxOutputTokens": INTEGER,
    "temperature": NUMBER,
    "topP": NUMBER,
    "topK": INTEGER,
    "candidateCount": INTEGER,
    "stopSequences": ARRAY,
    "seed": INTEGER,
    "responseMimeType": STRING,
    "responseSchema": OBJECT,
    "thinkingConfig": OBJECT,
    "presencePenalty": NUMBER,
    "frequencyPenalty": NUMBER,
}
# The published versions; the newest is what the current anthropic SDK (2.x) sends.
ANTHROPIC_VERSIONS = ("2023-01-01", "2023-06-01", "2026-10-21")

_OPENAI_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a decimal",
    "boolean": "a boolean",
    "string": "a string",
    "array": "an array",
    "object": "an object",
    "null": "null",
}
_PYDANTIC_TYPE_WORDS = {
    "integer": "a valid integer",
    "number": "a valid number",
    "boolean": "a valid boolean",
    "string": "a valid string",
    "array": "a valid list",
    "object": "a valid dictionary",
}


def openai_refusal(violation: Violation, where: str = "") -> Response:
    """OpenAI's 400 for a missing, unknown or mistyped field (``where`` prefixes nested names)."""
    name = where + violation.field
    if violation.kind == "missing":
        return openai_error(
            f"Missing required parameter: '{name}'.",
            "invalid_request_error",
            "missing_required_parameter",
            param=name,
        )
    if violation.kind == "unknown":
        return openai_error(
            f"Unrecognized request argument supplied: {name}", "invalid_request_error"
        )
    # A number field takes integers too, and the API calls it "a decimal".
    words = [
        _OPENAI_TYPE_WORDS[t]
        for t in violation.expected
        if violation.expected != NUMBER or t == "number"
    ]
    expected = words[0] if len(words) == 1 else "one of " + " or ".join(words)
    got = _OPENAI_TYPE_WORDS.get(violation.got, violation.got)
    return openai_error(
        f"Invalid type for '{name}': expected {expected}, but got {got} instead.",
        "invalid_request_error",
        "invalid_type",
        param=name,
    )


def anthropic_refusal(violation: Violation, where: str = "") -> Response:
    """Anthropic's 400: pydantic's words after the field's dotted path."""
    name = where + violation.field
    if violation.kind == "missing":
        text = "Field required"
    elif violation.kind == "unknown":
        text = "Extra inputs are not permitted"
    else:
        text = "Input should be " + _PYDANTIC_TYPE_WORDS[violation.expected[-1]]
    return anthropic_error(f"{name}: {text}", "invalid_request_error", 400)


def google_error(message: str, status: int, code: str) -> Response:
    return Response.json({"error": {"code": status, "message": message, "status": code}}, status)


def google_refusal(violation: Violation, where: str = "") -> Response:
    """Google's 400 INVALID_ARGUMENT for an unknown field or a value of the wrong type."""
    name = where + violation.field
    if violation.kind == "unknown":
        message = (
            f'Invalid JSON payload received. Unknown name "{violation.field}": Cannot find field.'
        )
    elif violation.kind == "missing":
        message = f"{name} is not specified"
    else:
        message = f"Invalid value at '{name}' ({violation.got}), {violation.expected[0]} expected"
    return google_error(message, 400, "INVALID_ARGUMENT")


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


class OtherHost(LoopbackServer):
    """A recording server on a *different host* (127.0.0.2) where the system allows it.

    Falls back to 127.0.0.1 on another port (still another origin) where
    127.0.0.2 cannot be bound. Answers every request with ``answer``.
    """

    def __init__(self, answer: Response | None = None) -> None:
        self.answer = answer or Response.json(
            {"error": {"message": "who are you?", "type": "invalid_request_error"}}, 401
        )
        super().__init__({("GET", "*"): self._any, ("POST", "*"): self._any})
        handler = self._httpd.RequestHandlerClass
        try:
            httpd = FakeHTTPServer(("127.0.0.2", 0), handler)
        except OSError:
            self.host = "127.0.0.1"
        else:
            self._httpd.server_close()
            self._httpd = httpd
            self._httpd.daemon_threads = True
            self.host = "127.0.0.2"

    def _any(self, request: Request) -> Response:
        return self.answer

    def __enter__(self) -> OtherHost:
        self.start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class FakeProvider(FakeService):
    """One provider's API on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        key: str = "sk-test-0123456789abcdefKEY",
        prefix: str = "/v1",
        flavor: Literal["openai", "anthropic"] = "openai",
        models: tuple[str, ...] = ("m", "gpt-5.2", "claude-sonnet-4-5", "gemini-3-pro"),
        embedding_models: tuple[str, ...] = ("text-embedding-3-small",),
        dimensions: int = 4,
    ) -> None:
        self.key = key
        self.prefix = prefix.rstrip("/")
        self.flavor = flavor
        self.models = list(models)
        self.embedding_models = list(embedding_models)
        self.dimensions = dimensions
        self.reply: list[str] = ["Hello", " from", " the", " fake."]
        self.redirect_to: str | None = None
        self.list_models = True
        self.truncate_stream = False
        self.stream_error: dict[str, Any] | None = None
        self.echo_key = False
        self._answering = threading.Event()
        self._answering.set()
        self.intercept: Callable[[Request], Response | None] | None = None
        """Consulted for every API request before the normal answer; a Response it
        returns is sent instead (per-request failures: a 500 for one prompt, a 429
        with Retry-After for the first try of another)."""
        self.answer_with: Callable[[str], str] | None = None
        """When set, a chat completion answers ``answer_with(last user message)``
        (so tests can match answers to prompts) instead of ``reply``."""
        self.page_size: int | None = None
        """Anthropic flavor: at most this many models per ``GET models`` page (``limit``,
        ``after_id``, ``has_more`` as the real API pages); None = one page."""
        self._failures: deque[Response] = deque()
        self._lock = threading.Lock()
        self._server = LoopbackServer({("GET", "*"): self._dispatch, ("POST", "*"): self._dispatch})

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.url + self.prefix

    @property
    def requests(self) -> list[Request]:
        return self._server.requests

    @property
    def connections(self) -> int:
        """TCP connections the server accepted (see :class:`tests.fakes.http.LoopbackServer`)."""
        return self._server.connections

    def requests_to(self, suffix: str) -> list[Request]:
        return self._server.requests_to(self.prefix + "/" + suffix.lstrip("/"))

    def hold(self) -> None:
        """Record API requests but answer none until :meth:`release` (or :meth:`stop`).

        Not a delay: on a loaded machine any delay can be shorter than the work the test
        expects to finish before the answer arrives.
        """
        self._answering.clear()

    def release(self) -> None:
        self._answering.set()

    def stop(self) -> None:
        self._answering.set()  # no handler thread is left waiting
        super().stop()

    def fail_next(
        self,
        status: int,
        body: Any = None,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next ``times`` API requests get this answer (a provider-shaped body by default)."""
        if body is None:
            body = self._error_body(status)
        for _ in range(times):
            self._failures.append(Response(status, json.dumps(body).encode(), dict(headers or {})))

    def _error_body(self, status: int) -> dict[str, Any]:
        kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            500: "api_error",
            502: "api_error",
            503: "api_error",
            529: "overloaded_error",
        }
        kind = kinds.get(status, "api_error")
        message = {429: "Rate limit reached for requests", 529: "Overloaded"}.get(
            status, f"fake failure {status}"
        )
        if self.flavor == "anthropic":
            return {"type": "error", "error": {"type": kind, "message": message}}
        code = {429: "rate_limit_exceeded", 500: "server_error"}.get(status)
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}

    # -- dispatch -------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        response = self._route(request)
        if not self._answering.is_set():
            self._answering.wait()
            # The client may have given up: a chunked body keeps the broken pipe quiet.
            body = response.body
            chunks = [body] if isinstance(body, bytes) else body
            return Response(response.status, iter(chunks), response.headers, response.content_type)
        return response

    def _route(self, request: Request) -> Response:
        if not request.path.startswith(self.prefix + "/"):
            return openai_error(
                f"Invalid URL ({request.method} {request.path})",
                "invalid_request_error",
                status=404,
            )
        path = request.path[len(self.prefix) + 1 :]
        if self.redirect_to is not None:
            location = self.redirect_to + request.path
            return Response(307, b"", {"Location": location})
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return failure
        if self.intercept is not None:
            intercepted = self.intercept(request)
            if intercepted is not None:
                return intercepted
        if request.method == "GET" and path == "models":
            return self._models(request)
        if request.method == "POST":
            if path == "chat/completions":
                return self._chat_completions(request)
            if path == "embeddings":
                return self._embeddings(request)
            if path == "messages":
                return self._messages(request)
            if path == "responses":
                return self._responses(request)
            if path.startswith("models/") and ":" in path:
                return self._gemini(request, path[len("models/") :])
        return openai_error(
            f"Invalid URL ({request.method} {request.path})", "invalid_request_error", status=404
        )

    # -- auth checks ----------------------------------------------------------------------

    def _bearer(self, request: Request) -> Response | None:
        # Only the Bearer scheme counts: "Authorization: sk-..." is no key at all to the API.
        scheme, _, got = (request.header("Authorization") or "").partition(" ")
        got = got.strip()
        if scheme.lower() != "bearer" or not got:
            return openai_error(
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                status=401,
            )
        if got != self.key:
            shown = got if self.echo_key else (got[:3] + "*" * 8 + got[-4:])
            return openai_error(
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
                401,
            )
        return None

    def _anthropic_auth(self, request: Request) -> Response | None:
        # x-api-key, as the API has always taken it; the current SDK sends the key as a bearer.
        bearer = request.header("Authorization") or ""
        key = request.header("x-api-key") or (bearer[7:] if bearer.startswith("Bearer ") else "")
        if not key:
            return anthropic_error("x-api-key header is required", "authentication_error", 401)
        if key != self.key:
            shown = f": {key}" if self.echo_key else ""
            return anthropic_error(f"invalid x-api-key{shown}", "authentication_error", 401)
        version = request.header("anthropic-version")
        if not version:
            return anthropic_error(
                "anthropic-version: header is required", "invalid_request_error", 400
            )
        if version not in ANTHROPIC_VERSIONS:
            return anthropic_error(
                f'anthropic-version: "{version}" is not a valid version',
                "invalid_request_error",
                400,
            )
        return None

    def _google_auth(self, request: Request) -> Response | None:
        key = request.header("x-goog-api-key") or (request.query.get("key") or [""])[0]
        if not key:
            return google_error(
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
                403,
                "PERMISSION_DENIED",
            )
        if key != self.key:
            # Google answers a wrong key with 400, not 401; the reason says what it was.
            return Response.json(
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT",
                        "details": [
                            {
                                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                "reason": "API_KEY_INVALID",
                                "domain": "googleapis.com",
                            }
                        ],
                    }
                },
                400,
            )
        return None

    @staticmethod
    def _body(request: Request) -> dict[str, Any] | None:
        try:
            body = request.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    # -- GET models -----------------------------------------------------------------------

    def _models(self, request: Request) -> Response:
        if self.flavor == "anthropic":
            denied = self._anthropic_auth(request)
            if denied:
                return denied
            if not self.list_models:
                return anthropic_error("Not found", "not_found_error", 404)
            data = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
                for m in self.models
            ]
            has_more = False
            if self.page_size is not None:
                after = (request.query.get("after_id") or [""])[0]
                limit = int((request.query.get("limit") or ["20"])[0])
                start = next((i + 1 for i, d in enumerate(data) if d["id"] == after), 0)
                size = min(limit, self.page_size)
                has_more = start + size < len(data)
                data = data[start : start + size]
            return Response.json(
                {
                    "data": data,
                    "has_more": has_more,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                }
            )
        denied = self._bearer(request)
        if denied:
            return denied
        if not self.list_models:
            return openai_error(
                f"Invalid URL (GET {request.path})", "invalid_request_error", status=404
            )
        listed: list[dict[str, Any]] = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
            for m in [*self.models, *self.embedding_models]
        ]
        return Response.json({"object": "list", "data": listed})

    # -- OpenAI chat completions ----------------------------------------------------------

    def _chat_completions(self, request: Request) -> Response:
        denied = self._bearer(request)
        if denied:
            return denied
        body = self._body(request)
        if body is None:
            return openai_error(
                "We could not parse the JSON body of your request.", "invalid_request_error"
            )
        model = body.get("model")
        messages = body.get("messages")
        if not model:
            return openai_error("you must provide a model parameter", "invalid_request_error")
        if not isinstance(messages, list) or not messages:
            return openai_error(
                "[] is too short - 'messages'", "invalid_request_error", "empty_array"
            )
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in (
                "system",
                "developer",
                "user",
                "assistant",
                "tool",
            ):
                return openai_error(
                    f"Invalid value for 'messages[{index}].role'", "invalid_request_error"
                )
            content = message.get("content")
            if json_type(content) not in TEXT_OR_PARTS and not (
                content is None and message["role"] == "assistant"
            ):
                return openai_error(
                    f"Invalid type for 'messages[{index}].content': expected one of a string "
                    f"or array of objects, but got {_OPENAI_TYPE_WORDS.get(json_type(content))} "
                    "instead.",
                    "invalid_request_error",
                    "invalid_type",
                )
        violation = check_fields(body, CHAT_FIELDS)
        if violation is not None:
            return openai_refusal(violation)
        if model not in self.models:
            return openai_error(
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
                404,
            )
        stream = body.get("stream") is True
        if body.get("stream_options") is not None and not stream:
            return openai_error(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "invalid_request_error",
            )
        prompt_tokens = sum(_tokens(str(m.get("content") or "")) for m in messages)
        reply = self.reply
        if self.answer_with is not None:
            reply = [self.answer_with(str(messages[-1].get("content") or ""))]
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(reply),
            "total_tokens": prompt_tokens + len(reply),
        }
        cid = "chatcmpl-" + secrets.token_hex(6)
        created = int(time.time())
        if not stream:
            return Response.json(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": "".join(reply),
                                "refusal": None,
                            },
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                    "system_fingerprint": "fp_fake",
                }
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Response(
            200,
            self._chat_stream(cid, created, model, usage, include_usage),
            {},
            "text/event-stream",
        )

    def _chat_stream(
        self, cid: str, created: int, model: str, usage: dict[str, int], include_usage: bool
    ) -> Iterator[bytes]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                out["usage"] = None
            return out

        events: list[tuple[str | None, Any]] = [(None, chunk({"role": "assistant", "content": ""}))]
        for index, piece in enumerate(self.reply):
            events.append((None, chunk({"content": piece})))
            if self.stream_error is not None and index == 0:
                events.append((None, {"error": self.stream_error}))
                return sse(events)
        if self.truncate_stream:
            return sse(events)
        events.append((None, chunk({}, "stop")))
        if include_usage:
            events.append(
                (
                    None,
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    },
                )
            )
        events.append((None, "[DONE]"))
        return sse(events)

    # -- embeddings -----------------------------------------------------------------------

    def vector(self, text: str) -> list[float]:
        """The fake's embedding of ``text``: deterministic, so tests can check order."""
        digest = hashlib.sha256(text.encode()).digest()
        return [round(digest[i % len(digest)] / 255.0 - 0.5, 6) for i in range(self.dimensions)]

    def _embeddings(self, request: Request) -> Response:
        denied = self._bearer(request)
        if denied:
            return denied
        body = self._body(request) or {}
        model = body.get("model")
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return openai_error(
                "'input' : input must be a string or an array of strings", "invalid_request_error"
            )
        if any(t == "" for t in texts):
            return openai_error(
                "'$.input' is invalid. Please check the API reference", "invalid_request_error"
            )
        violation = check_fields(body, EMBEDDING_FIELDS, ("model",))
        if violation is not None:
            return openai_refusal(violation)
        if model not in self.embedding_models:
            return openai_error(
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
                404,
            )
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            return openai_error("Invalid encoding_format", "invalid_request_error")

        def encode(vector: list[float]) -> Any:
            if encoding == "float":
                return vector
            return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()

        data = [
            {"object": "embedding", "index": i, "embedding": encode(self.vector(t))}
            for i, t in enumerate(texts)
        ]
        data.reverse()  # the API does not promise order; the index field is what counts
        tokens = sum(_tokens(t) for t in texts)
        return Response.json(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    # -- Anthropic Messages ---------------------------------------------------------------

    def _messages(self, request: Request) -> Response:
        denied = self._anthropic_auth(request)
        if denied:
            return denied
        body = self._body(request)
        if body is None:
            return anthropic_error("Invalid JSON body", "invalid_request_error", 400)
        for field in ("model", "max_tokens", "messages"):
            if field not in body:
                return anthropic_error(f"{field}: Field required", "invalid_request_error", 400)
        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            return anthropic_error(
                "messages: at least one message is required", "invalid_request_error", 400
            )
        for index, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ("user", "assistant"):
                return anthropic_error(
                    f'messages.{index}.role: Input should be "user" or "assistant"',
                    "invalid_request_error",
                    400,
                )
        if body.get("system") is not None and not isinstance(body["system"], str | list):
            return anthropic_error(
                "system: Input should be a valid string", "invalid_request_error", 400
            )
        violation = check_fields(body, MESSAGES_FIELDS)
        if violation is not None:
            return anthropic_refusal(violation)
        for index, message in enumerate(messages):
            if json_type(message.get("content")) not in TEXT_OR_PARTS:
                return anthropic_error(
                    f"messages.{index}.content: Input should be a valid list",
                    "invalid_request_error",
                    400,
                )
        model = body["model"]
        if model not in self.models:
            return anthropic_error(f"model: {model}", "not_found_error", 404)
        input_tokens = sum(_tokens(json.dumps(m.get("content"))) for m in messages)
        mid = "msg_" + secrets.token_hex(8)
        if body.get("stream") is not True:
            return Response.json(
                anthropic_message(
                    mid,
                    model,
                    [{"type": "text", "text": "".join(self.reply)}],
                    "end_turn",
                    {"input_tokens": input_tokens, "output_tokens": len(self.reply)},
                )
            )
        return Response(
            200, self._messages_stream(mid, model, input_tokens), {}, "text/event-stream"
        )

    def _messages_stream(self, mid: str, model: str, input_tokens: int) -> Iterator[bytes]:
        events: list[tuple[str | None, Any]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": anthropic_message(
                        mid, model, [], None, {"input_tokens": input_tokens, "output_tokens": 1}
                    ),
                },
            ),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            ("ping", {"type": "ping"}),
        ]
        for index, piece in enumerate(self.reply):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
            )
            if self.stream_error is not None and index == 0:
                events.append(("error", {"type": "error", "error": self.stream_error}))
                return sse(events)
        if self.truncate_stream:
            return sse(events)
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        events += anthropic_stream_end("end_turn", len(self.reply))
        return sse(events)

    # -- OpenAI Responses -----------------------------------------------------------------

    def _responses(self, request: Request) -> Response:
        denied = self._bearer(request)
        if denied:
            return denied
        body = self._body(request)
        if body is None or not body.get("model") or "input" not in body:
            return openai_error("Missing required parameter: 'input'.", "invalid_request_error")
        model = body["model"]
        if model not in self.models:
            return openai_error(
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
                404,
            )
        if "max_tokens" in body:
            return openai_error("Unsupported parameter: 'max_tokens'.", "invalid_request_error")
        violation = check_fields(body, RESPONSES_FIELDS)
        if violation is not None:
            return openai_refusal(violation)
        items = body["input"] if isinstance(body["input"], list) else [body["input"]]
        input_tokens = sum(_tokens(json.dumps(i)) for i in items)
        usage = {
            "input_tokens": input_tokens,
            "output_tokens": len(self.reply),
            "total_tokens": input_tokens + len(self.reply),
        }
        rid = "resp_" + secrets.token_hex(8)
        item_id = "msg_" + secrets.token_hex(8)
        text = "".join(self.reply)
        done_item = {
            "id": item_id,
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        response = {
            "id": rid,
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": model,
            "output": [
                {"id": "rs_" + secrets.token_hex(4), "type": "reasoning", "summary": []},
                done_item,
            ],
            "usage": usage,
            "store": body.get("store", True),
        }
        if body.get("stream") is not True:
            return Response.json(response)
        started = {**response, "status": "in_progress", "output": [], "usage": None}
        events: list[tuple[str | None, Any]] = [
            (
                "response.created",
                {"type": "response.created", "sequence_number": 0, "response": started},
            ),
            (
                "response.in_progress",
                {"type": "response.in_progress", "sequence_number": 1, "response": started},
            ),
            (
                "response.output_item.added",
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {**done_item, "status": "in_progress", "content": []},
                },
            ),
        ]
        events += responses_text_deltas(item_id, self.reply)
        if self.truncate_stream:
            return Response(200, sse(events), {}, "text/event-stream")
        events += [
            (
                "response.output_text.done",
                {
                    "type": "response.output_text.done",
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "text": text,
                },
            ),
            (
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": 0, "item": done_item},
            ),
            ("response.completed", {"type": "response.completed", "response": response}),
        ]
        return Response(200, sse(events), {}, "text/event-stream")

    # -- Gemini ---------------------------------------------------------------------------

    def _gemini(self, request: Request, target: str) -> Response:
        denied = self._google_auth(request)
        if denied:
            return denied
        model, _, method = target.partition(":")
        body = self._body(request) or {}
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return google_error("contents is not specified", 400, "INVALID_ARGUMENT")
        violation = check_fields(body, GEMINI_FIELDS) or check_fields(
            body.get("generationConfig") or {}, GEMINI_GENERATION_FIELDS
        )
        if violation is not None:
            where = "" if violation.field in GEMINI_FIELDS else "generationConfig."
            return google_refusal(violation, where)
        if model not in self.models:
            return Response.json(
                {
                    "error": {
                        "code": 404,
                        "message": f"models/{model} is not found",
                        "status": "NOT_FOUND",
                    }
                },
                404,
            )
        prompt = sum(_tokens(json.dumps(c)) for c in contents)
        usage = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": len(self.reply),
            "totalTokenCount": prompt + len(self.reply),
        }

        def answer(text: str, finish: str | None, with_usage: bool) -> dict[str, Any]:
            candidate: dict[str, Any] = {
                "content": {"parts": [{"text": text}], "role": "model"},
                "index": 0,
            }
            if finish:
                candidate["finishReason"] = finish
            out: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
            if with_usage:
                out["usageMetadata"] = usage
            return out

        if method == "generateContent":
            return Response.json(answer("".join(self.reply), "STOP", True))
        if method == "streamGenerateContent" and request.query.get("alt") == ["sse"]:
            last = len(self.reply) - 1
            frames = [
                (None, answer(piece, "STOP" if i == last else None, i == last))
                for i, piece in enumerate(self.reply)
            ]
            return Response(200, sse(frames), {}, "text/event-stream")
        return Response.json(
            {
                "error": {
                    "code": 404,
                    "message": f"Method {method} not found",
                    "status": "NOT_FOUND",
                }
            },
            404,
        )
