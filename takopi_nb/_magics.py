# IPython's magic_arguments decorators are untyped:
# mypy: disable-error-code="no-untyped-call,untyped-decorator"
"""``%takopi`` and ``%%takopi``: the IPython magics.

``%load_ext takopi_nb`` registers them. Loading must stay in the low
milliseconds, so this module imports only IPython's magic machinery; the
config, the catalog, httpx and ipywidgets are imported by the subcommands that
need them.

Every bad input gives a one-line :class:`~IPython.core.error.UsageError`
(argument errors and every :class:`~takopi_nb.TakopiError`), never a traceback.
Tables render as HTML in a notebook and as aligned text in a terminal.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

__all__ = ["TakopiMagics", "load_ipython_extension", "unload_ipython_extension"]

COMMANDS = (
    "providers",
    "list",
    "models",
    "select",
    "resolve",
    "login",
    "logout",
    "confirm",
    "catalog",
    "usage",
    "import",
    "help",
)
DEFAULT_LIMIT = 25
STREAM_UPDATE_SECONDS = 0.05


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _usage_error(exc: BaseException) -> UsageError:
    from ._errors import TakopiError

    if isinstance(exc, TakopiError):
        return UsageError(_one_line(str(exc)) or type(exc).__name__)
    return UsageError(_one_line(f"{type(exc).__name__}: {exc}"))


# -- subcommand argument parsers (each built by magic_arguments on its first use) -------------


CELL = "%%takopi"


class _Arguments:
    """A subcommand's ``@argument`` declarations; its argparse parser is built on first use."""

    def __init__(self, func: Callable[..., None], name: str) -> None:
        self._func = func
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self._func(*args, **kwargs)

    @functools.cached_property
    def parser(self) -> Any:
        from IPython.core.magic_arguments import magic_arguments as build

        return build(self._name)(self._func).parser  # type: ignore[attr-defined]


def _lazy_magic_arguments(name: str) -> Callable[[Callable[..., None]], _Arguments]:
    """``magic_arguments`` that defers building the parser: building all thirteen took
    15-30 ms of the first ``%takopi`` of a session, whatever its subcommand."""
    return lambda func: _Arguments(func, name)


@functools.cache
def parsers() -> dict[str, Callable[..., None]]:
    """The argument parsers of the subcommands (and of ``%%takopi``), by name.

    Not at import (``%load_ext`` stays instant), and each argparse parser only when its
    subcommand is first used.
    """
    from IPython.core.magic_arguments import argument

    magic_arguments = _lazy_magic_arguments

    @magic_arguments("takopi providers")
    def _providers_args() -> None:
        """Show the providers panel (add providers, keys, sign-in, models, defaults)."""

    @magic_arguments("takopi list")
    def _list_args() -> None:
        """List the providers with their status and where their credential comes from."""

    @magic_arguments("takopi models")
    @argument(
        "provider",
        nargs="?",
        default="",
        help="a provider id or a provider type (an id wins); none: list the types",
    )
    @argument(
        "query", nargs="*", default=[], help="words to look for in the model id, name or family"
    )
    @argument("--embedding", action="store_true", help="embedding models instead of chat models")
    @argument("--tools", action="store_true", help="only models with tool calling")
    @argument("--reasoning", action="store_true", help="only reasoning models")
    @argument("--image", action="store_true", help="only models taking image input")
    @argument("--deprecated", action="store_true", help="include deprecated models")
    @argument("--limit", type=int, default=DEFAULT_LIMIT, help="show at most N rows")
    @argument("--all", action="store_true", help="show every match")
    @argument(
        "--live",
        action="store_true",
        help="ask the provider's endpoint what it serves (GET /models): a Base URL "
        "override's models come first; at the type's default endpoint, the models your key "
        "can list are marked",
    )
    def _models_args() -> None:
        """Search the catalog models of a provider or a provider type (✓ marks selected ones)."""

    @magic_arguments("takopi select")
    @argument("provider", help="a provider id")
    @argument("models", nargs="+", help="model ids (any id; ids not in the catalog are kept)")
    @argument("--replace", action="store_true", help="make these the only selected models")
    @argument("--remove", action="store_true", help="unselect these models instead")
    def _select_args() -> None:
        """Select models of a provider (a provider is usable with at least one)."""

    @magic_arguments("takopi resolve")
    @argument("ref", help="providerId/modelId")
    @argument("--embedding", action="store_true", help="resolve for embeddings")
    def _resolve_args() -> None:
        """Check a ref and show what it resolves to (no secret is shown)."""

    @magic_arguments("takopi login")
    @argument("provider", help="a codex provider id")
    @argument(
        "--no-wait",
        action="store_true",
        help="in a terminal: print the code and return; the sign-in goes on in the background",
    )
    @argument(
        "--from-codex-cli",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help=(
            "reuse the Codex CLI's sign-in: an auth.json PATH, or by default where the CLI of "
            "$CODEX_HOME (~/.codex) keeps it (auth.json or the OS keyring)"
        ),
    )
    @argument("--yes", action="store_true", help="with --from-codex-cli: import without asking")
    def _login_args() -> None:
        """Sign in with ChatGPT (device code) for a codex provider, or reuse the Codex CLI's."""

    @magic_arguments("takopi logout")
    @argument("provider", help="a codex provider id")
    def _logout_args() -> None:
        """Disconnect a codex provider (its tokens are deleted)."""

    @magic_arguments("takopi confirm")
    @argument("provider", help="a provider id whose Base URL moved to another host")
    def _confirm_args() -> None:
        """Send the provider's key to the host its Base URL points to now (asked once per move)."""

    @magic_arguments("takopi catalog")
    @argument("--refresh", action="store_true", help="fetch the catalog from models.dev now")
    def _catalog_args() -> None:
        """Show where the models.dev catalog comes from, its age, and model counts per type."""

    @magic_arguments("takopi usage")
    def _usage_args() -> None:
        """This session's calls per model: calls, cache hits, tokens and cost in USD."""

    @magic_arguments("takopi import")
    @argument("numbers", nargs="*", type=int, help="numbers from the list to import")
    @argument("--into", default=None, help="give the key to this existing provider (one number)")
    @argument("--all", action="store_true", help="import everything importable, as new providers")
    def _import_args() -> None:
        """List keys found in env vars, llm, opencode, the Codex CLI (never a value); import some."""

    @magic_arguments("takopi help")
    def _help_args() -> None:
        """Show this help."""

    @magic_arguments("%takopi")
    @argument("ref", nargs="?", default="", help="providerId/modelId (default: the default model)")
    @argument("--system", default=None, help="a system prompt")
    @argument("--cache", action="store_true", help="answer a cell run before from the disk cache")
    def _cell_args() -> None:
        """Send the cell as a prompt and stream the reply as Markdown ({name} is filled in)."""

    return {
        "providers": _providers_args,
        "list": _list_args,
        "models": _models_args,
        "select": _select_args,
        "resolve": _resolve_args,
        "login": _login_args,
        "logout": _logout_args,
        "confirm": _confirm_args,
        "catalog": _catalog_args,
        "usage": _usage_args,
        "import": _import_args,
        "help": _help_args,
        CELL: _cell_args,
    }


def usage(parser_of: Callable[..., None]) -> str:
    """The usage line of a subcommand parser ("%takopi models [--embedding] ... provider ...")."""
    text = parser_of.parser.format_usage()  # type: ignore[attr-defined]
    return " ".join(text.replace("::", " ").split())


HELP_NOTES = (
    "In a %%takopi cell, {name} and {name.attr} are replaced by their values (never evaluated "
    "as Python: {x + 1} is sent as written); an undefined name is an error; {{ and }} are "
    "literal braces.",
    "In a %takopi line, IPython expands {expression} and $name before the command runs.",
)


def command_help() -> Any:
    """``%takopi help``: every subcommand and ``%%takopi``, with its usage and what it does."""
    from ._tables import CommandHelp

    entries = []
    for name in [*COMMANDS, CELL]:
        parser_of = parsers()[name]
        description = parser_of.parser.description.strip()  # type: ignore[attr-defined]
        entries.append((name, usage(parser_of), description))
    return CommandHelp(
        "%takopi SUBCOMMAND ... — configure LLM providers and use their models",
        entries,
        notes=HELP_NOTES,
    )


def _parse(parser_of: Callable[..., None], argstring: str) -> Any:
    """Parse with magic_arguments; an error names the subcommand and its usage, on one line."""
    from IPython.core.magic_arguments import parse_argstring

    try:
        return parse_argstring(parser_of, argstring)
    except UsageError as exc:
        raise UsageError(f"{_one_line(str(exc))}. Usage: {usage(parser_of)}") from None
    except ValueError as exc:  # unbalanced quotes in the line
        raise UsageError(f"{_one_line(str(exc))}. Usage: {usage(parser_of)}") from None


@magics_class
class TakopiMagics(Magics):
    """The ``%takopi`` line magic and ``%%takopi`` cell magic."""

    rich_display: bool | None = None
    """Use widgets and update_display (a notebook); None = detect from the shell."""

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.flows: list[Any] = []

    # -- environment ------------------------------------------------------------------------

    def _rich(self) -> bool:
        if self.rich_display is not None:
            return self.rich_display
        return getattr(self.shell, "kernel", None) is not None

    def _config(self) -> Any:
        from ._config import get_config

        return get_config()

    def _display(self, obj: Any, **kwargs: Any) -> Any:
        from IPython.display import display

        return display(obj, **kwargs)

    # -- entry point ------------------------------------------------------------------------

    @line_cell_magic
    def takopi(self, line: str, cell: str | None = None) -> Any:
        """Configure LLM providers and use their models. Run ``%takopi help`` for the commands."""
        if cell is not None:
            return self._run_cell(line, cell)
        command, _, rest = line.strip().partition(" ")
        command = command or "help"
        if command in ("-h", "--help"):
            command = "help"
        if command not in COMMANDS:
            raise UsageError(
                f"Unknown subcommand {command!r}: use one of {', '.join(COMMANDS)} "
                "(%takopi help explains them)."
            )
        args = _parse(parsers()[command], rest)
        handler: Callable[[Any], Any] = getattr(self, f"_cmd_{command}")
        try:
            return handler(args)
        except UsageError:
            raise
        except Exception as exc:
            from traitlets import TraitError

            from ._errors import TakopiError

            if isinstance(exc, (TakopiError, TraitError)):
                raise _usage_error(exc) from None
            raise

    # -- subcommands ------------------------------------------------------------------------

    def _cmd_help(self, args: Any) -> Any:
        return command_help()

    def _cmd_usage(self, args: Any) -> Any:
        from .wire import usage

        return usage(as_frame=False)

    def _cmd_providers(self, args: Any) -> Any:
        if not self._rich():
            table = self._cmd_list(args)
            table.notes.append("The panel needs a notebook; in a terminal use the subcommands.")
            return table
        from .widgets import ProvidersPanel

        return ProvidersPanel(self._config())

    def _cmd_list(self, args: Any) -> Any:
        from ._tables import Table

        config = self._config()
        rows = []
        for p in config.providers:
            rows.append(
                [
                    p.id,
                    p.type,
                    p.status + (" (managed)" if p.managed else ""),
                    p.credential_source or "—",
                    len(p.models),
                    p.base_url or "(default)",
                ]
            )
        notes = [
            f"Default model: {config.default_model or '(none)'}",
            f"Embedding model: {config.embedding_model or '(none)'}",
            *config.notices,
        ]
        if not rows:
            notes.insert(
                0, "No providers yet: %takopi providers, or tk.get_config().add_provider('openai')."
            )
        return Table(
            ["id", "type", "status", "credential", "models", "base URL"],
            rows,
            title=f"Providers in {config.runtime.store.path}",
            notes=notes,
            numeric=["models"],
            wrap=["status", "base URL"],
        )

    def _cmd_models(self, args: Any) -> Any:
        from ._provider_types import PROVIDER_TYPES
        from .catalog import get_catalog
        from .widgets._model_index import index_for

        if not args.provider:
            return self._types_table(get_catalog(), browse_hint=True)
        provider_type, provider = self._models_target(args.provider)
        type_info = PROVIDER_TYPES[provider_type]
        name = provider.id if provider is not None else provider_type
        purpose = "embedding" if args.embedding else "chat"
        if purpose == "embedding" and not type_info.embeddings:
            what = f"Provider {name!r} is of type" if provider is not None else "The type"
            raise UsageError(f"{what} {provider_type!r}, which has no embeddings.")
        if args.limit < 1:
            raise UsageError("--limit must be at least 1.")
        catalog = get_catalog()
        index = index_for(catalog, provider_type, purpose)
        query = " ".join(args.query)
        matches = index.search(
            query,
            tool_call=args.tools,
            reasoning=args.reasoning,
            image_input=args.image,
            hide_deprecated=not args.deprecated,
        )
        if args.live:
            if provider is None:
                raise UsageError(
                    f"--live asks a provider's endpoint: give a provider id, not the type "
                    f"{provider_type!r} (%takopi list shows the ids)."
                )
            return self._models_live(provider, purpose, matches, args)
        shown = matches if args.all else matches[: args.limit]
        own = list(provider.models) if provider is not None else []
        selected = set(own)
        words = query.lower().split()
        rows: list[list[Any]] = []
        for model_id in own:
            if catalog.get_for_type(provider_type, model_id) is None and all(
                w in model_id.lower() for w in words
            ):
                rows.append(["✓", model_id, "(not in catalog)", "", "", ""])
        rows.extend(_catalog_row(info, info.id in selected) for info in shown)
        notes = []
        if (
            provider is not None
            and args.provider in PROVIDER_TYPES
            and provider.type != args.provider
        ):
            notes.append(
                f"{args.provider!r} is also a provider type: this is the provider with that id "
                f"(type {provider.type!r})."
            )
        if provider is None:
            notes.append(
                f"These are the catalog's {provider_type} models. To use them, add a provider: "
                f"tk.get_config().add_provider({provider_type!r}), or %takopi providers."
            )
        else:
            if not matches and not rows:
                notes.append(
                    "No catalog model matches. Any id can still be selected: "
                    f"%takopi select {provider.id} MODEL."
                )
        what = "embedding models" if args.embedding else "models"
        label = f"{name} ({type_info.label})" if provider is not None else f"type {name}"
        return _models_table(
            "features",
            rows,
            title=(
                f"{label}: {len(matches)} of {len(index)} "
                f"{what} match · catalog: {catalog.describe()}"
            ),
            hidden=len(matches) - len(shown),
            notes=notes,
            provider_id=provider.id if provider is not None else None,
            wrap=["name", "features"],
        )

    def _models_target(self, name: str) -> tuple[str, Any]:
        """``(type, provider)`` for a provider id, ``(type, None)`` for a type; an id wins."""
        from ._provider_types import PROVIDER_TYPES

        config = self._config()
        if name in config:
            provider = config.get(name)
            return provider.type, provider
        if name in PROVIDER_TYPES:
            return name, None
        import difflib

        ids = {p.id: p.type for p in config.providers}
        close = difflib.get_close_matches(name, [*ids, *PROVIDER_TYPES], n=1, cutoff=0.6)
        hint = ""
        if close:
            kind = f"the provider of type {ids[close[0]]}" if close[0] in ids else "a type"
            hint = f" Did you mean {close[0]!r} ({kind})?"
        known = ", ".join(f"{i} ({t})" for i, t in ids.items()) or "(none yet)"
        raise UsageError(
            f"No provider or provider type {name!r}. Provider ids: {known}; "
            f"types: {', '.join(PROVIDER_TYPES)}.{hint}"
        )

    def _types_table(self, catalog: Any, *, browse_hint: bool = False) -> Any:
        """The provider types with their catalog model counts (and the user's providers)."""
        from ._provider_types import PROVIDER_TYPES
        from ._tables import Table

        config = self._config()
        rows = []
        for name, info in PROVIDER_TYPES.items():
            chat = len(catalog.models_for_type(name, purpose="chat"))
            embed = (
                len(catalog.models_for_type(name, purpose="embedding")) if info.embeddings else 0
            )
            mine = ", ".join(p.id for p in config.providers if p.type == name)
            rows.append([name, info.catalog_provider, chat, embed, mine])
        notes = []
        if browse_hint:
            notes.append(
                "Browse one: %takopi models TYPE-or-ID [QUERY...], e.g. %takopi models "
                "openrouter sonnet (a provider id of yours wins over a type)."
            )
        if catalog.skipped:
            notes.append(f"{catalog.skipped} malformed catalog entries were skipped.")
        return Table(
            ["type", "catalog provider", "chat models", "embedding models", "your providers"],
            rows,
            title=f"models.dev catalog: {catalog.describe()} ({len(catalog):,} models in all)",
            notes=notes,
            numeric=["chat models", "embedding models"],
            wrap=["your providers"],
        )

    def _models_live(self, provider: Any, purpose: str, matches: list[Any], args: Any) -> Any:
        """``%takopi models P --live``: what the endpoint serves, merged with the catalog."""
        from ._endpoint_models import GROUP_TITLES, picker_rows
        from .catalog import get_catalog
        from .catalog._display import format_tokens
        from .widgets._model_index import price_pair

        listing = provider.endpoint_models(refresh=True)
        words = " ".join(args.query).lower().split()
        wanted = {
            "tool_call": args.tools,
            "reasoning": args.reasoning,
            "image_input": args.image,
        }

        def fits(model: Any) -> bool:
            text = f"{model.id} {model.name}".lower()
            if not all(w in text for w in words):
                return False
            info = model.info
            return all(getattr(info, flag, False) for flag, on in wanted.items() if on)

        served = [m for m in listing if fits(m)]
        overridden = bool(provider.base_url)
        extra = [m for m in provider.models if all(w in m.lower() for w in words)]
        rows = picker_rows(
            matches, served, provider.models, overridden=overridden, purpose=purpose, extra=extra
        )
        # With an override the endpoint's own list heads the table and is always shown whole.
        shown = rows if args.all else rows[: max(args.limit, len(served) if overridden else 0)]

        def where(row: Any) -> str:
            if row.group == "catalog":
                return "catalog only" if overridden else "catalog"
            if row.group == "endpoint" and not overridden:
                return "listed for your key"
            return GROUP_TITLES[row.group].lower()

        table_rows = [
            [
                "✓" if row.selected else "",
                row.id,
                _name_beside(row.id, row.name),
                format_tokens(row.context_window),
                price_pair(row.info) if row.info is not None else "",
                "; ".join(part for part in (where(row), row.note) if part),
            ]
            for row in shown
        ]
        notes = []
        if not overridden:
            listed = sum(1 for row in rows if row.group == "catalog" and row.served)
            notes.append(
                f"{listed} of the catalog's models are available to this key (its endpoint "
                "lists them); ids it lists that the catalog lacks come last."
            )
        if overridden:
            source = f"{len(listing)} models served by {listing.url}"
        else:
            source = f"your key can list {len(listing)} models ({listing.url})"
        return _models_table(
            "where",
            table_rows,
            title=(
                f"{provider.id} ({provider.type_info.label}): {source} · "
                f"catalog: {get_catalog().describe()}"
            ),
            hidden=len(rows) - len(shown),
            notes=notes,
            provider_id=provider.id,
            wrap=["name", "where"],
        )

    def _cmd_select(self, args: Any) -> None:
        provider = self._config().get(args.provider)
        current = list(provider.models)
        if args.remove and args.replace:
            raise UsageError("Use --remove or --replace, not both.")
        if args.remove:
            missing = [m for m in args.models if m not in current]
            provider.models = [m for m in current if m not in set(args.models)]
            done = f"Unselected {', '.join(m for m in args.models if m not in missing)}"
            if missing:
                done += f" (not selected: {', '.join(missing)})"
        else:
            new = (
                list(args.models)
                if args.replace
                else current + [m for m in args.models if m not in current]
            )
            provider.models = new
            done = f"Selected for {provider.id}: {', '.join(provider.models)}"
            unknown = self._not_in_catalog(provider, args.models)
            if unknown:
                done += f" (not in the catalog, kept as given: {', '.join(unknown)})"
        print(done.strip() + ".")

    @staticmethod
    def _not_in_catalog(provider: Any, model_ids: list[str]) -> list[str]:
        try:
            from .catalog import get_catalog

            catalog = get_catalog()
        except Exception:
            return []
        return [m for m in model_ids if catalog.get_for_type(provider.type, m) is None]

    def _cmd_resolve(self, args: Any) -> Any:
        from ._tables import Table
        from .catalog._display import format_tokens
        from .widgets._model_index import price_pair

        model = self._config().resolve(args.ref, purpose="embedding" if args.embedding else "chat")
        try:
            info = model.info
        except Exception:
            info = None
        rows = [
            ["ref", model.ref],
            ["provider", f"{model.provider_id} ({model.provider_type})"],
            ["model", model.model_id],
            ["purpose", model.purpose],
            ["base URL", model.base_url],
            ["credential", model.credential_source or "none yet (needed at call time)"],
        ]
        if model.credential_source and model.runtime.held_back(
            model.record, model.credential_source
        ):
            rows[-1][1] += f" (held back: the Base URL moved; %takopi confirm {model.provider_id})"
        if info is None:
            rows.append(["catalog", "not in catalog"])
        else:
            rows.append(["catalog", info.name or info.id])
            rows.append(["context", format_tokens(info.context_window)])
            rows.append(["price (USD per 1M in / out)", price_pair(info)])
        return Table(["field", "value"], rows, title=f"{model.ref} resolves to")

    def _cmd_login(self, args: Any) -> Any:
        provider = self._config().get(args.provider)
        if args.from_codex_cli is not None:
            return self._login_from_codex_cli(provider, args.from_codex_cli or None, args.yes)
        flow = provider.login()
        self.flows.append(flow)
        if self._rich():
            from .widgets import DeviceCodeView

            self._display(DeviceCodeView(flow))
            return None
        return self._login_in_terminal(flow, wait=not args.no_wait)

    def _login_from_codex_cli(self, provider: Any, path: str | None, yes: bool) -> None:
        """Show whose sign-in the CLI keeps (and where), ask, then share it with ``provider``."""
        from .codex._cli_auth import read_cli_sign_in

        account = provider.login_from_codex_cli(path, dry_run=True)
        where = read_cli_sign_in(path).where
        print(f"Codex CLI sign-in in {where}: {account}.")
        if not yes:
            try:
                answer = input(f"Use it for provider '{provider.id}'? [y/N] ")
            except (EOFError, OSError, NotImplementedError) as exc:
                raise UsageError(
                    "Cannot ask for confirmation here: run again with --yes to import it."
                ) from exc
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing was imported.")
                return
        account = provider.login_from_codex_cli(path)
        print(
            f"Provider '{provider.id}' now uses the ChatGPT sign-in of {account}. The sign-in is "
            f"shared with the Codex CLI: tokens refreshed here are written back to {where}, so "
            "both keep working."
        )

    def _login_in_terminal(self, flow: Any, *, wait: bool) -> None:
        while flow.state == "requesting":
            time.sleep(0.05)
        # A code was issued: say where to enter it, even if the flow has already moved past
        # "waiting" while this thread slept (a busy machine, an approval made at once).
        if flow.user_code:
            print(f"Open {flow.verification_url} and enter the code:  {flow.user_code}")
            print("(The code expires in 15 minutes or less; Ctrl-C cancels.)")
            sys.stdout.flush()
        if not wait:
            return None
        try:
            state = flow.wait()
        except KeyboardInterrupt:
            flow.cancel()
            state = flow.wait(5)
        print(flow.describe())
        if state != "signed_in" and state != "cancelled":
            raise UsageError(_one_line(flow.error or f"Sign-in {state}."))
        return None

    def _cmd_logout(self, args: Any) -> None:
        provider = self._config().get(args.provider)
        provider.logout()
        print(f"Disconnected {provider.id}: its ChatGPT tokens were deleted.")

    def _cmd_confirm(self, args: Any) -> None:
        from ._validation import origin_of

        provider = self._config().get(args.provider)
        provider.confirm_base_url()
        print(
            f"The key of {provider.id} may now be sent to {origin_of(provider.effective_base_url)}."
        )

    def _cmd_catalog(self, args: Any) -> Any:
        from .catalog import get_catalog

        catalog = get_catalog()
        notes = []
        if args.refresh:
            ok = catalog.refresh()
            if not ok:
                notes.append(f"Refresh failed: {catalog.last_error or 'no new data'}.")
            else:
                notes.append("Refreshed.")
        table = self._types_table(catalog)
        table.notes[:0] = notes
        return table

    def _cmd_import(self, args: Any) -> Any:
        from ._credential_import import find_credentials, import_credential
        from ._tables import Table

        config = self._config()
        found = find_credentials()
        if args.all or args.numbers:
            chosen = (
                [f for f in found if f.importable]
                if args.all
                else [found[n - 1] for n in self._import_numbers(args, len(found))]
            )
            if args.into and len(chosen) != 1:
                raise UsageError("--into takes exactly one number: %takopi import N --into ID.")
            for item in chosen:
                _, said = import_credential(item, into=args.into, config=config)
                print(said)
            if not chosen:
                print("Nothing to import.")
            return None
        rows = []
        for number, item in enumerate(found, 1):
            users = [
                p.id
                for p in config.providers
                if item.source == "env" and p.credential_source == f"env:{item.name}"
            ]
            if not item.importable:
                fate = f"cannot import: {item.note or 'no provider type for it'}"
            elif users:
                fate = (
                    f"already used by {', '.join(users)} (importing keeps it without the env var)"
                )
            else:
                fate = ""
            rows.append([number, item.where, item.provider_type or "—", item.what, fate])
        notes = [
            "Values are never shown. Import with %takopi import N [N...] (new providers) or "
            "%takopi import N --into PROVIDER (the key of an existing provider).",
            "An opencode ChatGPT sign-in is taken over: opencode will need to sign in again.",
            "A Codex CLI sign-in is shared: both the CLI and takopi_nb keep working.",
        ]
        if not rows:
            notes.insert(
                0, "No credentials found in environment variables, llm, opencode or the Codex CLI."
            )
        return Table(
            ["#", "found in", "type", "what", "note"],
            rows,
            title="Credentials found on this machine",
            notes=notes,
            numeric=["#"],
        )

    @staticmethod
    def _import_numbers(args: Any, count: int) -> list[int]:
        bad = [n for n in args.numbers if not 1 <= n <= count]
        if bad:
            raise UsageError(
                f"No credential number {bad[0]}: %takopi import lists {count} "
                f"(numbers 1 to {count})."
            )
        return list(dict.fromkeys(args.numbers))

    # -- %%takopi ---------------------------------------------------------------------------

    def _expand(self, cell: str) -> str:
        """``{name}`` / ``{name.attr}`` in the cell from the user namespace; nothing is evaluated."""
        from ._cell_fields import CellFieldError, expand_fields

        namespace = self.shell.user_ns if self.shell is not None else {}
        try:
            return expand_fields(cell, namespace)
        except CellFieldError as exc:
            raise UsageError(_one_line(str(exc))) from None

    def _run_cell(self, line: str, cell: str) -> None:
        args = _parse(parsers()[CELL], line)
        prompt = self._expand(cell).strip()
        if not prompt:
            raise UsageError("The cell is empty: write a prompt under %%takopi.")
        try:
            config = self._config()
            ref = args.ref or config.default_model
            if not ref:
                raise UsageError(
                    "No model given and no default model set: write %%takopi providerId/modelId, "
                    "or set one in %takopi providers (Default model) or "
                    "tk.get_config().default_model = '...'."
                )
            model = config.resolve(ref)
            chunks = model.chat(prompt, system=args.system, stream=True, cache=args.cache)
            self._stream(chunks)
        except UsageError:
            raise
        except Exception as exc:
            from ._errors import TakopiError

            if isinstance(exc, TakopiError):
                raise _usage_error(exc) from None
            raise

    def _stream(self, chunks: Iterator[str]) -> str:
        text = ""
        if not self._rich():
            for chunk in chunks:
                text += chunk
                sys.stdout.write(chunk)
                sys.stdout.flush()
            sys.stdout.write("\n")
            return text
        from IPython.display import Markdown

        from ._mathjax import currency_safe_markdown as safe

        handle = self._display(Markdown("…"), display_id=True)
        last = 0.0
        for chunk in chunks:
            text += chunk
            now = time.monotonic()
            if now - last >= STREAM_UPDATE_SECONDS:
                handle.update(Markdown(safe(text) + " ▌"))
                last = now
        handle.update(Markdown(safe(text) if text else "*(empty reply)*"))
        return text

    # -- unloading ----------------------------------------------------------------------------

    def close(self) -> None:
        for flow in self.flows:
            try:
                if not flow.done:
                    flow.cancel()
            except Exception:
                pass
        self.flows.clear()


def _models_table(
    last_column: str,
    rows: list[list[Any]],
    *,
    title: str,
    hidden: int,
    notes: Sequence[str] = (),
    provider_id: str | None,
    wrap: Sequence[str] = (),
) -> Any:
    """The table of ``%takopi models`` (catalog or ``--live``): ``hidden`` rows were cut."""
    from ._tables import Table

    more = [f"{hidden} more — refine the query, or use --limit N / --all."] if hidden > 0 else []
    select = [f"Select with: %takopi select {provider_id} MODEL..."] if provider_id else []
    return Table(
        ["sel", "id", "name", "context", "$ in / out per 1M", last_column],
        rows,
        title=title,
        notes=[*more, *notes, *select],
        wrap=wrap,
    )


def _name_beside(model_id: str, name: str) -> str:
    """``name``, or "" when it only spells the id differently ("GPT-5.4 mini" beside
    ``gpt-5.4-mini``): the column then takes no width from the narrow outputs."""
    import re

    def key(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    return "" if key(name) == key(model_id) else name


def _catalog_row(info: Any, selected: bool) -> list[Any]:
    """One row of ``%takopi models`` for a catalog model."""
    from .catalog._display import format_tokens
    from .widgets._model_index import price_pair

    flags = [
        flag
        for flag, on in (
            ("tools", info.tool_call),
            ("reasoning", info.reasoning),
            ("image", "image" in info.input_modalities),
        )
        if on
    ]
    if info.status:
        flags.append(info.status)
    return [
        "✓" if selected else "",
        info.id,
        _name_beside(info.id, info.name),
        format_tokens(info.context_window),
        price_pair(info),
        " ".join(flags),
    ]


_loaded: weakref.WeakKeyDictionary[Any, TakopiMagics] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%takopi`` / ``%%takopi`` on ``ipython`` (idempotent)."""
    with _lock:
        if ipython in _loaded:
            return
        magics = TakopiMagics(ipython)
        ipython.register_magics(magics)
        _loaded[ipython] = magics


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics, cancel sign-ins they started, close and unlink every panel."""
    with _lock:
        magics = _loaded.pop(ipython, None)
    if magics is not None:
        magics.close()
        manager = ipython.magics_manager
        for kind in ("line", "cell"):
            table = manager.magics.get(kind, {})
            if getattr(table.get("takopi"), "__self__", None) is magics:
                del table["takopi"]
        manager.registry.pop(type(magics).__name__, None)
    widgets = sys.modules.get("takopi_nb.widgets")
    if widgets is not None:
        widgets._reset()


def _reset() -> None:
    for magics in list(_loaded.values()):
        magics.close()
