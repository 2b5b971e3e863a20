"""postingrules: e-commerce shop documents → accounting entries, driven by rule files."""
