"""Accounting export formats, one module per format, looked up by name in a registry."""

from postingrules.formats.base import Format, get, names, register
from postingrules.formats.jsonl import JsonLines

register(JsonLines)

__all__ = ["Format", "JsonLines", "get", "names", "register"]
