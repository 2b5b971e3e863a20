"""Shopify connector: GraphQL Admin API first, REST Admin as fallback."""
