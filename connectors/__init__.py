"""Shop connectors."""
