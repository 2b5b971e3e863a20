"""Documents as the snapshots show them, whatever object a connector returned.

Connectors validate each document once through ``validate_document``, which returns the
msgspec mirror.  The snapshots keep pydantic's JSON form (absent fields left out), so a
mirror is re-read through the pydantic contract: that also proves pydantic accepts every
document the connectors produce, with the same values as the line ``fetch`` writes.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from pydantic import BaseModel

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
