"""The template language of labels, pieces, references and templated accounts.

``"Cde {order.reference} du {order.date:%d/%m/%Y} {customer.name|upper|truncate(20)}"``

A template is parsed once, at compile time, into literal text and field slots; each slot has
a dotted field path, an optional format (``strftime`` for dates, ``06`` to zero-pad) and a
closed set of filters.  Rendering concatenates strings: user text is never handed to
``str.format`` or ``eval`` (Jinja sandboxes ``str.format`` for good reason).  ``{{`` and
``}}`` stand for literal braces.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import CodeType
from typing import Any

from postingrules.dsl.diagnostics import did_you_mean

FILTERS = ("upper", "lower", "trim", "truncate", "pad", "default")
_FILTER_RE = re.compile(r'^\s*([a-z_]+)\s*(?:\(\s*(?:(\d+)|"((?:[^"\\]|\\.)*)")\s*\))?\s*$')
_PAD_RE = re.compile(r"^(0?)([1-9]\d?)$")


class TemplateSyntaxError(ValueError):
    """A malformed template; ``offset`` is the position inside the template text."""

    def __init__(
        self, code: str, message: str, offset: int, length: int = 1, hint: str | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset
        self.length = length
        self.hint = hint


class MissingValueError(LookupError):
    """A field a template needs is empty in this document and has no ``default``."""


@dataclass(frozen=True, slots=True)
class Slot:
    """One ``{path:format|filter|…}`` of a template, as written."""

    path: str
    format: str | None
    filters: tuple[tuple[str, int | str | None], ...]
    offset: int  # of the path inside the template text


@dataclass(frozen=True, slots=True)
class ParsedTemplate:
    source: str
    parts: tuple[str | Slot, ...]

    @property
    def is_literal(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(p for p in self.parts if isinstance(p, Slot))


@functools.lru_cache(maxsize=4096)
def parse_template(text: str) -> ParsedTemplate:
    """Split a template into literal text and slots; raise :class:`TemplateSyntaxError`.

    Remembered per text (the result is immutable): a big table repeats the same template in
    most rows, and the compiler asks for a template's slots more than once."""
    parts: list[str | Slot] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{" and text.startswith("{{", i):
            literal.append("{")
            i += 2
        elif ch == "}" and text.startswith("}}", i):
            literal.append("}")
            i += 2
        elif ch == "}":
            raise TemplateSyntaxError(
                "template-syntax", "a `}` closes no `{`", i, 1, "write `}}` for a literal brace"
            )
        elif ch == "{":
            end = _closing_brace(text, i + 1)
            if end < 0:
                raise TemplateSyntaxError(
                    "template-syntax", "a `{` is never closed", i, n - i, "close the field with `}`"
                )
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_parse_slot(text[i + 1 : end], i + 1))
            i = end + 1
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append("".join(literal))
    return ParsedTemplate(text, tuple(parts))


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` closing a slot, skipping quoted filter arguments (default("}"))."""
    quoted = False
    i = start
    while i < len(text):
        ch = text[i]
        if quoted and ch == "\\":
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch == "}" and not quoted:
            return i
        i += 1
    return -1


def _split_filters(body: str) -> list[str]:
    """Split a slot on `|` outside quotes, so default("a|b") stays one filter."""
    parts, current, quoted, i = [], [], False, 0
    while i < len(body):
        ch = body[i]
        if quoted and ch == "\\" and i + 1 < len(body):
            current.append(body[i : i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == "|" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _parse_slot(body: str, offset: int) -> Slot:
    head, *filter_texts = _split_filters(body)
    path, _, fmt = head.partition(":")
    stripped = path.strip()
    if not stripped:
        raise TemplateSyntaxError(
            "template-syntax",
            "empty field `{}` in template",
            offset - 1,
            2,
            "name a field, e.g. {order.reference}",
        )
    filters: list[tuple[str, int | str | None]] = []
    position = offset + len(head) + 1
    for ftext in filter_texts:
        match = _FILTER_RE.match(ftext)
        name = match.group(1) if match else ftext.strip().split("(")[0].strip()
        if not match and name in FILTERS:
            raise TemplateSyntaxError(
                "bad-filter-argument",
                'filter `default` needs a quoted text, e.g. default("-")'
                if name == "default"
                else f"filter `{name}` needs a length, e.g. {name}(20)",
                position,
                max(1, len(ftext)),
            )
        if not match or name not in FILTERS:
            raise TemplateSyntaxError(
                "unknown-filter",
                f"unknown filter `{ftext.strip()}`; filters are {', '.join(FILTERS)}",
                position,
                max(1, len(ftext)),
                did_you_mean(name, FILTERS),
            )
        number, string = match.group(2), match.group(3)
        if name in ("truncate", "pad") and number is None:
            raise TemplateSyntaxError(
                "bad-filter-argument",
                f"filter `{name}` needs a length, e.g. {name}(20)",
                position,
                len(ftext),
            )
        if name == "default" and string is None:
            raise TemplateSyntaxError(
                "bad-filter-argument",
                'filter `default` needs a quoted text, e.g. default("-")',
                position,
                len(ftext),
            )
        if name in ("upper", "lower", "trim") and (number or string is not None):
            raise TemplateSyntaxError(
                "bad-filter-argument", f"filter `{name}` takes no argument", position, len(ftext)
            )
        filters.append((name, int(number) if number else string))
        position += len(ftext) + 1
    return Slot(stripped, fmt or None, tuple(filters), offset + (len(path) - len(path.lstrip())))


def check_format(fmt: str, is_date: bool) -> str | None:
    """Why a slot's format does not fit its value type, or ``None`` when it does."""
    if is_date:
        return (
            None
            if "%" in fmt
            else f"`{fmt}` is not a date format; use strftime codes such as %d/%m/%Y"
        )
    if "%" in fmt:
        return f"`{fmt}` is a date format but the field is not a date"
    if not _PAD_RE.match(fmt):
        return (
            f"`{fmt}` is not a width; write 06 to zero-pad to 6 characters or 6 to pad with spaces"
        )
    return None


def to_text(value: Any, fmt: str | None) -> str:
    """Render one value; formats were checked at compile time."""
    if isinstance(value, dt.date):
        return value.strftime(fmt) if fmt else value.isoformat()
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, Decimal):
        text = format(value, "f")
    else:
        text = str(value)
    if fmt:
        match = _PAD_RE.match(fmt)
        if match:
            width = int(match.group(2))
            if match.group(1) and text.startswith("-"):  # zeros go after the sign: -00012
                text = "-" + text[1:].rjust(width - 1, "0")
            else:
                text = text.rjust(width, "0" if match.group(1) else " ")
    return text


Renderer = Callable[[Any], str]


def compile_template(
    parsed: ParsedTemplate,
    getters: dict[str, Callable[[Any], Any]],
    types: dict[str, str] | None = None,
    inline: tuple[dict[str, str], dict[str, Any]] | None = None,
) -> Renderer:
    """One Python function that renders the whole template, generated once per template.

    Templates run several times per document, so each becomes straight-line code (as Jinja2
    compiles its templates): one getter call per slot, conversion and filters inline, parts
    joined at the end.  Only names this function makes up go into the generated source;
    everything the user wrote (literal text, formats, defaults, widths, field names in
    messages) is bound as a variable of the function's namespace, never spliced into code.
    ``types`` (the fields' types, known at compile time) picks each slot's conversion, so a
    text field is used as is and a date goes straight to ``strftime``.  ``inline`` gives, for
    some fields, a generated Python expression over ``doc`` and ``line`` that reads them (see
    :mod:`postingrules.dsl.expressions`) and the namespace of its made-up names: those slots
    read the field in place instead of calling its getter.
    """
    types = types or {}
    if parsed.is_literal:
        constant = "".join(p for p in parsed.parts if isinstance(p, str))

        def literal(ctx: Any) -> str:
            return constant

        literal.constant = constant  # type: ignore[attr-defined]  # see is_constant
        return literal
    namespace: dict[str, Any] = {
        "Missing": MissingValueError,
        "to_text": to_text,
        "str": str,
        "_remember": _remember,
    }
    expressions: dict[str, str] = {}
    if inline is not None:
        expressions, names = inline
        namespace.update(names)
    body: list[str] = []
    pieces: list[str] = []
    for index, part in enumerate(parsed.parts):
        if isinstance(part, str):
            namespace[f"l{index}"] = part
            pieces.append(f"l{index}")
            continue
        read = expressions.get(part.path)
        if read is None:
            namespace[f"g{index}"] = getters[part.path]
            read = f"g{index}(ctx)"
        body += _slot_code(part, index, read, types.get(part.path), namespace)
        pieces.append(f"t{index}")
    body[:0] = context_reads(body)
    joined = " + ".join(pieces) if len(pieces) <= 4 else f"''.join(({', '.join(pieces)},))"
    source = "def render(ctx):\n" + "".join(f"    {line}\n" for line in body)
    source += f"    return {joined}\n"
    exec(_code(source), namespace)  # generated names only: see above
    render: Renderer = namespace["render"]
    return render


def context_reads(body: list[str]) -> list[str]:
    """The lines that read ``doc`` and ``line`` from the context once, for generated code
    (``body``) that uses them: inline field reads name them (see ``dsl/expressions.py``)."""
    text = "\n".join(body)
    return [
        *(["doc = ctx.doc"] if "doc" in text else []),
        *(["line = ctx.line"] if "line" in text else []),
    ]


@functools.lru_cache(maxsize=1024)
def _code(source: str) -> CodeType:
    """Compiled once per shape: a 500-row table repeats ``"OSS-{tax.country}"`` in most rows,
    and the source holds generated names only, so equal shapes share one code object."""
    return compile(source, "<template>", "exec")


def is_constant(renderer: Renderer) -> bool:
    """Whether a compiled template renders the same text for every document."""
    return hasattr(renderer, "constant")


def _slot_code(
    slot: Slot,
    index: int,
    read: str,
    value_type: str | None,
    namespace: dict[str, Any],
) -> list[str]:
    """The lines that compute ``t<index>``, the text of one slot, from the value ``read``
    (generated code: a getter call or an inline field read)."""
    i = index
    namespace[f"f{i}"] = slot.format
    default = next((arg for name, arg in slot.filters if name == "default"), None)
    if default is None:
        namespace[f"m{i}"] = f"field `{slot.path}` is empty"
        missing = f"raise Missing(m{i})"
    else:
        namespace[f"d{i}"] = str(default)
        missing = f"t{i} = d{i}"
    if value_type == "text" and not slot.format:
        convert = f"str(v{i})"
    elif value_type == "date" and slot.format:
        # A batch has few distinct dates and strftime is slow: remember each date's text.
        namespace[f"c{i}"] = {}
        convert = f"c{i}.get(v{i}) or _remember(c{i}, v{i}, v{i}.strftime(f{i}))"
    elif value_type == "date":
        convert = f"v{i}.isoformat()"
    else:
        convert = f"to_text(v{i}, f{i})"
    lines = [
        f"v{i} = {read}",
        f'if v{i} is None or v{i} == "":',
        f"    {missing}",
        "else:",
        f"    t{i} = {convert}",
    ]
    for number, (name, arg) in enumerate(slot.filters):
        if name == "upper":
            lines.append(f"t{i} = t{i}.upper()")
        elif name == "lower":
            lines.append(f"t{i} = t{i}.lower()")
        elif name == "trim":
            lines.append(f"t{i} = t{i}.strip()")
        elif name in ("truncate", "pad"):
            width = f"w{i}_{number}"
            namespace[width] = int(arg or 0)
            lines.append(
                f"t{i} = t{i}[:{width}]" if name == "truncate" else f"t{i} = t{i}.ljust({width})"
            )
    return lines


def _remember(cache: dict[Any, str], value: Any, text: str) -> str:
    if len(cache) < 4096:
        cache[value] = text
    return text
