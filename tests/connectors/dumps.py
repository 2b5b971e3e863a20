"""Documents as the snapshots show them, whatever object a connector returned.

Connectors validate each document once through ``validate_document``, which returns the
msgspec mirror.  The snapshots keep pydantic's JSON form (absent fields left out), so a
mirror is re-read through the pydantic contract: that also proves pydantic accepts every
document the connectors produce, with the same values as the line ``fetch`` writes.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
from pydantic import BaseModel

from postingrules.connectors.profile import SetAside
from postingrules.model.documents import DOCUMENT_ADAPTER
from postingrules.model.structs import encode_document


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def as_json(document: Any) -> dict[str, Any]:
    """The snapshot form of a connector's document (which must be the strict mirror)."""
    assert not isinstance(document, BaseModel), (
        f"{document.key}: the mirror refused it, pydantic's lax rules accepted it (slow path)"
    )
    model = DOCUMENT_ADAPTER.validate_python(msgspec.to_builtins(document))
    dumped = model.model_dump(mode="json", exclude_none=True)
    assert _without_none(json.loads(encode_document(document))) == dumped
    return dumped


def dump(items: Any) -> str:
    """Documents and set-aside payloads as the JSON Lines snapshots hold them."""
    out = []
    for item in items:
        if isinstance(item, SetAside):
            out.append(
                json.dumps({"set_aside": item.to_json()}, ensure_ascii=False, sort_keys=True)
            )
        else:
            out.append(json.dumps(as_json(item), ensure_ascii=False))
    return "\n".join(out) + "\n"


def lines_incl(doc: Any) -> Decimal:
    """A document's lines summed including tax, to reconcile with the shop's total."""
    return sum((line.total_excl + line.tax_amount for line in doc.lines), Decimal(0))


def dump_batch(documents: list[Any], aside: list[SetAside]) -> str:
    """A batch's documents and set-aside payloads as one JSON snapshot (Magento, Shopify)."""
    payload = {
        "documents": [as_json(d) for d in documents],
        "set_aside": [vars(a) for a in aside],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
