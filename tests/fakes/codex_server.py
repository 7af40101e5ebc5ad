"""A faithful loopback fake of "Sign in with ChatGPT" and the Codex backend.

One :class:`FakeChatGPT` serves two prefixes on 127.0.0.1:

- the auth server (``.issuer``): ``/api/accounts/deviceauth/usercode``,
  ``/api/accounts/deviceauth/token``, ``/oauth/token``, ``/oauth/revoke``;
- the Codex backend (``.codex_base`` = ``.issuer + "/backend-api/codex"``):
  ``POST /responses`` (SSE) and ``GET /models``.

It follows §6 of the protocol note: device codes with a string ``interval``,
server-generated PKCE pairs, single-use authorization codes, single-use
rotating refresh tokens grouped in families (reuse revokes the family),
JWTs with ``alg: none`` and the ``https://api.openai.com/auth`` claims, and
the backend's 400/401/403/429 answers with their real bodies (a ``/responses``
body needs ``instructions``, ``input`` as a list of items, ``store: false`` and
``stream: true``; see ``tests/test_fakes_strict.py``).

Knobs are plain attributes (set them before or during a test); counters are in
``counts`` (a :class:`collections.Counter`); every request is in ``requests``.
Control routes under ``/__fake__/`` (approve, deny, expire, revoke) do what the
methods of the same names do, for tests that prefer HTTP.

Seeding a signed-in store without the device flow::

    fake = FakeChatGPT().start()
    tokens = fake.issue_tokens(account_id="acct_1", access_lifetime=3600)
    store.set("chatgpt", tokens.storage_json())
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from tests.fakes.formats import responses_text_deltas
from tests.fakes.http import FakeService, LoopbackServer, Request, Response, sse

__all__ = [
    "CLIENT_ID",
    "DEFAULT_MODELS",
    "FakeChatGPT",
    "FakeTokens",
    "make_jwt",
    "post_refresh",
    "read_jwt",
    "responses_body",
]

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
AUTH_CLAIMS = "https://api.openai.com/auth"
PROFILE_CLAIMS = "https://api.openai.com/profile"
CODEX_PREFIX = "/backend-api/codex"

# What the Codex backend takes in a /responses body; it is not the public Responses API and
# answers any other field (temperature, top_p, max_output_tokens, seed, metadata, user,
# truncation, service_tier, ...) with 400 {"detail": "Unsupported parameter: <name>"}.
CODEX_FIELDS = frozenset(
    {
        "model",
        "instructions",
        "input",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning",
        "store",
        "stream",
        "include",
        "prompt_cache_key",
        "text",
    }
)

TOKEN_EXPIRED_BODY = {
    "error": {
        "message": "Provided authentication token is expired. Please try signing in again.",
        "type": "invalid_request_error",
        "code": "token_expired",
        "param": None,
    }
}

# Shaped like the live list for a Plus account at client_version 0.135.0 (protocol note §4),
# plus one model gated above that version and the one hidden entry.
DEFAULT_MODELS: list[dict[str, Any]] = [
    {
        "slug": "gpt-5.5",
        "display_name": "GPT-5.5",
        "description": "Latest frontier agentic coding model.",
        "default_reasoning_level": "medium",
        "supported_reasoning_levels": [
            {"effort": "low", "description": "Fast"},
            {"effort": "medium", "description": "Balanced"},
            {"effort": "high", "description": "Thorough"},
        ],
        "visibility": "list",
        "supported_in_api": True,
        "priority": 1,
        "minimal_client_version": "0.130.0",
        "context_window": 400000,
        "input_modalities": ["text", "image"],
    },
    {
        "slug": "gpt-5.4",
        "display_name": "GPT-5.4",
        "description": "Strong general coding model.",
        "default_reasoning_level": "medium",
        "supported_reasoning_levels": [
            {"effort": "low", "description": "Fast"},
            {"effort": "medium", "description": "Balanced"},
        ],
        "visibility": "list",
        "supported_in_api": True,
        "priority": 2,
        "minimal_client_version": "0.100.0",
        "context_window": 272000,
        "input_modalities": ["text", "image"],
    },
    {
        "slug": "gpt-5.4-mini",
        "display_name": "GPT-5.4 mini",
        "description": "Smaller, faster.",
        "default_reasoning_level": "low",
        "supported_reasoning_levels": [{"effort": "low", "description": "Fast"}],
        "visibility": "list",
        "supported_in_api": True,
        "priority": 4,
        "minimal_client_version": "0.100.0",
        "context_window": 272000,
        "input_modalities": ["text"],
    },
    {
        "slug": "gpt-5.3-codex-spark",
        "display_name": "GPT-5.3-Codex-Spark",
        "description": "Ultra-fast coding model.",
        "default_reasoning_level": "low",
        "supported_reasoning_levels": [{"effort": "low", "description": "Fast"}],
        "visibility": "list",
        "supported_in_api": False,
        "priority": 3,
        "minimal_client_version": "0.120.0",
        "context_window": 128000,
        "input_modalities": ["text"],
    },
    {
        "slug": "codex-auto-review",
        "display_name": "Codex auto review",
        "description": "Internal review model.",
        "default_reasoning_level": "medium",
        "supported_reasoning_levels": [],
        "visibility": "hide",
        "supported_in_api": False,
        "priority": 9,
        "minimal_client_version": "0.100.0",
        "context_window": 272000,
        "input_modalities": ["text"],
    },
    {
        "slug": "gpt-6-preview",
        "display_name": "GPT-6 preview",
        "description": "Needs a newer client.",
        "default_reasoning_level": "medium",
        "supported_reasoning_levels": [],
        "visibility": "list",
        "supported_in_api": True,
        "priority": 0,
        "minimal_client_version": "9.0.0",
        "context_window": 500000,
        "input_modalities": ["text"],
    },
]


# -- JWTs ---------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT as the protocol note describes: ``alg: none``, signature ``sig``."""
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.sig"


def read_jwt(token: str) -> dict[str, Any]:
    """The payload of a JWT minted by :func:`make_jwt` (for assertions in tests)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return (0,)


# -- state --------------------------------------------------------------------------------


@dataclass
class FakeAccount:
    account_id: str = "acct_fake_1"
    email: str = "ada@example.com"
    plan: str = "plus"
    user_id: str = "user-fake-1"


@dataclass
class _DeviceAuth:
    device_auth_id: str
    user_code: str
    interval: str
    expires_at: float
    status: str = "pending"  # pending | approved | consumed | denied | expired
    account: FakeAccount | None = None
    authorization_code: str = ""
    last_poll: float | None = None


@dataclass
class _AuthCode:
    code: str
    verifier: str
    challenge: str
    account: FakeAccount
    used: bool = False


@dataclass
class _Family:
    account: FakeAccount
    revoked: bool = False


@dataclass
class _RefreshToken:
    family: _Family
    state: str = "current"  # current | used | expired


@dataclass
class _AccessToken:
    family: _Family
    exp: int
    invalidated: bool = False


@dataclass(frozen=True)
class FakeTokens:
    """Tokens the fake minted, plus the storage document takopi_nb keeps in the secret store."""

    id_token: str
    access_token: str
    refresh_token: str
    account_id: str
    expires_at: float
    last_refresh: float

    def __repr__(self) -> str:  # tests print these on failure: keep token text out
        return f"FakeTokens(account_id={self.account_id!r}, expires_at={self.expires_at})"

    def storage(self) -> dict[str, Any]:
        """The secret-store document of takopi_nb (``kind: codex-oauth``)."""
        return {
            "kind": "codex-oauth",
            "id_token": self.id_token,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "account_id": self.account_id,
            "expires_at": self.expires_at,
            "last_refresh": self.last_refresh,
        }

    def storage_json(self) -> str:
        return json.dumps(self.storage())


# -- what clients send it: the requests of the Codex CLI, for tests that act as a client ---------


def post_refresh(issuer: str, refresh_token: str, *, form: bool = False) -> httpx.Response:
    """A client's refresh with ``refresh_token`` (JSON as the Codex CLI sends it, or a form)."""
    fields = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": refresh_token}
    if form:
        return httpx.post(f"{issuer}/oauth/token", data=fields)
    return httpx.post(f"{issuer}/oauth/token", json=fields)


def responses_body(**fields: Any) -> dict[str, Any]:
    """A valid ``POST /responses`` body saying "hi" (``fields`` replace or, given ``...``, drop)."""
    body: dict[str, Any] = {
        "model": "gpt-5.4",
        "instructions": "Be brief.",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        ],
        "store": False,
        "stream": True,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not ...}


@dataclass
class RecordedCall:
    """What the backend saw on one call (headers lower-cased, body parsed when JSON)."""

    path: str
    headers: dict[str, str]
    body: Any = None
    query: dict[str, list[str]] = field(default_factory=dict)


# -- the server ---------------------------------------------------------------------------


class FakeChatGPT(FakeService):
    """The ChatGPT auth server and Codex backend, on one loopback port."""

    def __init__(
        self,
        *,
        interval: str | int | None = "0",
        access_lifetime: float = 3600.0,
        device_code_lifetime: float = 900.0,
        account: FakeAccount | None = None,
    ) -> None:
        # Device code knobs.
        self.interval = interval
        """``interval`` as ``usercode`` returns it: a string like the live server; None omits it."""
        self.device_code_lifetime = device_code_lifetime
        self.usercode_status: int | None = None
        """Answer ``usercode`` with this status instead (404: device login disabled, 503)."""
        self.slow_down_polls = 0
        """The next N polls answer 403 ``slow_down``."""
        self.enforce_interval = False
        """Answer ``slow_down`` to a poll that comes sooner than ``interval`` after the last one."""
        # Token knobs.
        self.access_lifetime = access_lifetime
        """Lifetime (s) of every access token minted from now on."""
        self.refresh_status: int | None = None
        """Answer refresh requests with this status (e.g. 500) while ``refresh_failures`` > 0."""
        self.refresh_failures = 0
        self.refresh_delay = 0.0
        """Seconds to hold each refresh request before answering (widens race windows)."""
        self.reuse_revokes_family = True
        """A reused refresh token revokes its whole family, as the live server does."""
        # Backend knobs.
        self.check_account_header = True
        """403 when ``ChatGPT-Account-ID`` is missing or not the token's account."""
        self.rate_limit: str | None = None
        """``"usage_limit_reached"`` or ``"usage_not_included"``: /responses answers 429."""
        self.resets_in = 3600.0
        self.reply_chunks: list[str] = ["Hello", " from", " the fake", " Codex."]
        self.stream_error: dict[str, Any] | None = None
        """When set, /responses streams ``response.failed`` with this error after ``created``."""
        self.models: list[dict[str, Any]] = [dict(m) for m in DEFAULT_MODELS]
        self.models_status: int | None = None
        """Answer ``GET /models`` with this status (e.g. 500) instead of the list."""
        self.models_raw_body: bytes | None = None
        """Answer ``GET /models`` 200 with this body as is (for malformed-answer tests)."""
        self.respond_with: Callable[[dict[str, Any]], Response | None] | None = None
        """Consulted for each accepted /responses body; a Response it returns is sent instead
        (e.g. :class:`tests.fakes.tool_calls.ToolScript` answering requests with tools)."""

        self.default_account = account or FakeAccount()
        self.counts: Counter[str] = Counter()
        self.responses_calls: list[RecordedCall] = []
        self.models_calls: list[RecordedCall] = []

        self._state_lock = threading.RLock()
        self._device: dict[str, _DeviceAuth] = {}
        self._codes: dict[str, _AuthCode] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._access: dict[str, _AccessToken] = {}
        self._server = LoopbackServer(
            {
                ("POST", "/api/accounts/deviceauth/usercode"): self._usercode,
                ("POST", "/api/accounts/deviceauth/token"): self._poll,
                ("POST", "/oauth/token"): self._token,
                ("POST", "/oauth/revoke"): self._revoke,
                ("POST", CODEX_PREFIX + "/responses"): self._responses,
                ("GET", CODEX_PREFIX + "/models"): self._models,
                ("POST", "/__fake__/approve"): self._ctl_approve,
                ("POST", "/__fake__/deny"): self._ctl_deny,
                ("POST", "/__fake__/expire"): self._ctl_expire,
                ("POST", "/__fake__/revoke"): self._ctl_revoke,
            }
        )

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self._server.url

    @property
    def codex_base(self) -> str:
        return self._server.url + CODEX_PREFIX

    @property
    def requests(self) -> list[Request]:
        return self._server.requests

    def requests_to(self, path: str) -> list[Request]:
        return self._server.requests_to(path)

    # -- direct control (what /__fake__/ routes call) --------------------------------------

    def issue_tokens(
        self,
        *,
        account_id: str | None = None,
        email: str | None = None,
        plan: str | None = None,
        access_lifetime: float | None = None,
        last_refresh: float | None = None,
    ) -> FakeTokens:
        """Mint a new token family, as if a device login had just completed."""
        base = self.default_account
        account = FakeAccount(
            account_id=account_id or base.account_id,
            email=email or base.email,
            plan=plan or base.plan,
            user_id=base.user_id,
        )
        with self._state_lock:
            raw = self._mint(_Family(account), access_lifetime)
        now = time.time()
        return FakeTokens(
            id_token=raw["id_token"],
            access_token=raw["access_token"],
            refresh_token=raw["refresh_token"],
            account_id=account.account_id,
            expires_at=read_jwt(raw["access_token"])["exp"],
            last_refresh=now if last_refresh is None else last_refresh,
        )

    def approve(self, user_code: str, account: FakeAccount | None = None) -> None:
        with self._state_lock:
            device = self._device_by_code(user_code)
            device.status = "approved"
            device.account = account or self.default_account

    def deny(self, user_code: str) -> None:
        with self._state_lock:
            self._device_by_code(user_code).status = "denied"

    def expire(self, user_code: str) -> None:
        with self._state_lock:
            self._device_by_code(user_code).status = "expired"

    def revoke(self, refresh_token: str) -> bool:
        """Revoke the family of ``refresh_token`` (logout). False when the token is unknown."""
        with self._state_lock:
            entry = self._refresh.get(refresh_token)
            if entry is None:
                return False
            entry.family.revoked = True
            return True

    def expire_refresh_token(self, refresh_token: str) -> None:
        with self._state_lock:
            self._refresh[refresh_token].state = "expired"

    def invalidate_access_token(self, access_token: str) -> None:
        """Make the backend reject ``access_token`` (401) while its ``exp`` still looks valid."""
        with self._state_lock:
            self._access[access_token].invalidated = True

    def user_codes(self) -> list[str]:
        with self._state_lock:
            return [d.user_code for d in self._device.values()]

    def is_current_refresh_token(self, refresh_token: str) -> bool:
        with self._state_lock:
            entry = self._refresh.get(refresh_token)
            return bool(entry and entry.state == "current" and not entry.family.revoked)

    # -- helpers --------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        # Handlers run on several server threads; a bare Counter += is not atomic.
        with self._state_lock:
            self.counts[name] += 1

    def _device_by_code(self, user_code: str) -> _DeviceAuth:
        for device in self._device.values():
            if device.user_code == user_code:
                return device
        raise KeyError(f"no device code {user_code!r}")

    def _mint(self, family: _Family, access_lifetime: float | None = None) -> dict[str, Any]:
        """A token response for ``family``: new id, access and refresh tokens (state lock held)."""
        now = time.time()
        lifetime = self.access_lifetime if access_lifetime is None else access_lifetime
        account = family.account
        auth = {
            "chatgpt_account_id": account.account_id,
            "chatgpt_plan_type": account.plan,
            "chatgpt_user_id": account.user_id,
            "user_id": account.user_id,
            "organizations": [{"id": "org-fake", "is_default": True}],
        }
        # jti makes every token unique even when minted within the same second.
        id_token = make_jwt(
            {
                "email": account.email,
                "iat": int(now),
                "exp": int(now) + 3600,
                "jti": secrets.token_hex(8),
                AUTH_CLAIMS: auth,
            }
        )
        # JWT exp is whole seconds; round up so a short test lifetime never shrinks.
        exp = math.ceil(now + lifetime)
        access_token = make_jwt(
            {
                "exp": exp,
                "iat": int(now),
                "jti": secrets.token_hex(8),
                AUTH_CLAIMS: auth,
                PROFILE_CLAIMS: {"email": account.email},
            }
        )
        refresh_token = "rt_" + secrets.token_urlsafe(24)
        self._access[access_token] = _AccessToken(family, exp)
        self._refresh[refresh_token] = _RefreshToken(family)
        return {
            "id_token": id_token,
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_in": int(lifetime),
            "token_type": "Bearer",
            "scope": "openid profile email offline_access",
        }

    @staticmethod
    def _params(request: Request) -> dict[str, Any]:
        """The body as a dict, whether JSON or form-encoded."""
        ctype = (request.header("Content-Type") or "").lower()
        if "json" in ctype:
            try:
                data = request.json()
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}
        return request.form()

    # -- device code ----------------------------------------------------------------------

    def _usercode(self, request: Request) -> Response:
        self._count("usercode")
        if self.usercode_status is not None:
            return Response.json({"detail": "Not Found"}, self.usercode_status)
        if "json" not in (request.header("Content-Type") or ""):
            return Response.json({"detail": "expected JSON"}, 415)
        body = self._params(request)
        if body.get("client_id") != CLIENT_ID:
            return Response.json(
                {"error": {"code": "invalid_client", "message": "bad client"}}, 400
            )
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        code = "".join(secrets.choice(letters) for _ in range(4)) + "-"
        code += "".join(secrets.choice(letters) for _ in range(5))
        expires_at = time.time() + self.device_code_lifetime
        device = _DeviceAuth(
            "deviceauth_" + secrets.token_hex(12),
            code,
            "" if self.interval is None else str(self.interval),
            expires_at,
        )
        with self._state_lock:
            self._device[device.device_auth_id] = device
        answer: dict[str, Any] = {
            "device_auth_id": device.device_auth_id,
            "user_code": device.user_code,
            "expires_at": datetime.fromtimestamp(expires_at, timezone.utc).isoformat(),
        }
        if self.interval is not None:
            answer["interval"] = device.interval
        return Response.json(answer)

    def _poll(self, request: Request) -> Response:
        self._count("poll")
        body = self._params(request)
        with self._state_lock:
            device = self._device.get(str(body.get("device_auth_id")))
            if device is None or device.user_code != body.get("user_code"):
                return Response.json({"error": {"code": "not_found", "message": "unknown"}}, 404)
            now = time.time()
            last, device.last_poll = device.last_poll, now
            if device.status == "pending" and now >= device.expires_at:
                device.status = "expired"
            if device.status == "expired":
                return Response.json(
                    {
                        "error": {
                            "code": "deviceauth_expired",
                            "message": "Device authorization code has expired. "
                            "Please request a new code.",
                        }
                    },
                    403,
                )
            if device.status == "denied":
                return Response.json(
                    {"error": {"code": "access_denied", "message": "The user denied access."}},
                    403,
                )
            if device.status == "consumed":
                return Response.json({"error": {"code": "not_found", "message": "unknown"}}, 404)
            too_soon = (
                self.enforce_interval
                and last is not None
                and now - last < float(device.interval or 0)
            )
            if self.slow_down_polls > 0 or too_soon:
                self.slow_down_polls = max(0, self.slow_down_polls - 1)
                self._count("slow_down")
                return Response.json({"error": {"code": "slow_down", "message": "slow down"}}, 403)
            if device.status == "pending":
                return Response.json(
                    {
                        "error": {
                            "code": "deviceauth_authorization_pending",
                            "message": "Device authorization is pending.",
                        }
                    },
                    403,
                )
            # Approved: hand out a one-shot authorization code and the server-made PKCE pair.
            assert device.account is not None
            verifier = _b64url(secrets.token_bytes(32))
            challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
            code = "ac_" + secrets.token_urlsafe(16)
            self._codes[code] = _AuthCode(code, verifier, challenge, device.account)
            device.status = "consumed"
            device.authorization_code = code
        return Response.json(
            {"authorization_code": code, "code_challenge": challenge, "code_verifier": verifier}
        )

    # -- tokens ---------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        body = self._params(request)
        grant = body.get("grant_type")
        if grant == "authorization_code":
            return self._exchange(request, body)
        if grant == "refresh_token":
            return self._do_refresh(body)
        self._count("token_bad_grant")
        return Response.json({"error": "unsupported_grant_type"}, 400)

    def _exchange(self, request: Request, body: dict[str, Any]) -> Response:
        self._count("exchange")
        if "x-www-form-urlencoded" not in (request.header("Content-Type") or ""):
            return Response.json(
                {"error": "invalid_request", "error_description": "form encoding required"}, 400
            )
        if body.get("client_id") != CLIENT_ID:
            return Response.json(
                {"error": "invalid_client", "error_description": "bad client"}, 401
            )
        if body.get("redirect_uri") != f"{self.issuer}/deviceauth/callback":
            return Response.json(
                {"error": "invalid_request", "error_description": "redirect_uri mismatch"}, 400
            )
        with self._state_lock:
            entry = self._codes.get(str(body.get("code")))
            if entry is None or entry.used:
                self._count("exchange_invalid_grant")
                return Response.json(
                    {
                        "error": "invalid_grant",
                        "error_description": "The code is invalid or was already used.",
                    },
                    400,
                )
            entry.used = True
            if body.get("code_verifier") != entry.verifier:
                return Response.json(
                    {"error": "invalid_grant", "error_description": "PKCE verification failed."},
                    400,
                )
            answer = self._mint(_Family(entry.account))
        self._count("exchange_ok")
        return Response.json(answer)

    def _do_refresh(self, body: dict[str, Any]) -> Response:
        self._count("refresh")
        if self.refresh_delay:
            time.sleep(self.refresh_delay)
        if self.refresh_failures > 0 and self.refresh_status is not None:
            self.refresh_failures -= 1
            self._count("refresh_failed_transient")
            return Response.json({"error": {"message": "upstream failure"}}, self.refresh_status)
        if body.get("client_id") != CLIENT_ID:
            return Response.json({"error": "invalid_client"}, 401)
        with self._state_lock:
            entry = self._refresh.get(str(body.get("refresh_token")))
            if entry is None:
                self._count("refresh_invalid_grant")
                return Response.json({"error": "invalid_grant"}, 401)
            if entry.family.revoked:
                return self._refresh_error("refresh_token_invalidated", "was revoked")
            if entry.state == "expired":
                return self._refresh_error("refresh_token_expired", "has expired")
            if entry.state == "used":
                if self.reuse_revokes_family:
                    entry.family.revoked = True
                return self._refresh_error("refresh_token_reused", "was already used")
            entry.state = "used"
            answer = self._mint(entry.family)
        self._count("refresh_ok")
        return Response.json(answer)

    def _refresh_error(self, code: str, what: str) -> Response:
        self._count(code)
        return Response.json(
            {"error": {"code": code, "message": f"Your refresh token {what}."}}, 401
        )

    def _revoke(self, request: Request) -> Response:
        self._count("revoke")
        body = self._params(request)
        token = str(body.get("token"))
        with self._state_lock:
            if not self.revoke(token):
                access = self._access.get(token)
                if access is not None:
                    access.family.revoked = True
        return Response.json({})

    # -- backend --------------------------------------------------------------------------

    def _bearer(self, request: Request) -> tuple[_AccessToken | None, Response | None]:
        auth = request.header("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self._state_lock:
            entry = self._access.get(token)
        if entry is None or entry.invalidated or entry.family.revoked or entry.exp <= time.time():
            self._count("backend_401")
            return None, Response.json(TOKEN_EXPIRED_BODY, 401)
        if self.check_account_header:
            sent = request.header("ChatGPT-Account-ID")
            if sent != entry.family.account.account_id:
                self._count("backend_403")
                return None, Response.json(
                    {"detail": "ChatGPT-Account-ID is missing or does not match the token."}, 403
                )
        return entry, None

    def _record(self, request: Request, body: Any) -> RecordedCall:
        headers = {k.lower(): v for k, v in request.headers.items()}
        return RecordedCall(request.path, headers, body, dict(request.query))

    def _models(self, request: Request) -> Response:
        self._count("models")
        self.models_calls.append(self._record(request, None))
        _, error = self._bearer(request)
        if error is not None:
            return error
        if self.models_status is not None:
            return Response.json({"detail": "models unavailable"}, self.models_status)
        if self.models_raw_body is not None:
            return Response(200, self.models_raw_body)
        versions = request.query.get("client_version")
        if not versions:
            return Response.json(
                {
                    "detail": [
                        {
                            "type": "missing",
                            "loc": ["query", "client_version"],
                            "msg": "Field required",
                        }
                    ]
                },
                400,
            )
        client = _version_tuple(versions[0])
        listed = [
            m for m in self.models if _version_tuple(m.get("minimal_client_version", "0")) <= client
        ]
        payload = json.dumps({"models": listed}).encode()
        etag = '"' + hashlib.sha256(payload).hexdigest()[:16] + '"'
        if request.header("If-None-Match") == etag:
            self._count("models_304")
            return Response(304, b"", {"ETag": etag})
        return Response(200, payload, {"ETag": etag})

    def _responses(self, request: Request) -> Response:
        self._count("responses")
        try:
            body = request.json()
        except ValueError:
            body = None
        self.responses_calls.append(self._record(request, body))
        entry, error = self._bearer(request)
        if error is not None:
            return error
        assert entry is not None
        if not isinstance(body, dict):
            return Response.json({"detail": "Invalid JSON body"}, 400)
        if body.get("store") is not False:
            return Response.json({"detail": "Store must be set to false"}, 400)
        if body.get("stream") is not True:
            return Response.json({"detail": "Stream must be set to true"}, 400)
        if not body.get("instructions"):
            return Response.json({"detail": "Instructions are required"}, 400)
        if not isinstance(body.get("instructions"), str):
            return Response.json({"detail": "Instructions are not valid"}, 400)
        if "input" not in body:
            return Response.json({"detail": "Input is required"}, 400)
        if not isinstance(body["input"], list):  # the backend takes items only, never a string
            return Response.json({"detail": "Input must be a list"}, 400)
        unsupported = sorted(set(body) - CODEX_FIELDS)
        if unsupported:  # temperature, top_p, max_output_tokens, seed, metadata, user, ...
            return Response.json({"detail": f"Unsupported parameter: {unsupported[0]}"}, 400)
        model = body.get("model")
        if model not in {m["slug"] for m in self.models}:
            return Response.json(
                {
                    "detail": f"The '{model}' model is not supported when using Codex "
                    "with a ChatGPT account."
                },
                400,
            )
        if self.rate_limit == "usage_limit_reached":
            return Response.json(
                {
                    "error": {
                        "type": "usage_limit_reached",
                        "message": "The usage limit has been reached",
                        "plan_type": entry.family.account.plan,
                        "resets_at": int(time.time() + self.resets_in),
                    }
                },
                429,
            )
        if self.rate_limit == "usage_not_included":
            return Response.json(
                {
                    "error": {
                        "type": "usage_not_included",
                        "message": "Your plan does not include Codex.",
                    }
                },
                429,
            )
        if self.respond_with is not None:
            answer = self.respond_with(body)
            if answer is not None:
                return answer
        return Response(200, self._stream(str(model)), {}, "text/event-stream")

    def _stream(self, model: str) -> Iterator[bytes]:
        rid = "resp_" + secrets.token_hex(8)
        item_id = "msg_" + secrets.token_hex(8)
        base = {"id": rid, "object": "response", "model": model, "created_at": int(time.time())}
        events: list[tuple[str | None, Any]] = [
            (
                "response.created",
                {"type": "response.created", "response": {**base, "status": "in_progress"}},
            )
        ]
        if self.stream_error is not None:
            events.append(
                (
                    "response.failed",
                    {
                        "type": "response.failed",
                        "response": {**base, "status": "failed", "error": self.stream_error},
                    },
                )
            )
            return sse(events)
        text = "".join(self.reply_chunks)
        item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress"}
        events.append(
            (
                "response.output_item.added",
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {**item, "content": []},
                },
            )
        )
        events += responses_text_deltas(item_id, self.reply_chunks)
        done_item = {
            **item,
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        events.append(
            (
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": 0, "item": done_item},
            )
        )
        usage = {
            "input_tokens": 12,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": len(self.reply_chunks),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 12 + len(self.reply_chunks),
        }
        events.append(
            (
                "response.completed",
                {
                    "type": "response.completed",
                    "response": {
                        **base,
                        "status": "completed",
                        "output": [done_item],
                        "usage": usage,
                    },
                },
            )
        )
        return sse(events)

    # -- control routes -------------------------------------------------------------------

    def _ctl(self, request: Request, action: str) -> Response:
        body = self._params(request)
        try:
            if action == "revoke":
                ok = self.revoke(str(body.get("refresh_token") or body.get("token")))
                return Response.json({"ok": ok}, 200 if ok else 404)
            getattr(self, action)(str(body.get("user_code")))
        except KeyError as exc:
            return Response.json({"error": str(exc)}, 404)
        return Response.json({"ok": True})

    def _ctl_approve(self, request: Request) -> Response:
        return self._ctl(request, "approve")

    def _ctl_deny(self, request: Request) -> Response:
        return self._ctl(request, "deny")

    def _ctl_expire(self, request: Request) -> Response:
        return self._ctl(request, "expire")

    def _ctl_revoke(self, request: Request) -> Response:
        return self._ctl(request, "revoke")
