"""PrestaShop 1.7 / 8.x webservice connector (JSON output)."""

from .client import fetch, make_client

__all__ = ["fetch", "make_client"]
