"""The email templates' language: the small subset of Jinja2 they use, rendered without Jinja2.

Importing Jinja2 costs a new Lambda instance about 150 ms before its first inquiry can be
mailed (the deployment zip holds no .pyc, so its 480 KB of source are compiled at every cold
start); these few templates need none of it. What is supported, with Jinja2's meaning:

    {{ path }}  {{ path | filter }}          path: name or name.attr.attr (a dict key or an
                                             attribute, looked up as Jinja2 does)
    {% if cond %} {% elif cond %} {% else %} {% endif %}
                                             cond: paths with not / and / or
    {% for name in path %} {% for a, b in path %} {% endfor %}
    {# comment #}

Filters: urlencode and length (Jinja2's), field_label ("Company" -> "Company: " padded to
9 columns, for the text emails). Whitespace as Jinja2 with trim_blocks, lstrip_blocks and
keep_trailing_newline; a missing name or key is an error (StrictUndefined); with
`autoescape` every {{ }} is HTML-escaped as MarkupSafe does. tests/fast/test_templating.py
renders every template with this and with Jinja2 (configured as above) and requires the
same text, whatever the values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

_TAG = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}|\{#.*?#\}", re.S)
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def field_label(label: Any) -> str:
    return f"{label}:".ljust(9)


FILTERS: dict[str, Callable[[Any], Any]] = {
    "urlencode": lambda value: quote(str(value), safe="/"),
    "length": len,
    "field_label": field_label,
}


class TemplateError(ValueError):
    """The template uses something this subset does not have."""


class Template:
    def __init__(self, source: str, autoescape: bool = False) -> None:
        self._autoescape = autoescape
        nodes, end = self._parse(iter(_tokens(source)), ())
        if end is not None:
            raise TemplateError(f"unexpected {{% {end} %}}")
        self._nodes = nodes

    def render(self, context: dict[str, Any]) -> str:
        out: list[str] = []
        self._run(self._nodes, context, out)
        return "".join(out)

    # ---- parsing: tokens -> nodes ---------------------------------------------------------

    def _parse(self, tokens: Any, ends: tuple[str, ...]) -> tuple[list[Any], str | None]:
        nodes: list[Any] = []
        for kind, value in tokens:
            if kind == "text":
                nodes.append(("text", value))
            elif kind == "out":
                nodes.append(("out", *_output(value)))
            else:
                word = value.split(None, 1)[0] if value else ""
                if word in ends:
                    return nodes, value
                if word == "if":
                    nodes.append(self._if(value, tokens))
                elif word == "for":
                    nodes.append(self._for(value, tokens))
                else:
                    raise TemplateError(f"unsupported tag {{% {value} %}}")
        return nodes, None

    def _if(self, tag: str, tokens: Any) -> tuple[Any, ...]:
        branches = []
        condition = _condition(tag[2:])
        while True:
            body, end = self._parse(tokens, ("elif", "else", "endif"))
            branches.append((condition, body))
            if end is None:
                raise TemplateError("{% if %} without {% endif %}")
            if end.startswith("elif"):
                condition = _condition(end[4:])
            elif end == "else":
                otherwise, end = self._parse(tokens, ("endif",))
                if end != "endif":
                    raise TemplateError("{% else %} without {% endif %}")
                return ("if", branches, otherwise)
            elif end == "endif":
                return ("if", branches, [])
            else:
                raise TemplateError(f"unexpected {{% {end} %}}")

    def _for(self, tag: str, tokens: Any) -> tuple[Any, ...]:
        targets, separator, source = tag[3:].partition(" in ")
        names = [name.strip() for name in targets.split(",")]
        if not separator or not all(_NAME.match(name) for name in names):
            raise TemplateError(f"unsupported {{% {tag} %}}")
        body, end = self._parse(tokens, ("endfor",))
        if end != "endfor":
            raise TemplateError("{% for %} without {% endfor %}")
        return ("for", names, _path(source.strip()), body)

    # ---- rendering ------------------------------------------------------------------------

    def _run(self, nodes: list[Any], scope: dict[str, Any], out: list[str]) -> None:
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "out":
                value = _lookup(node[1], scope)
                for name in node[2]:
                    value = FILTERS[name](value)
                text = str(value)
                out.append(text.translate(_ESCAPES) if self._autoescape else text)
            elif kind == "if":
                for condition, body in node[1]:
                    if condition(scope):
                        self._run(body, scope, out)
                        break
                else:
                    self._run(node[2], scope, out)
            else:  # for
                names = node[1]
                for item in _lookup(node[2], scope):
                    inner = dict(scope)
                    if len(names) == 1:
                        inner[names[0]] = item
                    else:
                        values = tuple(item)
                        if len(values) != len(names):
                            raise TemplateError(f"cannot unpack {len(values)} into {names}")
                        inner.update(zip(names, values, strict=True))
                    self._run(node[3], inner, out)


def _tokens(source: str) -> list[tuple[str, str]]:
    """("text" | "out" | "tag", content), with Jinja2's trim_blocks and lstrip_blocks."""
    tokens: list[tuple[str, str]] = []
    position = 0
    line_starting = True
    for match in _TAG.finditer(source):
        text = source[position : match.start()]
        is_variable = match.group(1) is not None
        if not is_variable:  # lstrip_blocks: a block tag alone on its line takes its indent
            line_start = text.rfind("\n") + 1
            if (line_start > 0 or line_starting) and _blank(text[line_start:]):
                text = text[:line_start]
        if text:
            tokens.append(("text", text))
        end = match.end()
        if is_variable:
            tokens.append(("out", match.group(1).strip()))
        else:
            if match.group(2) is not None:
                tag = match.group(2)
                if tag[:1] in "-+" or tag[-1:] in "-+":
                    raise TemplateError("whitespace control (-/+) is not supported")
                tokens.append(("tag", tag.strip()))
            if source.startswith("\n", end):  # trim_blocks
                end += 1
        position = end
        line_starting = source[match.start() : end].endswith("\n")
    if source[position:]:
        tokens.append(("text", source[position:]))
    return tokens


def _blank(text: str) -> bool:
    return bool(text) and text.isspace() and "\n" not in text


def _path(text: str) -> tuple[str, ...]:
    if not _PATH.match(text):
        raise TemplateError(f"unsupported expression {text!r}")
    return tuple(text.split("."))


def _output(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    path, *filters = (part.strip() for part in text.split("|"))
    for name in filters:
        if name not in FILTERS:
            raise TemplateError(f"unknown filter {name!r}")
    return _path(path), tuple(filters)


def _condition(text: str) -> Callable[[dict[str, Any]], bool]:
    """`a or b`, `a and not b`, ... (not binds tighter than and, and than or)."""
    alternatives = []
    for alternative in re.split(r"\s+or\s+", text.strip()):
        terms = []
        for term in re.split(r"\s+and\s+", alternative.strip()):
            negated = term.startswith("not ")
            terms.append((negated, _path(term[4:].strip() if negated else term.strip())))
        alternatives.append(terms)

    def holds(scope: dict[str, Any]) -> bool:
        return any(
            all(bool(_lookup(path, scope)) != negated for negated, path in terms)
            for terms in alternatives
        )

    return holds


_DICT_ATTRIBUTES = frozenset(dir(dict))


def _lookup(path: tuple[str, ...], scope: dict[str, Any]) -> Any:
    """A name, then each part as Jinja2 looks it up: an attribute, else a key."""
    value = scope[path[0]]  # KeyError: an undefined name is an error, as StrictUndefined
    for part in path[1:]:
        if type(value) is dict and part not in _DICT_ATTRIBUTES:
            value = value[part]  # what getattr would come to, without raising first
            continue
        try:
            value = getattr(value, part)
        except AttributeError:
            value = value[part]
    return value
