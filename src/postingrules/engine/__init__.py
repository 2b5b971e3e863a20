"""The engine: a compiled plan applied to documents, one at a time."""

from postingrules.engine.post import post

__all__ = ["post"]
