"""docs/documents.md cannot silently fall behind the document models.

Every field of every pydantic model in ``postingrules.model.documents`` is listed in the table of
its model's section (and nothing else is), with the right requiredness and a matching type; every
JSON example in the page validates, and the examples said to come from ``examples/`` match them.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import typing
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

from postingrules.model import documents
from postingrules.model.reader import BadDocument, parse_json, validate

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "documents.md"
TEXT = DOC.read_text(encoding="utf-8")

# Private base models document their fields in a shared section.
PRIVATE_SECTIONS = {"_Commercial": "`Sale` and `Refund`: common fields"}
TOP_LEVEL = {"Sale", "Refund", "Payment"}


def _models() -> dict[str, type[BaseModel]]:
    return {
        name: cls
        for name, cls in inspect.getmembers(documents, inspect.isclass)
        if issubclass(cls, BaseModel) and cls.__module__ == documents.__name__
    }


MODELS = _models()
PUBLIC = sorted(name for name in MODELS if not name.startswith("_"))


def _sections() -> dict[str, dict[str, list[str]]]:
    """Heading text (level 2) → {field: [type, required, meaning]} from its field table."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in TEXT.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), {})
        elif line.startswith("#"):
            current = None
        elif current is not None and (row := re.match(r"\| `(\w+)` \|(.*)\|$", line)):
            cells = [cell.strip() for cell in row[2].split("|")]
            assert row[1] not in current, f"{row[1]} listed twice"
            current[row[1]] = cells
    return sections


SECTIONS = _sections()


def _documented(name: str) -> dict[str, list[str]]:
    """The rows documenting every field of model ``name``, its own and its bases'."""
    rows = dict(SECTIONS.get(f"`{name}`", {}))
    for base in MODELS[name].__mro__[1:]:
        if base.__name__ in PRIVATE_SECTIONS and base.__name__ in MODELS:
            rows.update(SECTIONS[PRIVATE_SECTIONS[base.__name__]])
    return rows


def test_models_found():
    assert {"Sale", "Refund", "Payment", "Line", "Totals", "Customer", "Address"} <= set(PUBLIC)
    assert {"PaymentMethod", "Source"} <= set(PUBLIC)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_private_bases_with_fields_have_a_shared_section(name):
    own = set(MODELS[name].model_fields) - {
        field for base in MODELS[name].__mro__[1:] for field in getattr(base, "model_fields", {})
    }
    if name.startswith("_") and own:
        assert name in PRIVATE_SECTIONS, f"add a section for the fields of {name}"
        assert PRIVATE_SECTIONS[name] in SECTIONS


@pytest.mark.parametrize("name", PUBLIC)
def test_every_field_is_documented(name):
    assert f"`{name}`" in SECTIONS, f"docs/documents.md has no section ## `{name}`"
    documented = _documented(name)
    fields = set(MODELS[name].model_fields)
    assert not fields - set(documented), f"{name}: fields missing from the doc"
    assert not set(documented) - fields, f"{name}: the doc lists fields the model lacks"


@pytest.mark.parametrize("name", PUBLIC)
def test_required_column_matches_the_model(name):
    rows = _documented(name)
    for field, info in MODELS[name].model_fields.items():
        if field not in rows:
            continue  # reported by test_every_field_is_documented
        cell = rows[field][1]
        assert cell.split()[0] in {"yes", "no"}, f"{name}.{field}: required is {cell!r}"
        documented = cell.startswith("yes")
        # `kind` has a default in Python but is the discriminator: a JSON document must carry it.
        expected = True if (name in TOP_LEVEL and field == "kind") else info.is_required()
        assert documented == expected, f"{name}.{field}: required should be {expected}"
        if not info.is_required() and info.default not in (None, ()) and field != "kind":
            assert "default" in cell, f"{name}.{field}: say its default"


def _leaf_types(annotation) -> set[type]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _leaf_types(args[0])
    if not args:
        return {annotation} if isinstance(annotation, type) else set()
    return set().union(*(_leaf_types(arg) for arg in args))


@pytest.mark.parametrize("name", PUBLIC)
def test_type_column_matches_the_model(name):
    rows = _documented(name)
    for field, info in MODELS[name].model_fields.items():
        if field not in rows:
            continue  # reported by test_every_field_is_documented
        kind = rows[field][0]
        leaves = _leaf_types(info.annotation)
        if Decimal in leaves:
            assert re.match(r"(money|rate|decimal)\b", kind), f"{name}.{field}: {kind}"
        if dt.date in leaves:
            assert kind == "date", f"{name}.{field}: {kind}"
        if bool in leaves:
            assert kind == "boolean", f"{name}.{field}: {kind}"


# --------------------------------------------------------------------------------------------
# The JSON examples


def _blocks() -> list[tuple[str, str, str | None]]:
    """(language, body, example file named in a preceding comment) of every fenced block."""
    pattern = re.compile(r"(?:<!-- example: (\S+) -->\n)?```(\w*)\n(.*?)\n```", re.S)
    return [(m[2], m[3], m[1]) for m in pattern.finditer(TEXT)]


BLOCKS = _blocks()
JSON_BLOCKS = [b for b in BLOCKS if b[0] in {"json", "jsonl"}]


def _documents(language: str, body: str) -> list:
    if language == "jsonl":
        raws = [parse_json(line) for line in body.splitlines() if line.strip()]
    else:
        parsed = parse_json(body)
        raws = parsed if isinstance(parsed, list) else [parsed]
    return [validate(raw, "docs/documents.md") for raw in raws]


@pytest.mark.parametrize("index", range(len(JSON_BLOCKS)))
def test_json_examples_validate(index):
    language, body, source = JSON_BLOCKS[index]
    parsed = _documents(language, body)
    assert parsed
    bad = [str(d) for d in parsed if isinstance(d, BadDocument)]
    assert not bad, bad
    if source:
        file_documents = _documents("json", (ROOT / source).read_text(encoding="utf-8"))
        assert parsed == file_documents, f"the example is not {source} verbatim"


def test_examples_show_every_kind_and_every_input_shape():
    kinds = {
        getattr(d, "kind", None) for lang, body, _ in JSON_BLOCKS for d in _documents(lang, body)
    }
    assert kinds == {"sale", "refund", "payment"}
    assert any(lang == "jsonl" for lang, _, _ in JSON_BLOCKS)
    assert any(lang == "json" and body.lstrip().startswith("[") for lang, body, _ in JSON_BLOCKS)


def test_examples_from_files_are_verbatim():
    for _language, body, source in JSON_BLOCKS:
        if source:
            assert body == (ROOT / source).read_text(encoding="utf-8").rstrip("\n"), source
