"""web/state.py: the server's caches and its warehouse lock."""

from __future__ import annotations

import time

from sanjeh.web.state import AppState
from sanjeh.workspace import Workspace
from tests import kpi_data


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
