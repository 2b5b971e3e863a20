"""The base every accounting format builds on, and the registry that finds formats by name.

A format declares its properties as class attributes (sqlglot's dialect style) and writes a
stream of entries to a text or binary stream.  Writers must not hold all entries in memory.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import BinaryIO, ClassVar

from postingrules.model.entries import Entry


class UnknownFormatError(LookupError):
    """Raised for a format name that is not registered; the message suggests close names."""


class Format:
    """An export format.  Subclasses set the class attributes and implement :meth:`write`."""

    name: ClassVar[str]
    summary: ClassVar[str]
    extension: ClassVar[str] = ".txt"

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        """Write every entry to ``out``; return the number of entries written."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Format]] = {}


def register(fmt: type[Format]) -> type[Format]:
    """Add a format class to the registry (usable as a decorator)."""
    _REGISTRY[fmt.name] = fmt
    return fmt


def names() -> list[str]:
    """Registered format names, sorted."""
    return sorted(_REGISTRY)


def get(name: str) -> type[Format]:
    """The format class called ``name``, or :class:`UnknownFormatError` with a suggestion."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownFormatError(
            f"unknown format {name!r}{hint} (known: {', '.join(names())})"
        ) from None
