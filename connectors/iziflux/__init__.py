"""Iziflux connector: import of the hourly pipe-delimited marketplace order files."""

from .client import fetch, make_client

__all__ = ["fetch", "make_client"]
