"""Endpoint model lists, each printed beside its baseline measured in the same run.

    .venv/bin/python benchmarks/bench_endpoints.py

Figures (medians):
- merging a 340-id endpoint list (OpenRouter's size: vendor prefixes, ``:tags``, unknown ids)
  with the catalog, warm, beside a plain per-id dict lookup in one catalog provider;
- ``Provider.endpoint_models(refresh=True)`` against a loopback OpenAI-compatible server,
  beside a new ``httpx.Client`` + ``get`` + ``json.loads`` of the same URL (the request alone;
  most of both is building the client's TLS context), and the cached call.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from harness import in_process_us, table, verdict  # noqa: E402


def _ids() -> list[str]:
    from takopi_nb.catalog import get_catalog

    catalog = get_catalog()
    known = [m.id for m in catalog.models("openai")][:100]
    prefixed = [f"{m.provider}/{m.id}" for m in catalog.models("anthropic")][:60]
    tagged = [f"{m.id}:latest" for m in catalog.models("deepseek")][:30]
    unknown = [f"my-finetune-{i}:7b" for i in range(150)]
    return known + prefixed + tagged + unknown


def _serve(ids: list[str]) -> tuple[ThreadingHTTPServer, str]:
    body = json.dumps({"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def main(argv: Sequence[str] = ()) -> None:
    """Measure and print the table (``benchmarks/run.py`` calls this)."""
    work = tempfile.mkdtemp(prefix="takopi-bench-endpoints-")
    os.environ.update(
        TAKOPI_NB_CONFIG=str(Path(work) / "providers.json"),
        TAKOPI_NB_CACHE_DIR=str(Path(work) / "cache"),
        TAKOPI_NB_OFFLINE="1",
        JUPYTER_DATA_DIR=str(Path(work) / "data"),
        OPENAI_API_KEY="sk-bench-0123456789",
    )
    import httpx

    import takopi_nb as tk
    from takopi_nb._endpoint_models import merge
    from takopi_nb.catalog import get_catalog
    from takopi_nb.wire._listing import ListedModel

    catalog = get_catalog()
    ids = _ids()
    listed = [ListedModel(i) for i in ids]
    merged = merge(listed, catalog, "openai")
    known = sum(1 for m in merged if m.in_catalog)
    merge_us = in_process_us(lambda: merge(listed, catalog, "openai"), number=5, repeat=7)

    def baseline_lookup() -> object:
        table_ = {m.id: m for m in catalog.models("openai")}
        return [table_.get(i) for i in ids]

    lookup_us = in_process_us(baseline_lookup, number=5, repeat=7)

    server, base = _serve(ids)
    try:
        provider = tk.get_config().add_provider("openai", id="bench", base_url=base)
        provider.endpoint_models(refresh=True)
        list_us = in_process_us(lambda: provider.endpoint_models(refresh=True), number=3)
        cached_us = in_process_us(provider.endpoint_models, number=200)

        def raw() -> object:
            with httpx.Client() as client:  # a new client per call, as the listing makes one
                return json.loads(client.get(f"{base}/models").content)

        raw_us = in_process_us(raw, number=3)
    finally:
        server.shutdown()
    print(
        table(
            "Endpoint model lists",
            [
                (
                    f"merge {len(ids)} endpoint ids with the catalog ({known} matched)",
                    f"{merge_us / 1000:.2f} ms",
                    f"exact dict lookup in one provider {lookup_us / 1000:.2f} ms",
                    verdict("merge", "target ≤ 20 ms", merge_us <= 20_000),
                ),
                (
                    f"endpoint_models(refresh=True), {len(ids)} ids, loopback",
                    f"{list_us / 1000:.1f} ms",
                    f"new httpx.Client + get + json.loads {raw_us / 1000:.1f} ms",
                    verdict(
                        "endpoint_models(refresh=True)",
                        f"{list_us / raw_us:.1f}×, target ≤ 2× the request",
                        list_us <= 2 * raw_us,
                    ),
                ),
                (
                    "endpoint_models() again within 2 min (cached)",
                    f"{cached_us:.1f} µs",
                    f"the request alone {raw_us / 1000:.1f} ms",
                    verdict("endpoint_models() cached", "target ≤ 100 µs", cached_us <= 100),
                ),
            ],
        )
    )


if __name__ == "__main__":
    main()
