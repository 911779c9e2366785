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
            obj.docstring.value = ROLE.sub(self._replace, obj.docstring.value)
