"""WooCommerce REST API v3 connector."""

from .client import fetch, make_client

__all__ = ["fetch", "make_client"]
