"""Accounting export formats, one module per format, looked up by name in a registry."""

from postingrules.formats.base import (
    Format,
    FormatError,
    OptionError,
    UnknownFormatError,
    get,
    names,
    register,
)
from postingrules.formats.customers import CustomersExport
from postingrules.formats.fec import Fec
from postingrules.formats.jsonl import JsonLines
from postingrules.formats.layouts import LAYOUT_FORMATS, LAYOUTS
from postingrules.formats.text import TextExport, TextProfile, load_profile

for _fmt in (JsonLines, Fec, *LAYOUT_FORMATS, CustomersExport):
    register(_fmt)

# The plain-text ledger and QuickBooks modules register themselves (``@register``) on import.
from postingrules.formats import beancount, hledger, iif, qbo  # noqa: E402, F401

__all__ = [
    "LAYOUTS",
    "CustomersExport",
    "Fec",
    "Format",
    "FormatError",
    "JsonLines",
    "OptionError",
    "TextExport",
    "TextProfile",
    "UnknownFormatError",
    "get",
    "load_profile",
    "names",
    "register",
]
