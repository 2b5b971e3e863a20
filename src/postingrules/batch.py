"""Running a ruleset over a stream of documents, keeping the score.

Shared by ``preview``, ``export`` and the in-file tests: documents are read lazily, posted
one at a time, and every outcome is counted so that nothing is ever silently dropped: an
entry, a refusal (with its reason), a document left out by the filter, or an invalid one.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter

from postingrules.model.documents import Payment, Refund, Sale
from postingrules.model.entries import ZERO, Entry, Refusal, Skipped
from postingrules.model.reader import BadDocument, read_all
from postingrules.ruleset import Ruleset

_DEBIT, _CREDIT = attrgetter("debit"), attrgetter("credit")


@dataclass
class Tally:
    """Counts and the set-aside documents of one run."""

    available: int = 0
    entries: int = 0
    lines: int = 0
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    not_selected: int = 0
    refused: list[Refusal] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    invalid: list[BadDocument] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.refused or self.invalid)

    def summary(self) -> dict[str, object]:
        return {
            "documents_available": self.available,
            "documents_to_create": self.entries,
            "lines_to_create": self.lines,
            "total_debit": str(self.debit),
            "total_credit": str(self.credit),
            "refused": len(self.refused),
            "left_out": len(self.skipped),
            "invalid": len(self.invalid),
            "not_selected": self.not_selected,
        }


@dataclass(frozen=True)
class Selection:
    """Which documents the user asked for: key globs to select/exclude, statuses."""

    select: Sequence[str] = ()
    exclude: Sequence[str] = ()
    statuses: Sequence[str] = ()

    def wants(self, doc: Sale | Refund | Payment) -> bool:
        if self.select and not any(fnmatch.fnmatchcase(doc.key, p) for p in self.select):
            return False
        if any(fnmatch.fnmatchcase(doc.key, p) for p in self.exclude):
            return False
        # Payments carry no status: a status choice selects sales and refunds only.
        return not self.statuses or doc.kind == "payment" or doc.status in self.statuses


def run(
    ruleset: Ruleset, paths: Iterable[str], tally: Tally, selection: Selection = Selection()
) -> Iterator[tuple[Sale | Refund | Payment, Entry]]:
    """Yield (document, entry) for every posted document; record everything else in ``tally``."""
    choosing = bool(selection.select or selection.exclude or selection.statuses)
    post = ruleset.post
    for item in read_all(paths):
        tally.available += 1
        if isinstance(item, BadDocument):
            tally.invalid.append(item)
            continue
        if choosing and not selection.wants(item):
            tally.not_selected += 1
            continue
        result = post(item)
        if isinstance(result, Entry):
            lines = result.lines
            tally.entries += 1
            tally.lines += len(lines)
            # Each sum starts from the running total and skips every line's zero side: half
            # the additions, and no property call (~20 % of the tally's cost, measured).
            tally.debit = sum(filter(None, map(_DEBIT, lines)), tally.debit)
            tally.credit = sum(filter(None, map(_CREDIT, lines)), tally.credit)
            yield item, result
        elif isinstance(result, Refusal):
            tally.refused.append(result)
        else:
            tally.skipped.append(result)
