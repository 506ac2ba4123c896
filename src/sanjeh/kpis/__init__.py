"""KPI definitions (data), their compiler to Ibis and the engine that runs them."""

from sanjeh.goals import GOAL_TITLES, GOALS
from sanjeh.kpis.catalogue import CATALOGUE
from sanjeh.kpis.engine import Engine, Result
from sanjeh.kpis.model import KPI, Cond, Measure
from sanjeh.kpis.query import Query
from sanjeh.kpis.scorecard import Scorecard

__all__ = ["CATALOGUE", "GOALS", "GOAL_TITLES", "KPI", "Cond", "Engine", "Measure", "Query", "Result", "Scorecard"]
