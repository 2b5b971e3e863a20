"""Shopify connector: GraphQL Admin API first, REST Admin as fallback."""

from .client import fetch, make_client

__all__ = ["fetch", "make_client"]
