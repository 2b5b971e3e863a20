"""Accounting export formats, one module per format, looked up by name in a registry."""

from postingrules.formats.base import Format, FormatError, OptionError, get, names, register
from postingrules.formats.fec import Fec
from postingrules.formats.jsonl import JsonLines

register(JsonLines)
register(Fec)

__all__ = ["Fec", "Format", "FormatError", "JsonLines", "OptionError", "get", "names", "register"]
