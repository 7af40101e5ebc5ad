"""Money is not maths: currency ``$`` stays literal in HTML outputs and Markdown replies."""

from __future__ import annotations

import pytest

from takopi_nb._mathjax import IGNORE_CLASSES, currency_safe_markdown
from takopi_nb._tables import Lines, Table


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        ("It costs $2 and $10.", r"It costs \\$2 and \\$10."),
        ("$$E = mc^2$$ stays maths", "$$E = mc^2$$ stays maths"),
        (r"inline \(x^2\) and \[y\]", r"inline \\(x^2\\) and \\[y\\]"),
        (r"already doubled \\(x\\)", r"already doubled \\(x\\)"),
        ("a $x$ formula, no digit after $", "a $x$ formula, no digit after $"),
        (
            "code `$5` and\n```\nprint('$3')\n```\nthen $4",
            "code `$5` and\n```\nprint('$3')\n```\nthen \\\\$4",
        ),
    ],
)
def test_currency_stays_literal_and_maths_stays_maths(reply: str, shown: str) -> None:
    assert currency_safe_markdown(reply) == shown


def test_html_outputs_are_ignored_by_mathjax() -> None:
    table = Table(["model", "$ in / out"], [["gpt-5.2", "$1.75 / $14"]])
    assert table._repr_html_().startswith(f'<div class="takopi-table {IGNORE_CLASSES}"')
    assert "$1.75 / $14" in table._repr_html_()
    assert f'class="takopi-lines {IGNORE_CLASSES}"' in Lines(["$5"])._repr_html_()
    assert "mathjax_ignore" in IGNORE_CLASSES  # the class JupyterLab 4's MathJax 3 honours
