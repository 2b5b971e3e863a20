"""The benchmark scripts still run, end to end, on a few documents.

Not a timed test (their figures are never asserted): it only catches a script that no
longer starts or no longer reports, which no other test would notice until someone needs
the figures.  The input and the outputs go to a temporary folder, not to ``bench/out``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.slow
def test_bench_engine_reports_every_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_engine

    monkeypatch.setattr(bench_engine, "OUT", tmp_path)
    assert bench_engine.main(["--n", "300", "--repeat", "1", "--no-compile"]) == 0
    report = capsys.readouterr().out
    for run in ("(a) engine alone", "(b) end to end", "(c) floor", "(b) instrumented"):
        assert run in report
    assert "'Entry': " in report and (tmp_path / "report-300.md").read_text() == report
