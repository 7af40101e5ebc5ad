"""Turn a ref into everything needed to call the model: :func:`resolve` and :class:`ResolvedModel`.

The checks are a pure function of a config snapshot; credentials, catalog data
and HTTP clients are looked up only when asked for, so a warm ``resolve()`` is a
few dictionary lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ._document import ConfigSnapshot, ProviderRecord
from ._errors import (
    ConfigError,
    EmbeddingsNotSupportedError,
    MissingCredentialsError,
    ModelNotFoundError,
    ProviderNotUsableError,
)
from ._provider_types import PROVIDER_TYPES
from ._refs import parse_ref
from ._runtime import Runtime, active_runtime
from ._validation import check_text

if TYPE_CHECKING:
    import httpx

    from .catalog import ModelInfo
    from .wire import (
        AsyncChatStream,
        ChatBatch,
        ChatResult,
        ChatStream,
        EmbeddingResult,
        ToolRun,
    )

__all__ = ["Purpose", "ResolvedModel", "check_purpose", "resolve", "resolve_in"]

Purpose = Literal["chat", "embedding"]


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A model ref checked against the config, ready to call. Holds no secret."""

    provider_id: str
    model_id: str
    provider_type: str
    base_url: str
    purpose: Purpose = "chat"
    record: ProviderRecord = field(repr=False, compare=False, default=None)  # type: ignore[assignment]
    runtime: Runtime = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    @property
    def ref(self) -> str:
        return f"{self.provider_id}/{self.model_id}"

    @property
    def info(self) -> ModelInfo | None:
        """The models.dev entry of this model, or None when the catalog does not list it."""
        from .catalog import get_catalog

        return get_catalog().get_for_type(self.provider_type, self.model_id)

    @property
    def credential_source(self) -> str | None:
        """Where the credential comes from: "keyring", "file", "env:NAME", "oauth" or None."""
        return self.runtime.credential_source(self.record)

    def api_key(self) -> str:
        """The API key (for API-key types); raises MissingCredentialsError naming where to put one."""
        found = self.runtime.api_key(self.record)
        if found is None:
            raise missing_key_error(self.record, self.runtime.env_var_names(self.record))
        return found[0]

    def headers(self) -> dict[str, str]:
        """Authentication headers for this provider; refreshes OAuth tokens when needed."""
        from . import wire

        return wire.headers(self)

    @property
    def auth(self) -> httpx.Auth:
        """An ``httpx.Auth`` adding credentials (and refreshing/retrying codex tokens)."""
        from . import wire

        return wire.make_auth(self)

    def client(self, **httpx_kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` for this provider's base URL with credentials attached."""
        from . import wire

        return wire.make_client(self, **httpx_kwargs)

    def async_client(self, **httpx_kwargs: Any) -> httpx.AsyncClient:
        from . import wire

        return wire.make_async_client(self, **httpx_kwargs)

    def openai_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``openai.OpenAI(...)``."""
        from . import wire

        return wire.openai_kwargs(self)

    def anthropic_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``anthropic.Anthropic(...)``."""
        from . import wire

        return wire.anthropic_kwargs(self)

    def openai_client(self, **kwargs: Any) -> Any:
        from . import wire

        return wire.openai_client(self, **kwargs)

    def anthropic_client(self, **kwargs: Any) -> Any:
        from . import wire

        return wire.anthropic_client(self, **kwargs)

    def chat(
        self,
        prompt_or_messages: str | Sequence[dict[str, Any]],
        *,
        system: str | None = None,
        stream: bool = False,
        **params: Any,
    ) -> ChatResult | ChatStream:
        """Send a prompt (or messages); returns the reply text, or an iterator of chunks."""
        from . import wire

        return wire.chat(self, prompt_or_messages, system=system, stream=stream, **params)

    def run_tools(
        self,
        prompt_or_messages: str | Sequence[dict[str, Any]],
        tools: Sequence[Any],
        *,
        max_steps: int = 5,
        system: str | None = None,
        show: Any = True,
        **params: Any,
    ) -> ToolRun:
        """A small tool loop: chat with ``tools`` (Python functions), run the calls the
        model asks for, send the results back, until it answers in text. Each step is
        printed (``show=False`` hides it, a callable receives each ToolStep)."""
        from . import wire

        return wire.run_tools(
            self,
            prompt_or_messages,
            tools,
            max_steps=max_steps,
            system=system,
            show=show,
            **params,
        )

    def embed(self, texts: str | Iterable[str], **params: Any) -> EmbeddingResult:
        """Embedding vectors for ``texts`` (``.usage``, ``.cost``); long lists go in
        concurrent batches. ``cache=True`` answers repeated batches from the disk cache."""
        from . import wire

        return wire.embed(self, texts, **params)

    def chat_many(
        self,
        items: Iterable[Any],
        *,
        concurrency: int = 8,
        progress: Any = None,
        system: str | None = None,
        **params: Any,
    ) -> ChatBatch:
        """One chat call per prompt (or message list), ``concurrency`` at a time.

        Returns a :class:`~takopi_nb.ChatBatch` aligned with ``items`` (a list, a
        pandas Series, any iterable): each entry the ChatResult or that item's
        error; ``.texts``, ``.errors``, ``.usage``, ``.cost``, ``.interrupted``.
        A progress bar shows in notebooks (``progress=False`` hides it, True forces
        it in scripts). Interrupting returns what finished. ``params`` as for chat().
        """
        from . import wire

        return wire.chat_many(
            self, items, concurrency=concurrency, progress=progress, system=system, **params
        )

    async def achat(
        self,
        prompt_or_messages: str | Sequence[dict[str, Any]],
        *,
        system: str | None = None,
        stream: bool = False,
        **params: Any,
    ) -> ChatResult | AsyncChatStream:
        """``await m.achat(...)``; ``async for chunk in await m.achat(..., stream=True)``."""
        from . import wire

        return await wire.achat(self, prompt_or_messages, system=system, stream=stream, **params)

    async def aembed(self, texts: str | Iterable[str], **params: Any) -> EmbeddingResult:
        """``await m.aembed([...])``: the async twin of :meth:`embed`."""
        from . import wire

        return await wire.aembed(self, texts, **params)

    # -- framework hand-offs (each imports its framework only when called) -----------------

    def langchain(self, **kwargs: Any) -> Any:
        """A LangChain chat model (``ChatOpenAI`` or ``ChatAnthropic``) for this ref."""
        from . import frameworks

        return frameworks.langchain_chat(self, **kwargs)

    def langchain_embeddings(self, **kwargs: Any) -> Any:
        """LangChain ``OpenAIEmbeddings`` for this embedding model."""
        from . import frameworks

        return frameworks.langchain_embeddings(self, **kwargs)

    def pydantic_ai(self) -> Any:
        """A pydantic-ai model: ``Agent(m.pydantic_ai(), tools=[...])``."""
        from . import frameworks

        return frameworks.pydantic_ai_model(self)

    def agents_model(self) -> Any:
        """An OpenAI Agents SDK model: ``Agent(name=..., model=m.agents_model())``."""
        from . import frameworks

        return frameworks.agents_model(self)

    def dspy(self, **kwargs: Any) -> Any:
        """A ``dspy.LM``: ``dspy.configure(lm=m.dspy())``."""
        from . import frameworks

        return frameworks.dspy_lm(self, **kwargs)

    def llm(self) -> Any:
        """A model object for the ``llm`` package: ``m.llm().prompt("Hi").text()``."""
        from . import frameworks

        return frameworks.llm_model(self)

    def litellm_kwargs(self) -> dict[str, Any]:
        """``litellm.completion(**m.litellm_kwargs(), messages=[...])``."""
        from . import frameworks

        result: dict[str, Any] = frameworks.litellm_kwargs(self)
        return result


def missing_key_error(record: ProviderRecord, env_names: Iterable[str]) -> MissingCredentialsError:
    if record.type_info.auth == "oauth":
        return MissingCredentialsError(
            f"Provider {record.id!r} is not signed in. Use 'Sign in with ChatGPT' in "
            f"%takopi providers, or run %takopi login {record.id}."
        )
    env = " or ".join(env_names)
    env_hint = f", or set the environment variable {env}" if env else ""
    return MissingCredentialsError(
        f"No API key for provider {record.id!r} ({record.type_info.label}). Enter one in "
        f"%takopi providers, or run tk.get_config().get({record.id!r}).set_api_key(...)"
        f"{env_hint}."
    )


def _close(word: str, candidates: Iterable[str]) -> str:
    import difflib

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {matches[0]!r}?" if matches else ""


def _listing(items: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", … ({len(items) - limit} more)" if len(items) > limit else "")


def check_purpose(purpose: object) -> None:
    """ConfigError (ConfigTypeError for a non-str) unless ``purpose`` is "chat" or "embedding"."""
    text = check_text(purpose, "purpose", "use purpose='chat' or purpose='embedding'")
    if text not in ("chat", "embedding"):
        shown = text if len(text) < 40 else text[:37] + "..."
        raise ConfigError(f"purpose must be 'chat' or 'embedding', not {shown!r}.")


def resolve_in(
    snapshot: ConfigSnapshot,
    ref: str,
    purpose: Purpose = "chat",
) -> tuple[ProviderRecord, str]:
    """The pure core of :func:`resolve`: check ``ref`` against ``snapshot``."""
    provider_id, model_id = parse_ref(ref)
    record = snapshot.providers.get(provider_id)
    if record is None:
        known = list(snapshot.providers)
        if snapshot.damaged:
            raise ModelNotFoundError(
                f"Model not found: no provider {provider_id!r} for ref {ref!r}, because "
                f"{snapshot.damaged}"
            )
        if not known:
            raise ModelNotFoundError(
                f"Model not found: {ref!r} names provider {provider_id!r}, but no providers are "
                "configured yet. Add one with %takopi providers or "
                "tk.get_config().add_provider('openai', id=...)."
            )
        moved = snapshot.renamed.get(provider_id)
        hint = (
            f" Provider {provider_id!r} was renamed to {moved!r}: use {moved + '/' + model_id!r}."
            if moved is not None and moved in snapshot.providers
            else _close(provider_id, known)
        )
        raise ModelNotFoundError(
            f"Model not found: no provider {provider_id!r} for ref {ref!r}. Provider ids are part "
            f"of refs and may have been renamed; known ids: {_listing(known)}.{hint}"
        )
    if purpose == "embedding" and not record.type_info.embeddings:
        supported = ", ".join(t for t, info in PROVIDER_TYPES.items() if info.embeddings)
        raise EmbeddingsNotSupportedError(
            f"Provider {provider_id!r} is of type {record.type!r}, which has no embeddings. "
            f"Use a provider of type {supported} for embeddings."
        )
    if not record.models:
        raise ProviderNotUsableError(
            f"Provider {provider_id!r} is not usable yet: no models are selected. Select at least "
            f"one in %takopi providers, with %takopi select {provider_id} MODEL, or "
            f"tk.get_config().get({provider_id!r}).models = [...]."
        )
    if model_id not in record.model_set:
        raise ModelNotFoundError(
            f"Model not found: {model_id!r} is not selected for provider {provider_id!r} "
            f"(selected: {_listing(record.models)}).{_close(model_id, record.models)} To use it, "
            f"select it with %takopi select {provider_id} {model_id}, in %takopi providers, or "
            f"tk.get_config().get({provider_id!r}).models += [{model_id!r}]."
        )
    return record, model_id


def resolve(ref: str, purpose: Purpose = "chat") -> ResolvedModel:
    """Check ``ref`` (``providerId/modelId``) against the config and return a ResolvedModel.

    Raises RefError, ModelNotFoundError, ProviderNotUsableError or
    EmbeddingsNotSupportedError; a missing credential is reported when it is
    used (``headers()``, ``chat()``...), not here.
    """
    check_purpose(purpose)
    runtime = active_runtime()
    snapshot = runtime.snapshot()
    record, model_id = resolve_in(snapshot, ref, purpose)
    return ResolvedModel(
        record.id,
        model_id,
        record.type,
        record.effective_base_url,
        purpose,
        record,
        runtime,
    )
