"""Diagnostics are data: a stable code, a severity, a span, a message and a hint.

They are collected (never raised one at a time) and rendered in one place, in hledger's
format: ``file:line:col:``, a numbered excerpt with carets, the message, then the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from postingrules.dsl.ast import Span

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    span: Span
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "message": self.message,
            "hint": self.hint,
        }


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest known name, as click does for commands."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def render(diagnostic: Diagnostic, source: str | None) -> str:
    """Render one diagnostic with a source excerpt and carets under the span."""
    span = diagnostic.span
    out = [f"{span.file}:{span.line}:{span.column}: {diagnostic.severity}[{diagnostic.code}]"]
    lines = source.splitlines() if source else []
    if 0 < span.line <= len(lines):
        text = lines[span.line - 1].rstrip()
        width = len(str(span.line))
        end = span.end_column if span.end_line == span.line else len(text) + 1
        carets = "^" * max(1, end - span.column)
        out.append(f"{' ' * width} |")
        out.append(f"{span.line} | {text}")
        out.append(f"{' ' * width} | {' ' * (span.column - 1)}{carets}")
    out.append(diagnostic.message)
    if diagnostic.hint:
        out.append(f"hint: {diagnostic.hint}")
    return "\n".join(out)


class RulesError(Exception):
    """A rule file that cannot be compiled; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str]) -> None:
        self.diagnostics = diagnostics
        self.sources = sources
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in rule file(s)")

    def render(self) -> str:
        return "\n\n".join(render(d, self.sources.get(d.span.file)) for d in self.diagnostics)
