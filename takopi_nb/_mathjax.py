"""Keep money out of JupyterLab's MathJax, keep maths in it.

JupyterLab typesets ``$…$`` in HTML outputs and in Markdown, so "$1.25 / $10" in a
table, or "$2 and $10" in a streamed reply, came out as maths. HTML outputs carry
:data:`IGNORE_CLASSES` (MathJax 3 honours ``mathjax_ignore``, MathJax 2
``tex2jax_ignore``). In Markdown, :func:`currency_safe_markdown` escapes a ``$``
followed by a digit as ``\\\\$`` (Markdown turns that into ``\\$``, which MathJax
shows as a plain ``$``), and doubles the backslash of ``\\(…\\)`` / ``\\[…\\]`` so
Markdown keeps them for MathJax; ``$$…$$`` is left alone. Code spans and fenced
blocks are never changed. Pure functions, no imports at run time.
"""

from __future__ import annotations

import re

__all__ = ["IGNORE_CLASSES", "currency_safe_markdown"]

IGNORE_CLASSES = "mathjax_ignore tex2jax_ignore"

# Fenced blocks and code spans, kept as they are.
_CODE = re.compile(r"(```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]*`)", re.S)
# A currency $ (a digit follows; not $$, not already escaped) and single-backslash
# maths delimiters.
_DOLLAR = re.compile(r"(?<![\\$])\$(?=\d)")
_DELIMITER = re.compile(r"(?<!\\)\\([()\[\]])")


def _prose(text: str) -> str:
    text = _DOLLAR.sub(r"\\\\$", text)
    return _DELIMITER.sub(r"\\\\\1", text)


def currency_safe_markdown(text: str) -> str:
    """``text`` with currency ``$`` kept literal and ``\\(…\\)`` kept as maths in JupyterLab."""
    parts = _CODE.split(text)
    return "".join(part if i % 2 else _prose(part) for i, part in enumerate(parts))
