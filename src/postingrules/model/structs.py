"""msgspec mirrors of the document models: how documents travel on the hot path.

The pydantic models of :mod:`postingrules.model.documents` are the public contract: they give
the JSON Schema, the documentation and, for a bad document, the full list of what is wrong.
Validating a document through them costs more than posting it (~45 µs against ~15 µs for
msgspec, which also parses JSON numbers straight into ``Decimal``).  So each model gets a
msgspec ``Struct`` mirror with the same fields, defaults and constraints, generated here from
the pydantic definitions so the two cannot drift: a feature of the models the generator does
not know (a field validator, an unknown constraint) stops the import instead of being skipped.

The mirrors are only ever the strict side.  The reader and :func:`validate_document` try
the mirror first; whatever it refuses goes through pydantic,
which either accepts it (its lax coercions, e.g. ``"2026-01-27T00:00:00"`` as a date) and
returns the pydantic model, or raises its usual ``ValidationError``.  Either object has the
same attributes, and ``kind`` tells documents apart, so the rules see no difference.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import msgspec
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from postingrules.model.documents import (
    DOCUMENT_ADAPTER,
    Payment,
    Refund,
    Sale,
)

Check = Callable[[Any], None]
_MIRRORS: dict[type[BaseModel], type[msgspec.Struct]] = {}
_SCALARS = (str, bool, int, Decimal, dt.date, type(None))


def _anchored(pattern: str) -> str:
    """pydantic matches a pattern with Rust's regex, where ``$`` is the very end of the text;
    msgspec uses Python's ``re.search``, where ``$`` also matches before a final newline."""
    return (
        pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
    )


_CODE = re.compile(r"\^\[A-Z\]\{(\d+)\}\$")
"""The pattern of a country or currency code: that many upper-case ASCII letters."""


def _meta(
    constraints: list[Any], where: str, codes: dict[str, int] | None = None, name: str = ""
) -> msgspec.Meta | None:
    """msgspec's version of the string and sequence constraints (pattern, length).

    A code pattern (``^[A-Z]{2}$``) becomes a length, checked by msgspec, plus a test of the
    letters in the generated checker (``codes`` collects the field): msgspec runs a pattern
    through ``re.search``, ~2,400 instructions a field, and every document has two or three
    codes."""
    options: dict[str, Any] = {}
    for item in constraints:
        if isinstance(item, annotated_types.MinLen):
            options["min_length"] = item.min_length
        elif codes is not None and (code := _CODE.fullmatch(getattr(item, "pattern", None) or "")):
            if not int(code[1]) or any(isinstance(c, annotated_types.MinLen) for c in constraints):
                raise TypeError(f"{where}: a code pattern with another length is not mirrored")
            options["min_length"] = options["max_length"] = codes[name] = int(code[1])
        elif getattr(item, "pattern", None) is not None:
            options["pattern"] = _anchored(item.pattern)
        else:
            raise TypeError(f"{where}: no msgspec mirror for the constraint {item!r}")
    return msgspec.Meta(**options) if options else None


def _bounds(constraints: list[Any], where: str) -> list[tuple[str, Decimal]]:
    """Numeric bounds, checked after decoding: msgspec has no bounds on ``Decimal``."""
    bounds = []
    for item in constraints:
        for op in ("gt", "ge", "lt", "le"):
            if isinstance(item, getattr(annotated_types, op.capitalize())):
                bounds.append((op, Decimal(getattr(item, op))))
                break
        else:
            raise TypeError(f"{where}: no msgspec mirror for the constraint {item!r}")
    return bounds


def _type(
    annotation: Any, where: str, decimals: list[str], name: str, codes: dict[str, int] | None
) -> Any:
    """The msgspec type for a pydantic annotation; ``decimals`` collects Decimal fields,
    ``codes`` the code fields (``None`` inside a tuple: its items keep their pattern)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        constraints = [m for info in extra if isinstance(info, FieldInfo) for m in info.metadata]
        meta = _meta(constraints, where, codes, name)
        mirrored = _type(inner, where, decimals, name, codes)
        return mirrored if meta is None else Annotated[mirrored, meta]
    if origin in (Union, types.UnionType):
        members = tuple(_type(a, where, decimals, name, codes) for a in get_args(annotation))
        return Union[members]  # noqa: UP007
    if origin is tuple:
        item, ellipsis = get_args(annotation)
        if ellipsis is not Ellipsis:
            raise TypeError(f"{where}: only tuple[X, ...] is mirrored")
        return tuple[_type(item, where, decimals, name, None), ...]
    if origin is Literal:
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return mirror(annotation)
    if annotation in _SCALARS:
        if annotation is Decimal and name not in decimals:
            decimals.append(name)
        return annotation
    raise TypeError(f"{where}: no msgspec mirror for the type {annotation!r}")


def _checker(
    model: type[BaseModel],
    decimals: list[str],
    optional: set[str],
    bounds: dict[str, list[tuple[str, Decimal]]],
    codes: dict[str, int],
) -> Check | None:
    """What msgspec cannot check itself: finite amounts, numeric bounds, the model's own
    ``after`` validators (they only read attributes, so they run on the mirror as they are).

    It runs for every line of every document, so it is generated as straight-line code over
    the model's own field names (no loop, no ``getattr``); bounds and validators are bound as
    variables.  A failure only needs to say "refused": pydantic then explains it.
    """
    decorators = model.__pydantic_decorators__
    if (
        decorators.field_validators
        or decorators.field_serializers
        or any(d.info.mode != "after" for d in decorators.model_validators.values())
    ):
        raise TypeError(f"{model.__name__}: only `after` model validators are mirrored")
    validators = [d.func for d in decorators.model_validators.values()]
    if not decimals and not validators and not codes:
        return None
    assert all(name.isidentifier() for name in [*decimals, *codes])
    namespace: dict[str, Any] = {}
    body = []
    required = [n for n in decimals if n not in optional]
    if required:
        finite = " and ".join(f"self.{n}.is_finite()" for n in required)
        body += [f"if not ({finite}):", "    raise ValueError('not a finite number')"]
    for name in decimals:
        tests = []
        if name in optional:
            tests.append("v.is_finite()")
        for index, (op, bound) in enumerate(bounds.get(name, ())):
            namespace[f"{name}_{index}"] = bound
            symbol = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
            tests.append(f"v {symbol} {name}_{index}")
        if not tests:
            continue
        guard = "v is not None and not" if name in optional else "not"
        body += [f"v = self.{name}", f"if {guard} ({' and '.join(tests)}):"]
        body.append(f"    raise ValueError('{name} is not a finite number in its range')")
    for name in codes:  # the length is msgspec's: here, upper-case ASCII letters only
        guard = "v is not None and not" if name in optional else "not"
        body += [f"v = self.{name}", f"if {guard} (v.isascii() and v.isalpha() and v.isupper()):"]
        body.append(f"    raise ValueError('{name} is not a code in upper-case letters')")
    for index, validate in enumerate(validators):
        namespace[f"validate_{index}"] = validate
        body.append(f"validate_{index}(self)")
    source = "def check(self):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(source, f"<{model.__name__} checks>", "exec"), namespace)
    check: Check = namespace["check"]
    return check


def mirror(model: type[BaseModel]) -> type[msgspec.Struct]:
    """The msgspec Struct mirroring one pydantic model (built once, then remembered)."""
    if model in _MIRRORS:
        return _MIRRORS[model]
    config = model.model_config
    if config.get("extra") != "forbid" or not config.get("frozen"):
        raise TypeError(f"{model.__name__}: only frozen models that forbid extra fields mirror")
    fields: list[tuple[str, Any, Any]] = []
    decimals: list[str] = []
    optional: set[str] = set()
    bounds: dict[str, list[tuple[str, Decimal]]] = {}
    codes: dict[str, int] = {}
    tag = None
    for name, info in model.model_fields.items():
        where = f"{model.__name__}.{name}"
        if name == "kind" and len(get_args(info.annotation)) == 1:
            tag = info.default  # a document's discriminator becomes msgspec's tag
            continue
        numeric = [m for m in info.metadata if not isinstance(m, annotated_types.MinLen)]
        numeric = [m for m in numeric if getattr(m, "pattern", None) is None]
        others = [m for m in info.metadata if m not in numeric]
        if numeric:
            bounds[name] = _bounds(numeric, where)
        kind = _type(info.annotation, where, decimals, name, codes)
        if type(None) in get_args(info.annotation):
            optional.add(name)
        meta = _meta(others, where, codes, name)
        if meta is not None:
            kind = Annotated[kind, meta]
        if info.default_factory is not None:
            raise TypeError(f"{where}: default factories are not mirrored")
        if info.default is PydanticUndefined:
            fields.append((name, kind, msgspec.NODEFAULT))
        elif isinstance(info.default, BaseModel):
            nested = mirror(type(info.default))
            value = msgspec.convert(info.default.model_dump(), nested)
            fields.append((name, kind, msgspec.field(default_factory=lambda v=value: v)))
        else:
            fields.append((name, kind, info.default))
    namespace: dict[str, Any] = {"__doc__": f"msgspec mirror of :class:`{model.__name__}`."}
    check = _checker(model, decimals, optional, bounds, codes)
    if check is not None:
        namespace["__post_init__"] = check
    if tag is not None:
        namespace["kind"] = tag
    struct = msgspec.defstruct(
        model.__name__,
        [(n, t) if d is msgspec.NODEFAULT else (n, t, d) for n, t, d in fields],
        namespace=namespace,
        module=__name__,
        kw_only=True,
        frozen=True,
        forbid_unknown_fields=True,
        gc=False,  # documents hold no cycles: keep millions of them off the GC's lists
        tag_field="kind" if tag is not None else None,
        tag=tag,
    )
    _MIRRORS[model] = struct
    return struct


SaleStruct = mirror(Sale)  # the nested models' mirrors are built on the way
RefundStruct = mirror(Refund)
PaymentStruct = mirror(Payment)
DocumentStruct = Union[SaleStruct, RefundStruct, PaymentStruct]  # type: ignore[valid-type]  # noqa: UP007

_DECODER = msgspec.json.Decoder(DocumentStruct)
_ENCODER = msgspec.json.Encoder()


struct_from_json: Callable[[bytes | str], Any] = _DECODER.decode
"""One JSON document as its mirror, strictly (the decoder's own method: no Python call).

Raises ``msgspec.DecodeError`` for bad JSON and ``msgspec.ValidationError`` for anything the
mirror refuses: callers then ask pydantic, which decides and explains."""


_BY_KIND: dict[str, type[msgspec.Struct]] = {
    s.kind: s  # type: ignore[attr-defined]
    for s in (SaleStruct, RefundStruct, PaymentStruct)
}


def struct_from_python(raw: Mapping[str, Any]) -> Any:
    """One document given as Python values (``Decimal``, ``date`` or ISO text, nested dicts)
    as its mirror, strictly; raises ``msgspec.ValidationError`` like :func:`struct_from_json`.

    The mirror is picked by ``kind`` here: converting into the tagged union costs msgspec
    three times as much as converting into the one Struct."""
    # A dict is told apart by its type: isinstance against the Mapping ABC costs more.
    kind = raw.get("kind") if type(raw) is dict or isinstance(raw, Mapping) else None
    target = _BY_KIND.get(kind) if isinstance(kind, str) else None
    return msgspec.convert(raw, DocumentStruct if target is None else target)


def validate_document(raw: Mapping[str, Any]) -> Any:
    """A document built by a connector: the mirror when strictly valid, else pydantic's word
    (its model, or its ``ValidationError`` listing every error)."""
    try:
        return struct_from_python(raw)
    except msgspec.ValidationError:
        return DOCUMENT_ADAPTER.validate_python(raw)


def encode_document(document: Any) -> bytes:
    """A document as one line of JSON (amounts as exact strings), mirror or pydantic model:
    both write every field, absent ones as ``null``, so a file reads the same either way."""
    if isinstance(document, BaseModel):
        return document.model_dump_json().encode()
    return _ENCODER.encode(document)
