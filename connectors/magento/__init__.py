"""Magento 2 / Adobe Commerce REST connector: invoices, credit memos, orders for context."""

from .client import fetch, make_client

__all__ = ["fetch", "make_client"]
