"""The benchmark code paths at a tiny size, so bench/ cannot rot (the figures come from `make bench`)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from bench.compare import compare
from bench.run import run
from bench.web import _periods, _stats


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("bench")
    return run(2000, only=["import", "kpi"], keep=work, results=work / "figures.json", repeat=1, import_runs=2)


def test_import_and_kpi_steps_measure_whole_processes(report: dict[str, object]) -> None:
    imp, kpi = report["import"], report["kpi"]
    assert isinstance(imp, dict)
    assert isinstance(kpi, dict)
    for m in (imp["sanjeh"], imp["baseline"], kpi["sanjeh"], kpi["sql"], kpi["pandas"]):
        assert m["returncode"] == 0
        assert m["wall_s"] > 0
        assert m["peak_rss_mb"] > 10
    assert imp["rejected"] == 0
    runs = imp["runs"]  # the import and its baseline ran twice, alternating; the figures are medians
    assert isinstance(runs, list) and len(runs) == 2
    assert all(r["sanjeh_s"] > 0 and r["baseline_s"] > 0 for r in runs)
    assert kpi["ratio_vs_sql"] > 0


def test_engine_and_both_baselines_agree(report: dict[str, object], tmp_path: Path) -> None:
    kpi = report["kpi"]
    assert isinstance(kpi, dict)
    assert kpi["mismatches"] == []
    assert [q["repeat"] for q in kpi["warm"]["single"]] == [1] * len(kpi["warm"]["single"])


def test_the_comparison_reports_a_changed_number() -> None:
    base = {"revenue": {"by": [], "rows": [{"period": "1403-01", "revenue": 100.0, "orders": 3}]}}
    engine = copy.deepcopy(base)
    assert compare(engine, base, label="x") == []
    engine["revenue"]["rows"][0]["revenue"] = 100.0 * (1 + 1e-8)
    assert compare(engine, base, label="x") == ["x: revenue ('1403-01',) revenue: engine 100.000001, baseline 100.0"]
    engine["revenue"]["rows"] = []
    assert compare(engine, base, label="x") == ["x: revenue ('1403-01',): row missing from the engine"]


def test_figures_file_and_web_helpers(report: dict[str, object]) -> None:
    assert report["orders"] == 2000
    assert _periods(3) == ["1403-12", "1403-11", "1403-10"]
    assert _periods(13)[-1] == "1402-12"
    s = _stats([0.01 * i for i in range(1, 21)])
    assert s["requests"] == 20
    assert s["p95_ms"] == 190.0
    assert s["max_ms"] == 200.0
    assert json.dumps(report)


def test_the_why_bench_measures_its_three_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.why import measure

    from sanjeh.demo import iter_demo_tables
    from sanjeh.workspace import Workspace

    monkeypatch.setenv("SANJEH_CACHE_DIR", str(tmp_path / "cache"))  # put back after the bench's own
    ws = Workspace.init(tmp_path / "ws")
    with ws.warehouse.transaction():
        for name, chunk in iter_demo_tables(orders=800):
            ws.warehouse.insert_arrow(name, chunk)
    ws.close()
    got = measure(tmp_path / "ws", "revenue", "1403-Q4", "region", repeat=1)
    for state in ("first", "warm"):
        assert set(got[state]) >= {"kpi_compared", "why_one_dimension", "why_auto", "ratio_why_one", "ratio_why_auto"}
        assert all(v > 0 for v in got[state].values())


def test_the_forecast_bench_times_both_pages_cold_and_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.forecast import build, measure

    monkeypatch.setenv("SANJEH_CACHE_DIR", str(tmp_path / "cache"))  # put back after the bench's own
    build(tmp_path / "ws", 800)
    got = measure(tmp_path / "ws", runs=1)
    for page in ("kpi_page", "forecast_page"):
        assert got[page]["first_median_ms"] > got[page]["again_median_ms"] > 0
        assert got[page]["server_peak_rss_mb"] > 10
    assert got["ratio_first"] > 0


def test_the_reports_bench_measures_its_four_cases_in_each_round(tmp_path: Path) -> None:
    from bench.reports import measure

    from sanjeh.demo import iter_demo_tables
    from sanjeh.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    with ws.warehouse.transaction():
        for name, chunk in iter_demo_tables(orders=300):
            ws.warehouse.insert_arrow(name, chunk)
    ws.close()
    before = (tmp_path / "ws" / "warehouse.duckdb").read_bytes()
    got = measure(tmp_path / "ws", rounds=1, work=tmp_path / "work", cold=False)  # compiling: most of a cold run
    assert (tmp_path / "ws" / "warehouse.duckdb").read_bytes() == before  # the bench works on a copy
    assert got["orders"] == 300 and got["rounds"] == 1 and len(got["runs"]) == 1
    (run,) = got["runs"]
    for case in ("kpi_all", "xlsx", "cold_scorecard", "pdf"):
        assert run[case]["wall_s"] > 0
        assert got["median_s"][case] == run[case]["wall_s"]
        assert run[case]["cpu_s"] > 0 and got["median_cpu_s"][case] == run[case]["cpu_s"]
    assert all(run[c]["returncode"] == 0 for c in ("kpi_all", "xlsx", "pdf"))
    assert (tmp_path / "work" / "report.xlsx").read_bytes().startswith(b"PK")
    assert (tmp_path / "work" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert got["ratios"]["xlsx_vs_kpi_all"] == run["xlsx_vs_kpi_all"]
    assert set(got["met"]) == {"xlsx_vs_kpi_all", "pdf_vs_cold_scorecard"}
    assert json.dumps(got)


def test_the_serve_bench_starts_with_and_without_a_kept_scorecard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.serve import run as serve_run

    from sanjeh.demo import iter_demo_tables
    from sanjeh.workspace import Workspace

    monkeypatch.setenv("SANJEH_CACHE_DIR", str(tmp_path / "cache"))
    ws = Workspace.init(tmp_path / "ws")
    with ws.warehouse.transaction():
        for name, chunk in iter_demo_tables(orders=300):
            ws.warehouse.insert_arrow(name, chunk)
    ws.close()
    got = serve_run(tmp_path / "ws", 1)
    assert len(got["runs"]) == 2  # an uncounted round, then the counted one
    for start in ("computed", "kept"):
        assert got["runs"][1][start]["first_page_s"] > got["runs"][1][start]["listening_s"] > 0
    assert not (tmp_path / "ws" / "saved-scorecard.json").exists()  # the bench works on a copy


def test_the_concurrent_clients_time_every_request(tmp_path: Path) -> None:
    """bench.web's load generator (HTTP/1.1 written by hand, keep-alive) and the httpx one it
    replaced both time every request of every client, and refuse an answer that is not a 200."""
    from bench.web import _concurrent, _concurrent_httpx, ensure_user, login, server, server_cpu_ms

    from sanjeh.demo import iter_demo_tables
    from sanjeh.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    with ws.warehouse.transaction():
        for name, chunk in iter_demo_tables(orders=300):
            ws.warehouse.insert_arrow(name, chunk)
    ws.close()
    ensure_user(tmp_path / "ws")
    with server(tmp_path / "ws") as (base, proc):
        cookies = login(base)
        assert server_cpu_ms(proc.pid, base, cookies, "/", n=20) > 0
        paths = [["/healthz", "/"], ["/", "/healthz"], ["/healthz", "/healthz"]]
        for measure in (_concurrent, _concurrent_httpx):
            got = measure(base, cookies, paths)
            assert len(got) == 6 and all(t > 0 for t in got)
        with pytest.raises(RuntimeError, match="HTTP 404"):
            _concurrent(base, cookies, [["/no-such-page"]])
