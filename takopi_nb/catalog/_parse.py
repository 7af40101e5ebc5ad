"""Tolerant parsing of models.dev ``api.json`` into :class:`ModelInfo` records.

Pure functions, no I/O. A provider or model that cannot be used (not an
object, no usable id, ``models`` not an object) is skipped and counted; any
other field of the wrong type, missing or ``null`` becomes "unknown". Text is
kept as plain text: control and bidi-override characters are dropped, overlong
strings cut, and nothing is unescaped or interpreted as markup.
"""

from __future__ import annotations

import json
import math
import re
from typing import NamedTuple, TypeGuard

from .._errors import CatalogError
from ._model_info import ModelInfo, ProviderInfo

__all__ = [
    "CatalogDataError",
    "ParsedCatalog",
    "ParsedProvider",
    "clean_text",
    "is_embedding",
    "load_json",
    "parse_catalog",
    "valid_model_id",
    "valid_provider_id",
]

MAX_NAME = 200
MAX_TOKEN = 64
MAX_URL = 2000
MAX_MODEL_ID = 256
MAX_TOKENS = 10**10
MAX_PRICE = 1e6

EMBEDDING_FAMILIES = frozenset(
    {
        "text-embedding",
        "cohere-embed",
        "mistral-embed",
        "titan-embed",
        "gemini-embedding",
        "codestral-embed",
    }
)
_EMBEDDING_FAMILY_HINTS = frozenset({"bge", "voyage"})
# bge-*, e5-*, voyage-* at the start of an id segment or word (format doc §9, rule 4).
_EMBEDDING_NAME_HINT = re.compile(r"(?:^|[\s/@_.:-])(?:bge|e5|voyage)-")

# C0/C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates,
# BOM, lone surrogates (valid JSON escapes that cannot be encoded as UTF-8).
_UNSAFE_CHARS = (
    "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff"
)
_UNSAFE = re.compile(f"[{_UNSAFE_CHARS}]+")
_UNSAFE_IN_ID = re.compile(rf"[\s{_UNSAFE_CHARS}]")
_PROVIDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_WORD = re.compile(r"[a-z][a-z0-9_-]{0,31}\Z")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}(?:-[0-9]{2})?\Z")


class CatalogDataError(CatalogError):
    """The downloaded bytes are not a usable catalog (the message is plain words)."""


class ParsedProvider(NamedTuple):
    info: ProviderInfo
    models: tuple[ModelInfo, ...]


class ParsedCatalog(NamedTuple):
    providers: tuple[ParsedProvider, ...]
    """Sorted by provider id; each provider's models sorted by model id."""
    skipped: int
    """Providers and models dropped because they were malformed."""

    @property
    def model_count(self) -> int:
        return sum(len(p.models) for p in self.providers)


def load_json(body: bytes) -> object:
    """Decode a downloaded body, with a plain-words :class:`CatalogDataError` when it is not JSON."""
    if not body.strip():
        raise CatalogDataError("sent an empty answer instead of the catalog")
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        raise CatalogDataError(
            "sent a web page instead of the catalog (a proxy sign-in or captive portal?)"
        )
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogDataError("sent text that is not UTF-8, so not the catalog") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if not text.rstrip().endswith(("}", "]")):
            raise CatalogDataError(
                f"sent an incomplete catalog (cut off after {len(body):,} bytes)"
            ) from None
        raise CatalogDataError(f"sent damaged JSON (error at character {exc.pos:,})") from None
    except (ValueError, RecursionError):
        raise CatalogDataError("sent damaged JSON") from None


def parse_catalog(doc: object) -> ParsedCatalog:
    """Turn decoded ``api.json`` into sorted, cleaned records; raise if nothing usable is left."""
    if not isinstance(doc, dict):
        kind = type(doc).__name__ if doc is not None else "null"
        raise CatalogDataError(f"sent JSON that is not a models.dev catalog (top level is {kind})")
    providers: list[ParsedProvider] = []
    skipped = 0
    for key, raw in doc.items():
        info = _provider(key, raw)
        models = raw.get("models") if isinstance(raw, dict) else None
        if info is None or not isinstance(models, dict):
            skipped += 1
            continue
        kept: list[ModelInfo] = []
        for model_key, model_raw in models.items():
            model = _model(info.id, model_key, model_raw)
            if model is None:
                skipped += 1
            else:
                kept.append(model)
        kept.sort(key=_by_id)
        providers.append(ParsedProvider(info._replace(model_count=len(kept)), tuple(kept)))
    providers.sort(key=lambda p: p.info.id)
    parsed = ParsedCatalog(tuple(providers), skipped)
    if parsed.model_count == 0:
        raise CatalogDataError("sent a catalog with no usable models")
    return parsed


def _by_id(model: ModelInfo) -> str:
    return model.id


def clean_text(value: object, limit: int = MAX_NAME) -> str | None:
    """``value`` as one line of plain text, or ``None`` when it is not a usable string."""
    if type(value) is not str:
        return None
    if _UNSAFE.search(value):
        value = _UNSAFE.sub(" ", value)
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value or None


def valid_model_id(value: object) -> TypeGuard[str]:
    """An id that can travel in a ref and to an API unchanged: no whitespace or controls,
    no empty, ``.`` or ``..`` segment, at most 256 characters."""
    if type(value) is not str or not 0 < len(value) <= MAX_MODEL_ID:
        return False
    if _UNSAFE_IN_ID.search(value):
        return False
    return all(seg not in ("", ".", "..") for seg in value.split("/"))


def valid_provider_id(value: object) -> TypeGuard[str]:
    return type(value) is str and bool(_PROVIDER_ID.match(value)) and ".." not in value


def is_embedding(model_id: str, name: str, family: str | None) -> bool:
    """Embedding models have no flag in the catalog; recognise them as the format doc §9 says."""
    text = f"{model_id} {name}".lower()
    if "rerank" in text:
        return False
    if family in EMBEDDING_FAMILIES or family in _EMBEDDING_FAMILY_HINTS:
        return True
    return "embed" in text or _EMBEDDING_NAME_HINT.search(text) is not None


def _provider(key: object, raw: object) -> ProviderInfo | None:
    if not isinstance(raw, dict) or not valid_provider_id(key):
        return None
    if "id" in raw and raw["id"] != key:
        return None
    env_raw = raw.get("env")
    env: list[str] = []
    if isinstance(env_raw, list):
        for item in env_raw[:8]:
            if type(item) is str and _ENV_NAME.match(item) and item not in env:
                env.append(item)
    return ProviderInfo(
        id=key,
        name=clean_text(raw.get("name")) or key,
        npm=clean_text(raw.get("npm"), MAX_URL),
        api=clean_text(raw.get("api"), MAX_URL),
        env=tuple(env),
        doc=clean_text(raw.get("doc"), MAX_URL),
    )


def _model(provider: str, key: object, raw: object) -> ModelInfo | None:
    if not isinstance(raw, dict) or not valid_model_id(key):
        return None
    if "id" in raw and raw["id"] != key:
        return None
    name = clean_text(raw.get("name")) or key
    family = clean_text(raw.get("family"), MAX_TOKEN)
    limit = _dict(raw.get("limit"))
    modalities = _dict(raw.get("modalities"))
    over = _dict(raw.get("provider"))
    cost = _dict(raw.get("cost"))
    return ModelInfo(
        provider=provider,
        id=key,
        name=name,
        family=family,
        context_window=_tokens(limit.get("context")),
        max_input=_tokens(limit.get("input")),
        max_output=_tokens(limit.get("output")),
        cost_input=_price(cost.get("input")),
        cost_output=_price(cost.get("output")),
        cost_cache_read=_price(cost.get("cache_read")),
        cost_cache_write=_price(cost.get("cache_write")),
        input_modalities=_words(modalities.get("input")),
        output_modalities=_words(modalities.get("output")),
        reasoning=raw.get("reasoning") is True,
        tool_call=raw.get("tool_call") is True,
        attachment=raw.get("attachment") is True,
        structured_output=raw.get("structured_output") is True,
        knowledge=_date(raw.get("knowledge")),
        release_date=_date(raw.get("release_date")),
        last_updated=_date(raw.get("last_updated")),
        open_weights=raw.get("open_weights") is True,
        status=_word(raw.get("status")),
        is_embedding=is_embedding(key, name, family),
        sdk=clean_text(over.get("npm"), MAX_URL),
    )


_EMPTY: dict[str, object] = {}


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else _EMPTY


def _tokens(value: object) -> int | None:
    """A token limit; 0, negative, fractional nonsense and absurd sizes mean unknown."""
    if type(value) is int:
        number = value
    elif type(value) is float and math.isfinite(value):
        number = round(value)
    else:
        return None
    return number if 0 < number <= MAX_TOKENS else None


def _price(value: object) -> float | None:
    """USD per 1M tokens; 0 is a real price (free), anything unusable is ``None``."""
    if type(value) is int:
        if not 0 <= value <= MAX_PRICE:
            return None
        return float(value)
    if type(value) is float and math.isfinite(value) and 0.0 <= value <= MAX_PRICE:
        return value + 0.0  # -0.0 -> 0.0
    return None


def _date(value: object) -> str | None:
    return value if type(value) is str and _DATE.match(value) else None


def _word(value: object) -> str | None:
    if type(value) is not str:
        return None
    word = value.strip().lower()
    return word if _WORD.match(word) else None


def _words(value: object) -> tuple[str, ...]:
    if type(value) is not list:
        return ()
    words: list[str] = []
    for item in value[:16]:
        word = _word(item)
        if word is not None and word not in words:
            words.append(word)
    return tuple(words)
