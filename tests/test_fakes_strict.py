"""The loopback fakes refuse what the real services refuse, with the real status and error shape.

One case per rule: a request that breaks exactly that rule, next to a control request that
differs only there and is accepted, so a fake that refused everything would fail too. The
words and shapes are those the services document (OpenAI ``invalid_type``, Anthropic's
pydantic messages, Google's ``INVALID_ARGUMENT``, the Codex backend's ``detail``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.fakes.codex_server import CLIENT_ID, FakeChatGPT
from tests.fakes.providers import FakeProvider

KEY = "sk-test-strict-0123456789KEY"
OMIT = object()  # a field or header the case leaves out


def openai_shaped(doc: Any) -> bool:
    return set(doc["error"]) == {"message", "type", "param", "code"}


def anthropic_shaped(doc: Any) -> bool:
    return doc["type"] == "error" and set(doc["error"]) == {"type", "message"}


def google_shaped(doc: Any) -> bool:
    return {"code", "message", "status"} <= set(doc["error"])


def detail_shaped(doc: Any) -> bool:
    return isinstance(doc.get("detail"), str | list)


@dataclass
class Case:
    """``changes`` is merged into the control body (OMIT deletes a field); same for headers."""

    id: str
    status: int
    words: str
    changes: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    raw: bytes | None = None


@dataclass
class Endpoint:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    shaped: Callable[[Any], bool]


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for name, value in changes.items():
        if value is OMIT:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def send(base_url: str, endpoint: Endpoint, case: Case | None = None) -> httpx.Response:
    case = case or Case("control", 200, "")
    headers = merged(endpoint.headers, case.headers)
    if endpoint.method == "GET":
        return httpx.get(f"{base_url}/{endpoint.path}", headers=headers, timeout=30)
    content = case.raw if case.raw is not None else json.dumps(merged(endpoint.body, case.changes))
    headers.setdefault("Content-Type", "application/json")
    return httpx.post(f"{base_url}/{endpoint.path}", content=content, headers=headers, timeout=30)


def check(base_url: str, endpoint: Endpoint, case: Case) -> None:
    control = send(base_url, endpoint)
    assert control.status_code == 200, control.text  # the same request minus the fault passes
    refused = send(base_url, endpoint, case)
    assert refused.status_code == case.status, refused.text
    doc = refused.json()
    assert endpoint.shaped(doc), doc
    assert case.words in " | ".join(strings(doc)), doc


def strings(doc: Any) -> Iterator[str]:
    """Every string in a decoded error body (message, type, code, status, reasons)."""
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for value in doc.values():
            yield from strings(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from strings(value)


@pytest.fixture(scope="module")
def openai_fake() -> Iterator[FakeProvider]:
    with FakeProvider(key=KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def anthropic_fake() -> Iterator[FakeProvider]:
    with FakeProvider(key=KEY, flavor="anthropic") as fake:
        yield fake


# -- OpenAI chat completions ----------------------------------------------------------------

BEARER = {"Authorization": f"Bearer {KEY}"}
CHAT = Endpoint(
    "POST",
    "chat/completions",
    {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    BEARER,
    openai_shaped,
)
NO_KEY = "You didn't provide an API key"
CHAT_CASES = [
    Case("key-without-bearer", 401, NO_KEY, headers={"Authorization": KEY}),
    Case("basic-scheme", 401, NO_KEY, headers={"Authorization": f"Basic {KEY}"}),
    Case("no-authorization", 401, NO_KEY, headers={"Authorization": OMIT}),
    Case("wrong-key", 401, "invalid_api_key", headers={"Authorization": "Bearer sk-nope-0000"}),
    Case("not-json", 400, "could not parse the JSON body", raw=b"{not json"),
    Case("no-model", 400, "you must provide a model parameter", {"model": OMIT}),
    Case("no-messages", 400, "'messages'", {"messages": OMIT}),
    Case("empty-messages", 400, "'messages'", {"messages": []}),
    Case("bad-role", 400, "messages[0].role", {"messages": [{"role": "wizard", "content": "x"}]}),
    Case(
        "content-number",
        400,
        "Invalid type for 'messages[0].content': expected one of a string or array of objects, "
        "but got an integer instead.",
        {"messages": [{"role": "user", "content": 42}]},
    ),
    Case(
        "content-object",
        400,
        "messages[0].content",
        {"messages": [{"role": "user", "content": {"text": "hi"}}]},
    ),
    Case(
        "max-tokens-string",
        400,
        "Invalid type for 'max_tokens': expected an integer, but got a string instead.",
        {"max_tokens": "lots"},
    ),
    Case("max-tokens-boolean", 400, "'max_tokens'", {"max_tokens": True}),
    Case(
        "temperature-string",
        400,
        "Invalid type for 'temperature': expected a decimal, but got a string instead.",
        {"temperature": "hot"},
    ),
    Case("stream-string", 400, "Invalid type for 'stream'", {"stream": "yes"}),
    Case("seed-float", 400, "Invalid type for 'seed'", {"seed": 1.5}),
    Case(
        "unknown-field",
        400,
        "Unrecognized request argument supplied: temprature",
        {"temprature": 0.2},
    ),
    Case(
        "stream-options-without-stream",
        400,
        "'stream_options' parameter is only allowed",
        {"stream_options": {"include_usage": True}},
    ),
    Case("unknown-model", 404, "model_not_found", {"model": "gpt-nope"}),
]


@pytest.mark.parametrize("case", CHAT_CASES, ids=lambda c: c.id)
def test_openai_chat_refuses(openai_fake: FakeProvider, case: Case) -> None:
    check(openai_fake.base_url, CHAT, case)


def test_openai_chat_takes_what_the_api_takes(openai_fake: FakeProvider) -> None:
    """Null optional fields, content parts, an assistant turn without content, known params."""
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": None},
            {"role": "user", "content": "again"},
        ],
        "temperature": 1,
        "max_tokens": 5,
        "stop": None,
        "seed": 7,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    answer = httpx.post(f"{openai_fake.base_url}/chat/completions", json=body, headers=BEARER)
    assert answer.status_code == 200 and "[DONE]" in answer.text


# -- OpenAI embeddings and Responses ---------------------------------------------------------

EMBEDDINGS = Endpoint(
    "POST",
    "embeddings",
    {"model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": "float"},
    BEARER,
    openai_shaped,
)
EMBEDDING_CASES = [
    Case("key-without-bearer", 401, NO_KEY, headers={"Authorization": KEY}),
    Case("no-input", 400, "'input'", {"input": OMIT}),
    Case("input-numbers", 400, "input must be a string or an array of strings", {"input": [1, 2]}),
    Case("input-empty-string", 400, "'$.input' is invalid", {"input": [""]}),
    Case("no-model", 400, "model", {"model": OMIT}),
    Case("dimensions-string", 400, "Invalid type for 'dimensions'", {"dimensions": "4"}),
    Case("encoding-format", 400, "encoding_format", {"encoding_format": "hex"}),
    Case("unknown-field", 400, "Unrecognized request argument supplied: batch", {"batch": 2}),
]


@pytest.mark.parametrize("case", EMBEDDING_CASES, ids=lambda c: c.id)
def test_openai_embeddings_refuse(openai_fake: FakeProvider, case: Case) -> None:
    check(openai_fake.base_url, EMBEDDINGS, case)


RESPONSES = Endpoint(
    "POST", "responses", {"model": "gpt-5.2", "input": "hi"}, BEARER, openai_shaped
)
RESPONSES_CASES = [
    Case("key-without-bearer", 401, NO_KEY, headers={"Authorization": KEY}),
    Case("no-input", 400, "Missing required parameter: 'input'.", {"input": OMIT}),
    Case("max-tokens", 400, "Unsupported parameter: 'max_tokens'.", {"max_tokens": 5}),
    Case(
        "max-output-tokens-string",
        400,
        "Invalid type for 'max_output_tokens'",
        {"max_output_tokens": "5"},
    ),
    Case("input-number", 400, "Invalid type for 'input'", {"input": 5}),
    Case(
        "unknown-field", 400, "Unrecognized request argument supplied: messages", {"messages": []}
    ),
]


@pytest.mark.parametrize("case", RESPONSES_CASES, ids=lambda c: c.id)
def test_openai_responses_refuse(openai_fake: FakeProvider, case: Case) -> None:
    check(openai_fake.base_url, RESPONSES, case)


def test_openai_models_listing_needs_bearer(openai_fake: FakeProvider) -> None:
    check(openai_fake.base_url, Endpoint("GET", "models", {}, BEARER, openai_shaped),
          Case("key-without-bearer", 401, NO_KEY, headers={"Authorization": KEY}))  # fmt: skip


# -- Anthropic Messages ------------------------------------------------------------------------

ANTHROPIC_HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
MESSAGES = Endpoint(
    "POST",
    "messages",
    {
        "model": "claude-sonnet-4-5",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "hi"}],
    },
    ANTHROPIC_HEADERS,
    anthropic_shaped,
)
MESSAGES_CASES = [
    Case("no-key", 401, "x-api-key header is required", headers={"x-api-key": OMIT}),
    Case(
        "key-in-authorization-without-bearer",
        401,
        "x-api-key header is required",
        headers={"x-api-key": OMIT, "Authorization": KEY},
    ),
    Case("wrong-key", 401, "authentication_error", headers={"x-api-key": "sk-ant-nope"}),
    Case(
        "no-version",
        400,
        "anthropic-version: header is required",
        headers={"anthropic-version": OMIT},
    ),
    Case(
        "garbage-version",
        400,
        'anthropic-version: "garbage" is not a valid version',
        headers={"anthropic-version": "garbage"},
    ),
    Case("no-max-tokens", 400, "max_tokens: Field required", {"max_tokens": OMIT}),
    Case(
        "max-tokens-string",
        400,
        "max_tokens: Input should be a valid integer",
        {"max_tokens": "many"},
    ),
    Case(
        "temperature-string",
        400,
        "temperature: Input should be a valid number",
        {"temperature": "hot"},
    ),
    Case("unknown-field", 400, "stop: Extra inputs are not permitted", {"stop": ["x"]}),
    Case(
        "content-number",
        400,
        "messages.0.content: Input should be a valid list",
        {"messages": [{"role": "user", "content": 42}]},
    ),
    Case(
        "system-role-in-messages",
        400,
        'messages.0.role: Input should be "user" or "assistant"',
        {"messages": [{"role": "system", "content": "x"}]},
    ),
    Case("system-number", 400, "system: Input should be a valid string", {"system": 5}),
    Case("unknown-model", 404, "not_found_error", {"model": "claude-nope"}),
]


@pytest.mark.parametrize("case", MESSAGES_CASES, ids=lambda c: c.id)
def test_anthropic_messages_refuse(anthropic_fake: FakeProvider, case: Case) -> None:
    check(anthropic_fake.base_url, MESSAGES, case)


def test_anthropic_models_listing_needs_a_valid_version(anthropic_fake: FakeProvider) -> None:
    check(anthropic_fake.base_url, Endpoint("GET", "models", {}, ANTHROPIC_HEADERS, anthropic_shaped),
          Case("garbage-version", 400, "is not a valid version",
               headers={"anthropic-version": "garbage"}))  # fmt: skip


# -- Gemini --------------------------------------------------------------------------------------

GEMINI = Endpoint(
    "POST",
    "models/gemini-3-pro:generateContent",
    {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    {"x-goog-api-key": KEY},
    google_shaped,
)
GEMINI_CASES = [
    Case("no-key", 403, "PERMISSION_DENIED", headers={"x-goog-api-key": OMIT}),
    Case("wrong-key", 400, "API_KEY_INVALID", headers={"x-goog-api-key": "AIza-nope"}),
    Case("no-contents", 400, "contents is not specified", {"contents": OMIT}),
    Case(
        "unknown-field",
        400,
        'Unknown name "generation_config": Cannot find field.',
        {"generation_config": {}},
    ),
    Case(
        "max-output-tokens-string",
        400,
        "Invalid value at 'generationConfig.maxOutputTokens'",
        {"generationConfig": {"maxOutputTokens": "lots"}},
    ),
    Case("contents-object", 400, "contents is not specified", {"contents": {"text": "hi"}}),
]


@pytest.mark.parametrize("case", GEMINI_CASES, ids=lambda c: c.id)
def test_gemini_refuses(openai_fake: FakeProvider, case: Case) -> None:
    check(openai_fake.base_url, GEMINI, case)


def test_gemini_unknown_model_is_not_found(openai_fake: FakeProvider) -> None:
    path = "models/gemini-nope:generateContent"
    refused = send(
        openai_fake.base_url, Endpoint("POST", path, GEMINI.body, GEMINI.headers, google_shaped)
    )
    assert refused.status_code == 404 and refused.json()["error"]["status"] == "NOT_FOUND"


# -- the Codex backend and the ChatGPT auth server --------------------------------------------


@pytest.fixture(scope="module")
def chatgpt() -> Iterator[FakeChatGPT]:
    with FakeChatGPT() as fake:
        yield fake


@pytest.fixture(scope="module")
def codex_headers(chatgpt: FakeChatGPT) -> dict[str, str]:
    tokens = chatgpt.issue_tokens(account_id="acct_strict", access_lifetime=3600)
    return {"Authorization": f"Bearer {tokens.access_token}", "ChatGPT-Account-ID": "acct_strict"}


CODEX_BODY = {
    "model": "gpt-5.5",
    "instructions": "Be brief.",
    "input": [{"role": "user", "content": "hi"}],
    "store": False,
    "stream": True,
}
CODEX_CASES = [
    Case("no-account-header", 403, "ChatGPT-Account-ID", headers={"ChatGPT-Account-ID": OMIT}),
    Case("wrong-account", 403, "ChatGPT-Account-ID", headers={"ChatGPT-Account-ID": "acct_x"}),
    Case("no-input", 400, "Input is required", {"input": OMIT}),
    Case("input-string", 400, "Input must be a list", {"input": "hi"}),
    Case("no-instructions", 400, "Instructions are required", {"instructions": OMIT}),
    Case("instructions-list", 400, "Instructions are not valid", {"instructions": ["x"]}),
    Case("store-true", 400, "Store must be set to false", {"store": True}),
    Case("no-stream", 400, "Stream must be set to true", {"stream": OMIT}),
    Case(
        "max-output-tokens",
        400,
        "Unsupported parameter: max_output_tokens",
        {"max_output_tokens": 5},
    ),
    Case("temperature", 400, "Unsupported parameter: temperature", {"temperature": 0.2}),
    Case("messages-field", 400, "Unsupported parameter: messages", {"messages": []}),
    Case("unknown-model", 400, "not supported when using Codex", {"model": "gpt-3.5-turbo"}),
]


@pytest.mark.parametrize("case", CODEX_CASES, ids=lambda c: c.id)
def test_codex_backend_refuses(
    chatgpt: FakeChatGPT, codex_headers: dict[str, str], case: Case
) -> None:
    endpoint = Endpoint("POST", "responses", CODEX_BODY, codex_headers, detail_or_error_shaped)
    check(chatgpt.codex_base, endpoint, case)


def detail_or_error_shaped(doc: Any) -> bool:
    return detail_shaped(doc) or openai_shaped(doc)


def test_codex_backend_wants_the_bearer_scheme(
    chatgpt: FakeChatGPT, codex_headers: dict[str, str]
) -> None:
    token = codex_headers["Authorization"].removeprefix("Bearer ")
    endpoint = Endpoint("POST", "responses", CODEX_BODY, codex_headers, openai_shaped)
    check(chatgpt.codex_base, endpoint, Case("token-without-bearer", 401, "token_expired",
                                             headers={"Authorization": token}))  # fmt: skip


def test_codex_models_need_client_version(
    chatgpt: FakeChatGPT, codex_headers: dict[str, str]
) -> None:
    listed = httpx.get(
        f"{chatgpt.codex_base}/models", params={"client_version": "0.135.0"}, headers=codex_headers
    )
    assert listed.status_code == 200
    refused = httpx.get(f"{chatgpt.codex_base}/models", headers=codex_headers)
    assert refused.status_code == 400 and refused.json()["detail"][0]["msg"] == "Field required"


def test_device_code_request_must_be_json_with_the_client_id(chatgpt: FakeChatGPT) -> None:
    url = f"{chatgpt.issuer}/api/accounts/deviceauth/usercode"
    assert httpx.post(url, json={"client_id": CLIENT_ID}).status_code == 200
    assert httpx.post(url, data={"client_id": CLIENT_ID}).status_code == 415
    wrong = httpx.post(url, json={"client_id": "app_other"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_client"


def test_token_endpoint_wants_a_form_and_a_known_grant(chatgpt: FakeChatGPT) -> None:
    url = f"{chatgpt.issuer}/oauth/token"
    exchange = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "code": "ac_unknown",
        "code_verifier": "v",
        "redirect_uri": f"{chatgpt.issuer}/deviceauth/callback",
    }
    as_json = httpx.post(url, json=exchange)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    as_form = httpx.post(url, data=exchange)  # well-formed: refused only for the unknown code
    assert as_form.status_code == 400 and as_form.json()["error"] == "invalid_grant"
    grant = httpx.post(url, data={**exchange, "grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


def test_openai_type_errors_name_the_param(openai_fake: FakeProvider) -> None:
    body = {**CHAT.body, "max_tokens": "lots"}
    refused = httpx.post(f"{openai_fake.base_url}/chat/completions", json=body, headers=BEARER)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "max_tokens"
    assert refused.json()["error"]["code"] == "invalid_type"
