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


@pytest.mark.slow
def test_bench_formats_reports_every_writer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_formats

    bench_formats.main(["--runs", "1", "2000", "json", "fec", "quadratus"])
    report = capsys.readouterr().out
    assert "2000 entries, best of 1 runs" in report
    for name in ("json", "fec", "quadratus"):
        assert any(line.startswith(name) for line in report.splitlines()), name


@pytest.mark.slow
def test_bench_connectors_reports_every_platform(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_connectors

    monkeypatch.setattr("sys.argv", ["bench_connectors.py", "50", "--repeat", "1"])
    bench_connectors.main()
    report = capsys.readouterr().out
    for name in ("prestashop", "woocommerce", "magento", "shopify", "iziflux"):
        assert any(line.startswith(name) for line in report.splitlines()), name
