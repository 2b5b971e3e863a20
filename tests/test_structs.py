"""The msgspec mirrors never accept what the pydantic contract refuses, and read the same values.

The reader decodes documents into the mirrors of ``model/structs.py`` and only asks pydantic
about what the mirror refuses.  That is sound only if every document the mirror accepts is
one pydantic accepts too, with the same values: a differential property over real example
documents with random damage checks exactly that.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import jiter
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from postingrules.model import documents
from postingrules.model.documents import DOCUMENT_ADAPTER
from postingrules.model.reader import BadDocument, read_documents
from postingrules.model.structs import encode_document, mirror, struct_from_json, validate_document

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [
    jiter.from_json(line, float_mode="decimal")
    for line in (ROOT / "examples" / "all.jsonl").read_bytes().splitlines()
]
MODELS = [
    documents.Source,
    documents.Address,
    documents.Customer,
    documents.PaymentMethod,
    documents.Line,
    documents.Totals,
    documents.Sale,
    documents.Refund,
    documents.Payment,
]
ENCODER = msgspec.json.Encoder(decimal_format="number")

# Values that break one rule or another of the contract, or that only a lax reader accepts.
ODD_VALUES: list[Any] = [
    None,
    "",
    "NaN",
    "Infinity",
    "-1",
    "101",
    -1,
    0,
    Decimal("1E+400"),
    Decimal("100.000001"),
    "FR\n",
    "fr",
    "FRA",
    "Fr",
    "F1",
    "ÉT",  # upper-case letters, but not ASCII: not a code
    "EUr",
    "2026-01-27T00:00:00",
    "2026-13-01",
    "2026-1-5",
    True,
    "yes",
    1,
    [],
    {},
    [{}],
    "12.5",
    "other",
]


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _paths(value, (*prefix, index))
    return found


def _set(tree: Any, path: tuple[Any, ...], value: Any, drop: bool) -> None:
    *parents, last = path
    for step in parents:
        tree = tree[step]
    if drop and isinstance(tree, dict):
        del tree[last]
    else:
        tree[last] = value


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A real example document with up to three random changes."""
    tree = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(tree)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["value", "value", "drop", "extra"]))
        if action == "extra":
            target = tree
            for step in path[:-1]:
                target = target[step]
            if isinstance(target, dict):
                target["unexpected"] = 1
        else:
            _set(
                tree, path, copy.deepcopy(draw(st.sampled_from(ODD_VALUES))), drop=action == "drop"
            )
    return ENCODER.encode(tree)


def _pydantic(data: bytes) -> BaseModel | None:
    try:
        return DOCUMENT_ADAPTER.validate_python(jiter.from_json(data, float_mode="decimal"))
    except (ValidationError, ValueError):
        return None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_the_mirror_accepts_only_what_pydantic_accepts_with_the_same_values(data: bytes) -> None:
    try:
        fast = struct_from_json(data)
    except msgspec.MsgspecError:
        return  # the reader then asks pydantic: nothing to compare
    model = _pydantic(data)
    assert model is not None, f"the mirror accepted what pydantic refuses: {data!r}"
    assert _plain(fast) == _plain(model)


def test_every_example_takes_the_fast_path_with_the_models_values() -> None:
    for raw in EXAMPLES:
        data = ENCODER.encode(raw)
        fast = struct_from_json(data)
        assert type(fast) is mirror(type(_pydantic(data)))
        assert _plain(fast) == _plain(DOCUMENT_ADAPTER.validate_python(raw))


def _plain(document: Any) -> Any:
    """JSON values of a mirror or a model (amounts as exact strings), to compare the two."""
    if isinstance(document, BaseModel):
        return msgspec.json.decode(document.model_dump_json())
    return msgspec.json.decode(msgspec.json.encode(document))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_mirror_has_the_models_fields_and_defaults(model: type[BaseModel]) -> None:
    struct = mirror(model)
    tagged = struct.__struct_config__.tag is not None  # a document's `kind` is msgspec's tag
    fields = {n: f for n, f in model.model_fields.items() if not (tagged and n == "kind")}
    assert struct.__struct_fields__ == tuple(fields)
    defaults = dict(zip(struct.__struct_fields__, _defaults(struct), strict=True))
    for name, info in fields.items():
        if info.is_required():
            assert defaults[name] is msgspec.NODEFAULT, name
        elif isinstance(info.default, BaseModel):
            assert _plain(defaults[name]) == _plain(info.default)
        else:
            assert defaults[name] == info.default, name
    if tagged:
        assert struct.kind == model.model_fields["kind"].default


def _defaults(struct: type[msgspec.Struct]) -> list[Any]:
    """Each field's default (factories called), ``NODEFAULT`` for a required field."""
    values = list(struct.__struct_defaults__)
    padded = [msgspec.NODEFAULT] * (len(struct.__struct_fields__) - len(values)) + values
    return [v.factory() if isinstance(v, msgspec._core.Factory) else v for v in padded]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"billing": {"country": "FR\n"}}, "billing.country: String should match pattern"),
        ({"totals": {"excl": "NaN", "tax": 0, "incl": 0}}, "totals.excl: Input should be a finite"),
        ({"currency": "eur"}, "currency: String should match pattern '^[A-Z]{3}$'"),
        ({"billing": {"country": "ÉT"}}, "billing.country: String should match pattern"),
        ({"currency": "EU1"}, "currency: String should match pattern '^[A-Z]{3}$'"),
        ({"lines": []}, "lines: Tuple should have at least 1 item after validation, not 0"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_what_the_mirror_refuses_is_explained_by_pydantic(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    raw = msgspec.json.decode(ENCODER.encode(EXAMPLES[0]))
    raw.update(change)
    path = tmp_path / "one.jsonl"
    path.write_bytes(ENCODER.encode(raw) + b"\n")
    (result,) = read_documents(path)
    assert isinstance(result, BadDocument)
    assert expected in result.reason


def test_lax_input_that_pydantic_accepts_is_still_read(tmp_path: Path) -> None:
    raw = msgspec.json.decode(ENCODER.encode(EXAMPLES[0]))
    raw["order_date"] = "2026-01-27T00:00:00"  # a datetime at midnight: pydantic takes it
    raw["customer"]["vat_validated"] = "yes"
    path = tmp_path / "lax.jsonl"
    path.write_bytes(ENCODER.encode(raw) + b"\n")
    (result,) = read_documents(path)
    assert isinstance(result, documents.Sale)  # the pydantic model: the mirror refused it
    assert result.order_date == dt.date(2026, 1, 27)
    assert result.customer.vat_validated is True


def test_validate_document_for_connectors() -> None:
    raw = DOCUMENT_ADAPTER.validate_python(EXAMPLES[-1]).model_dump()
    assert type(validate_document(raw)) is mirror(type(DOCUMENT_ADAPTER.validate_python(raw)))
    raw["key"] = ""
    with pytest.raises(ValidationError, match="key"):
        validate_document(raw)


def test_encode_document_writes_the_same_fields_for_a_mirror_and_a_model() -> None:
    for raw in EXAMPLES:
        model = DOCUMENT_ADAPTER.validate_python(raw)
        fast = struct_from_json(ENCODER.encode(raw))
        assert msgspec.json.decode(encode_document(model)) == msgspec.json.decode(
            encode_document(fast)
        )
