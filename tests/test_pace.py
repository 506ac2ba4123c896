"""Pace by working days on a hand-made Farvardin 1403 (Nowruz): docs/forecast.md, "Pace".

1403-01 is 2024-03-20 (Wed) .. 2024-04-19 (Fri), 31 days. Off: Fridays (22, 29 Mar; 5, 12, 19 Apr)
and Iran's official holidays in it (Nowruz 20–23 Mar, 12 and 13 Farvardin = 31 Mar and 1 Apr, Eid
al-Fitr 10–11 Apr): 12 days, so 19 working days. As of 2024-04-02 (14 Farvardin): 7 worked
(24–28, 30 Mar, 2 Apr), 12 left.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sanjeh.kpis.pace import WorkWeek, pace
from sanjeh.workspace import Workspace
from tests.builders import load

AS_OF = dt.date(2024, 4, 2)


def _sale(order_id: str, day: str, amount: float, rep: str = "R1") -> tuple[dict[str, object], dict[str, object]]:
    order = {"order_id": order_id, "ordered_at": f"{day} 10:00", "customer_id": "C1", "rep_id": rep, "status": "placed"}
    line = {"order_id": order_id, "line_no": 1, "product_id": "P1", "quantity": 1.0, "unit_price": amount}
    return order, line


def _fill(ws: Workspace) -> Workspace:
    sales = [
        _sale("O0", "2024-03-19", 999.0),  # 29 Esfand 1402: before the period
        _sale("O1", "2024-03-24", 300.0),
        _sale("O2", "2024-04-02", 400.0),  # the as-of day counts as done
        _sale("O3", "2024-04-03", 5000.0, rep="R2"),  # after the as-of day: not "so far"
    ]
    load(
        ws,
        customers=[{"customer_id": "C1", "name": "C1"}],
        products=[{"product_id": "P1", "name": "P1"}],
        orders=[o for o, _ in sales],
        order_lines=[li for _, li in sales],
        targets=[{"kpi": "revenue", "period": "1403-01", "target": 2000.0}],
    )
    return ws


def test_jalali_working_days_skip_fridays_and_nowruz() -> None:
    week = WorkWeek.for_calendar("jalali")
    assert week.count(dt.date(2024, 3, 20), dt.date(2024, 4, 19)) == 19
    assert week.count(dt.date(2024, 3, 20), AS_OF) == 7
    assert week.count(AS_OF + dt.timedelta(days=1), dt.date(2024, 4, 19)) == 12
    gregorian = WorkWeek.for_calendar("gregorian")  # Saturday and Sunday off, no holidays
    assert gregorian.count(dt.date(2024, 3, 20), dt.date(2024, 4, 19)) == 23


def test_pace_around_nowruz(workspace: Workspace) -> None:
    ws = _fill(workspace)
    p = pace(ws.engine(), "revenue", "1403-01", as_of=AS_OF)
    assert (p.so_far, p.days_elapsed, p.days_left) == (700.0, 7, 12)
    assert p.run_rate == pytest.approx(100.0)
    assert p.projected == pytest.approx(700.0 + 100.0 * 12)
    assert p.target == 2000.0
    assert p.projected_attainment == pytest.approx(1900.0 / 2000.0)
    d = p.to_dict()
    assert d["days_off"] == "fri+IR" and d["projected_attainment"] == pytest.approx(0.95)


def test_pace_uses_the_clock_and_a_reps_scope(workspace: Workspace) -> None:
    ws = _fill(workspace)
    ws.clock = lambda: AS_OF
    assert pace(ws.engine(), "revenue", "1403-01").so_far == 700.0
    ws.clock = lambda: dt.date(2024, 4, 19)  # the whole month: R2's sale counts, nothing is left
    done = pace(ws.engine(rep_scope="R2"), "revenue", "1403-01")
    assert (done.so_far, done.days_left, done.projected) == (5000.0, 0, 5000.0)


def test_no_pace_while_the_data_ends_before_the_period(workspace: Workspace) -> None:
    """A running month whose data is not imported yet (the data ends on 3 April, 1403-01-15): no
    pace, and the day the data ends is said — it read «0 so far, on pace for 0». A month the data
    reaches keeps its pace."""
    from sanjeh.web.forecast_page import _pace_text

    ws = _fill(workspace)
    p = pace(ws.engine(), "revenue", "1403-02", as_of=dt.date(2024, 4, 30))  # 1403-02-11
    assert (p.so_far, p.days_elapsed, p.run_rate, p.projected) == (0.0, 0, None, None)
    assert p.data_end == dt.date(2024, 4, 3) and p.days_left > 0
    d = p.to_dict()
    assert d["data_end"] == "2024-04-03"
    text = _pace_text(d, p.kpi, "fa", str)
    assert "داده‌ها تا ۱۵ فروردین ۱۴۰۳ است" in text and "آهنگی برای برآورد نیست" in text
    running = pace(ws.engine(), "revenue", "1403-01", as_of=AS_OF)
    assert running.data_end is None and running.projected is not None


def test_no_pace_on_a_workspace_with_no_data_yet(workspace: Workspace) -> None:
    """A new workspace: nothing imported, so no pace (it read «0 so far, on pace for 0»), and the
    page says nothing was imported yet."""
    from sanjeh.web.forecast_page import _pace_text

    p = pace(workspace.engine(), "revenue", "1403-01", as_of=AS_OF)
    assert (p.so_far, p.days_elapsed, p.run_rate, p.projected, p.no_data) == (0.0, 0, None, None, True)
    assert p.to_dict()["no_data"] is True and p.data_end is None
    assert "هنوز داده‌ای وارد نشده است" in _pace_text(p.to_dict(), p.kpi, "fa", str)
    later = pace(workspace.engine(), "revenue", "1404-01", as_of=AS_OF)  # not begun: nothing to say
    assert later.no_data is False and later.projected is None


def test_pace_refuses_a_measure_that_does_not_add_up(workspace: Workspace) -> None:
    from sanjeh.errors import InvalidQuery

    ws = _fill(workspace)
    with pytest.raises(InvalidQuery) as e:
        pace(ws.engine(), "win_rate", "1403-01", as_of=AS_OF)
    assert e.value.key == "query.forecast_not_additive"
    assert "won" in e.value.details["additive"]
    # said for a person: the measures that have a forecast by their titles, not «won، lost، won_value»
    fa, en = e.value.text("fa"), e.value.text("en")
    assert "«معامله‌های موفق»، «معامله‌های ناموفق»" in fa and "won،" not in fa, fa
    assert "“Won”, “Lost”" in en, en


def test_sanjeh_forecast_prints_the_pace_and_says_why_there_is_no_forecast(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from sanjeh.cli import main

    root = _fill(workspace).root
    workspace.close()
    args = ["forecast", "revenue", "--period", "1403-01", "--as-of", "1403-01-14", "-w", str(root)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "۹۵٪" in out and "۱۲ روز کاری" in out  # on pace for 95 % of target, 12 working days left
    assert "۲۴ ماه" in out  # the forecast needs 24 months: the keyed message, in Persian
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["forecast"] is None and data["forecast_error"]["code"] == "query.forecast_history"
    assert data["pace"]["projected"] == 1900.0 and data["pipeline"]["deals"] == []
    assert main([*args, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("section,key,value")
    assert main([*args, "--by", "region"]) == 2
    assert "region" in capsys.readouterr().err
