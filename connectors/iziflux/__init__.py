"""Iziflux connector: import of the hourly pipe-delimited marketplace order files."""
