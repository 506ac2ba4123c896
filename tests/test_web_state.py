"""web/state.py: the server's caches and its warehouse lock."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

from sanjeh.web.state import AppState
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.conftest import Templates
from tests.test_web_support import PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def _settled(state: AppState, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while state._warming.is_set() and time.monotonic() < end:
        time.sleep(0.05)
    assert not state._warming.is_set(), "the warming thread did not end"


def test_an_import_or_a_target_change_warms_the_default_scorecard_again(workspace: Workspace) -> None:
    """``sanjeh serve`` computes the first page again in the background after a change, so the
    first visitor after a nightly import does not wait for it; without ``rewarm`` nothing runs."""
    kpi_data.fill(workspace)
    state = AppState.build(workspace)
    state.data_changed()
    assert not state._warming.is_set() and state.computed == 0  # rewarm is off: nothing computed
    state.rewarm = True
    state.data_changed()
    _settled(state)
    warmed = state.computed
    assert warmed > 0
    state._scorecard(None, state.default_period())  # what the first visitor opens: already computed
    assert state.computed == warmed
    state.targets_changed()
    _settled(state)
    assert state.computed > warmed  # targets change attainment: the page is computed again
    again = state.computed
    state._scorecard(None, state.default_period())
    assert state.computed == again


def test_a_target_change_forgets_only_what_reads_the_changed_kpis_targets(workspace: Workspace) -> None:
    """After a target save the next scorecard computes the changed KPI's card and spotlights
    again, not every KPI's: a KPI whose targets did not change keeps its cached results."""
    from sanjeh.kpis.query import Query
    from tests.builders import load

    kpi_data.fill(workspace)
    state = AppState.build(workspace)
    revenue, calls = Query("revenue", "1403-Q1", by=("region",)), Query("calls_per_rep", "1403-Q1")
    first = state.run_query(None, revenue)
    state.run_query(None, calls)
    state._scorecard(None, "1403-Q1")
    computed = state.computed
    load(workspace, targets=[{"kpi": "revenue", "period": "1403-Q1", "target": 1000.0}])
    state.targets_changed()
    state.run_query(None, calls)  # another KPI's targets did not change: still cached
    assert state.computed == computed
    again = state.run_query(None, revenue)  # the changed KPI's result is computed again, with its target
    assert state.computed == computed + 1
    assert "target" not in first["columns"] or all(r.get("target") is None for r in first["rows"])
    sc = state._scorecard(None, "1403-Q1")  # every scorecard too, and the changed KPI's card and spotlights
    # the scorecard (put together again), revenue's card and spotlights: no other KPI's card
    assert state.computed == computed + 3 + len(state.kpi("revenue").card.spotlights)
    card = next(c for c in sc["primary"] + sc["secondary"] if c["kpi"] == "revenue")
    assert card["target"] == 1000.0
    assert again["rows"] != first["rows"] or "target" in again["columns"]
    # a change nobody's engine had read before: everything is forgotten (nothing is known)
    fresh = AppState.build(workspace)
    fresh.catalogue()
    n = fresh.computed
    fresh.targets_changed()
    fresh.catalogue()
    assert fresh.computed == n + 1
    # a change that changes nothing forgets nothing
    fresh.run_query(None, calls)
    n = fresh.computed
    fresh.targets_changed()
    fresh.run_query(None, calls)
    assert fresh.computed == n


def _started(ws: Workspace) -> AppState:
    """A server's state as ``sanjeh serve`` starts it (keeping the scorecard), warmed up."""
    state = AppState.build(ws)
    state.keep_scorecard = True
    state.warm()
    return state


def test_a_restarted_server_reads_the_kept_scorecard_back_until_what_it_was_computed_from_changes(
    workspace: Workspace, tmp_path: Path
) -> None:
    """web/saved.py: the next run serves the first page without computing it, but only while the
    data version, the targets, the settings, the day and the code are those it was computed from."""
    from sanjeh.web.saved import SAVED_FILE
    from tests.builders import load

    kpi_data.fill(workspace)
    first = _started(workspace)
    label = first.default_period()
    page = first._scorecard(None, label)
    assert first.computed > 10
    kept = workspace.root / SAVED_FILE
    assert kept.stat().st_mode & 0o777 == 0o600

    again = _started(workspace)
    assert again.computed == 1  # the catalogue: the default period and its scorecard were read back
    assert again.default_period() == label and again._scorecard(None, label) == page
    assert again.computed == 1
    # a new sessions' secret changes no number: still read back
    workspace.settings = dataclasses.replace(workspace.settings, secret="another secret")
    assert _started(workspace).computed == 1

    # the targets changed while no server ran (sanjeh targets): computed again, with them
    load(workspace, targets=[{"kpi": "revenue", "period": label, "target": 1234.0}])
    changed = _started(workspace)
    assert changed.computed > 10
    card = next(c for c in changed._scorecard(None, label)["primary"] if c["kpi"] == "revenue")
    assert card["target"] == 1234.0
    assert _started(workspace).computed == 1  # and kept in turn

    # another day, other settings, an import: each is computed again
    today = workspace.today()
    workspace.clock = lambda: today + dt.timedelta(days=1)
    assert _started(workspace).computed > 10
    workspace.settings = dataclasses.replace(workspace.settings, goals=("more_customers",))
    assert _started(workspace).computed > 10
    assert _started(workspace).computed == 1
    more = tmp_path / "more.csv"
    more.write_text("order_id,ordered_at,status,customer_id\nN3,1403/11/12,placed,C1\n", encoding="utf-8")
    workspace.import_files([more], table="orders")
    assert _started(workspace).computed > 10

    # a file that is not a kept scorecard is ignored
    kept.write_text("{not json", encoding="utf-8")
    broken = _started(workspace)
    assert broken.computed > 10 and broken._scorecard(None, label)["period"] == label


def test_a_kept_scorecard_carries_the_targets_it_was_computed_with_not_the_table_now(workspace: Workspace) -> None:
    """A target saved after the scorecard was computed, before the server was told of it: what is
    kept is labelled with the targets its cards read, so the next run computes the page again."""
    from tests.builders import load

    kpi_data.fill(workspace)
    state = AppState.build(workspace)
    state.keep_scorecard = True
    state._scorecard(None, state.default_period())
    load(workspace, targets=[{"kpi": "revenue", "period": state.default_period(), "target": 99.0}])
    assert state._keep_scorecard()  # the old page, with the fingerprint of the old targets
    assert _started(workspace).computed > 10


def test_a_new_server_serves_its_first_page_without_importing_pandas(templates: Templates, tmp_path: Path) -> None:
    """From a start to the first scorecard page — the warm-up, a why of a missed target, the
    login (the user's row read, the session written) and the page — nothing imports pandas
    (0.3 s on that path: pyarrow imports it for NumPy or for an array made from Python values,
    DuckDB for a statement parameter, Ibis for its DuckDB results). A new import of it on the way
    fails here."""
    import subprocess
    import sys

    ws = templates.copy(tmp_path / "ws", fill=kpi_data.fill)
    ws.refresh_facts()  # as an import leaves it
    ws.close()
    code = f"""
import sys, traceback
class _Tell:  # says who imports it
    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            print("".join(traceback.format_stack(limit=30)), file=sys.stderr)
sys.meta_path.insert(0, _Tell())
from fastapi.testclient import TestClient
from sanjeh.users import add_user
from sanjeh.web.app import create_app
from sanjeh.workspace import Workspace
from tests.test_web_support import csrf_of
ws = Workspace.open(sys.argv[1])
add_user(ws, "manager", "manager", password={PASSWORD!r})
assert "pandas" not in sys.modules, "adding a user imported pandas"
app = create_app(ws)
app.state.sanjeh.warm()
assert app.state.sanjeh.computed > 10, app.state.sanjeh.computed
with TestClient(app) as c:
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={{"username": "manager", "password": {PASSWORD!r}, "csrf_token": token}})
    assert r.status_code == 200 and "/login" not in str(r.url), r.status_code
    assert c.get("/").status_code == 200
    c.post("/logout", data={{"csrf_token": csrf_of(c.get("/").text)}})
print("pandas" in sys.modules, file=sys.stderr)
"""
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "ws")], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.strip().splitlines()[-1] == "False", done.stderr[-6000:]


def test_logins_and_session_checks_do_not_wait_for_a_computation_that_holds_the_warehouse(
    workspace: Workspace,
) -> None:
    """The users' and sessions' reads run on a second DuckDB connection: while another thread
    holds the warehouse (a cold scorecard, seconds long), a login's read of the user's row, a
    user look-up and a session check answer at once, and see what was committed before."""
    import threading

    from sanjeh.users import add_user, login_record, open_session

    add_user(workspace, "manager", "manager", password=PASSWORD)
    state = AppState.build(workspace)
    user = state.user("manager")
    assert user is not None
    sid = state.call(lambda ws: open_session(ws, user, "session", 60))
    state.forget_user("manager")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with state.locked():
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        found, password_hash = state.read_users(lambda ws: login_record(ws, "manager"))
        assert found is not None and found.username == "manager" and password_hash.startswith("$argon2")
        assert state.user("manager") == found
        assert state.session_ok(sid, "manager")
        assert not state.session_ok("no-such-session", "manager")
        assert time.monotonic() - started < 5, "a read waited for the warehouse lock"
        assert holder.is_alive()  # the lock was held all along
    finally:
        release.set()
        holder.join()
