"""griffe extension: Sphinx roles in docstrings (``:func:`geoterr.design```) as Markdown.

The docstrings are numpydoc, read by both Sphinx-style tools and mkdocstrings. mkdocstrings
does not know the roles, so this turns each into inline code, linked to its entry in the API
reference when the name is one of ``geoterr.__all__`` (the objects the reference renders).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const):`(~?)([^`<]+?)`")
# Inline math stays as code and a math block as a code block: the site loads no math fonts or
# scripts (it must work offline), and the formulas read well as plain LaTeX.
MATH_ROLE = re.compile(r":math:`([^`]+)`")
MATH_BLOCK = re.compile(r"^[ \t]*\.\. math::[ \t]*$", re.MULTILINE)
# Where the reference renders a public name when that is not geoterr.<name>.
ANCHORS = {"design": "geoterr.design.design"}


def _public() -> set[str]:
    import geoterr

    return {n for n in geoterr.__all__ if not n.startswith("_")}


class SphinxRoles(griffe.Extension):
    def __init__(self) -> None:
        super().__init__()
        self.public = _public()

    def _replace(self, match: re.Match[str]) -> str:
        short, target = match.group(1), match.group(2).strip().rstrip("()")
        shown = target.rsplit(".", 1)[-1] if short else target
        last = target.rsplit(".", 1)[-1]
        if target.startswith("geoterr.") and last in self.public:
            return f"[`{shown}`][{ANCHORS.get(last, 'geoterr.' + last)}]"
        return f"`{shown}`"

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None and ":" in obj.docstring.value:
            text = ROLE.sub(self._replace, obj.docstring.value)
            text = MATH_ROLE.sub(r"`\1`", text)
            obj.docstring.value = MATH_BLOCK.sub("", text)
