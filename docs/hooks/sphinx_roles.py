"""Griffe extension of the API reference: the docstrings of dnpsim are written with
Sphinx roles (``:class:`~dnpsim.result.Result```, ``:func:`run```, ``:mod:`dnpsim.api```)
and reST literal-block markers (``::`` at the end of a paragraph), which Markdown would
print literally.  This rewrites them, at documentation build time only, as inline code
(``Result``, ``run()``, ``dnpsim.api``) and a plain colon; the source is not changed."""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(class|func|meth|mod|data|attr|exc|obj|const):`(~?)([^`<]+?)(?:\s*<([^>]+)>)?`")
_LITERAL = re.compile(r"(?<=\S)::[ \t]*$", re.M)


def _role(match: re.Match) -> str:
    role, short, text, target = match.groups()
    name = (target or text).strip()
    if short:
        name = name.rsplit(".", 1)[-1]
    if role in ("func", "meth") and not name.endswith(")"):
        name += "()"
    return f"`{name}`"


def rewrite(text: str) -> str:
    """Docstring text with Sphinx roles as inline code and ``::`` as ``:``."""
    return _LITERAL.sub(":", _ROLE.sub(_role, text))


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:  # noqa: D102
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
