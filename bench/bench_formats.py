"""Time the FEC and text writers against the JSON Lines writer, and their peak memory.

Usage: python bench/bench_formats.py [--runs R] [N] [FORMAT ...]   (N entries, default 200000)

Each format runs in its own subprocess so that the peak resident memory (getrusage maxrss) is
that writer's alone.  Entries are generated on the fly (never held in a list) with dates out of
order, so the FEC has to sort and number per journal through its disk spill; output goes to a
sink that only counts bytes, so the figures are the writers' cost, not the disk's; times are
CPU seconds of the process (time.process_time), steadier than wall time on a shared machine.
With ``--runs R`` (default 3) every format runs R times, the rounds interleaved so that a busy
spell on the machine hits all formats alike; the best time is reported, with the spread
(slowest / best) as the noise, and the largest peak memory.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from postingrules import formats
from postingrules.formats.layouts import LAYOUTS
from postingrules.model.entries import Entry, EntryLine

DEFAULT_FORMATS = ("json", "fec", "text", "ebp", "sage-coala", "cegid", "ciel-ximport",
                   "quadratus")  # fmt: skip
JOURNALS = {"VTE": "VT", "BQ1": "BQ"}
OPTIONS: dict[str, dict[str, Any]] = {
    "fec": {"account_labels": {"411000": "Clients", "707200": "Ventes", "445720": "TVA",
                               "512000": "Banque", "627800": "Frais"}},
    **{n: {"journal_map": JOURNALS} for n in ("text", "ebp", "sage-coala", "cegid")},
    # Their entry-number columns hold 5 digits: past 99 999 entries in one file, keep the
    # last 5 (a configured truncation; without it the writer refuses entry 100 000).
    **{n: {"journal_map": JOURNALS,
           "columns": [replace(c, truncate="left") if c.field == "entry_number" else c
                       for c in LAYOUTS[n].columns]}
       for n in ("ciel-ximport", "quadratus")},
}  # fmt: skip


def generate(n: int) -> Iterator[Entry]:
    start = dt.date(2025, 1, 1)
    for i in range(n):
        date = start + dt.timedelta(days=(i * 7919) % 365)
        cents = 1000 + (i * 37) % 90000
        ttc = Decimal(cents) / 100
        ht = (ttc / Decimal("1.2")).quantize(Decimal("0.01"))
        if i % 4 == 3:
            fee = Decimal("0.25")
            lines = (
                EntryLine("512000", ttc - fee, Decimal(0), "Banque"),
                EntryLine("627800", fee, Decimal(0), "Frais CB"),
                EntryLine("411000", Decimal(0), ttc, "Clients", aux="CLIENTWEB",
                          aux_name="CLIENT WEB"),
            )  # fmt: skip
            journal, piece = "BQ1", f"RG{i:08d}"
        else:
            lines = (
                EntryLine("411000", ttc, Decimal(0), "Clients", aux="CLIENTWEB",
                          aux_name="CLIENT WEB"),
                EntryLine("707200", Decimal(0), ht, "Ventes 20%", tax_code="TVA20",
                          tax_rate=Decimal(20)),
                EntryLine("445720", Decimal(0), ttc - ht, "TVA 20%", tax_code="TVA20",
                          tax_rate=Decimal(20)),
            )  # fmt: skip
            journal, piece = "VTE", f"FA{i:08d}"
        yield Entry(journal=journal, date=date, piece=piece, reference=f"order {i}",
                    label=f"Cde web {i}", document_key=f"bench:{i}", document_kind="sale",
                    currency="EUR", lines=lines)  # fmt: skip


class Sink:
    """A binary stream that only counts what is written."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def run_one(name: str, n: int) -> dict[str, object]:
    fmt = formats.get(name)(**OPTIONS.get(name, {}))
    sink = Sink()
    began = time.process_time()
    count = fmt.write(generate(n), sink)  # type: ignore[arg-type]
    seconds = time.process_time() - began
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"format": name, "entries": count, "seconds": round(seconds, 2),
            "mib_out": round(sink.size / 2**20, 1), "peak_rss_mib": round(peak_kib / 1024, 1)}  # fmt: skip


def generation_only(n: int) -> float:
    began = time.process_time()
    for _ in generate(n):
        pass
    return time.process_time() - began


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(argv[1], int(argv[2]))))
        return
    runs = 3
    if argv[:1] == ["--runs"]:
        runs, argv = int(argv[1]), argv[2:]
    n = int(argv[0]) if argv else 200_000
    names = argv[1:] or list(DEFAULT_FORMATS)
    base = min(generation_only(n) for _ in range(runs))
    print(f"{n} entries, best of {runs} runs; generating them alone takes {base:.2f} s "
          "(included below)")  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in names}
    results: dict[str, dict[str, object]] = {}
    for _ in range(runs):
        for name in names:
            done = subprocess.run([sys.executable, __file__, "--one", name, str(n)],
                                  capture_output=True, text=True)  # fmt: skip
            if done.returncode:
                sys.exit(f"{name} failed:\n{done.stderr}")
            result = json.loads(done.stdout)
            times[name].append(float(result["seconds"]))
            peak = max(
                float(result["peak_rss_mib"]), float(results.get(name, result)["peak_rss_mib"])
            )  # type: ignore[arg-type]
            results[name] = {**result, "seconds": min(times[name]), "peak_rss_mib": peak}
    ref = results.get("json")
    print(f"{'format':<14}{'seconds':>9}{'noise':>7}{'x json':>8}{'x json (net)':>14}"
          f"{'MiB out':>9}{'peak RSS MiB':>14}")  # fmt: skip
    for name, r in results.items():
        seconds = float(r["seconds"])  # type: ignore[arg-type]
        noise = f"{max(times[name]) / seconds - 1:+.0%}" if seconds else "-"
        ratio = net = "-"
        if ref:
            ref_seconds = float(ref["seconds"])  # type: ignore[arg-type]
            ratio = f"{seconds / ref_seconds:.2f}"
            if ref_seconds > base:
                net = f"{(seconds - base) / (ref_seconds - base):.2f}"
        print(f"{name:<14}{seconds:>9.2f}{noise:>7}{ratio:>8}{net:>14}{r['mib_out']:>9}"
              f"{r['peak_rss_mib']:>14}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
