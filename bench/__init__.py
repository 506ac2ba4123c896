"""Benchmarks of Sanjeh against plain baselines (not part of the test suite).

``python -m bench.run --orders N`` generates the demo data set, then measures
``sanjeh import`` against a plain DuckDB ``read_csv`` load, ``sanjeh kpi --all``
against hand-written DuckDB SQL and plain pandas (checking that all three agree),
single warm KPI queries, and the dashboard's scorecard page. Every timed step is
a whole child process, measured with ``os.wait4`` (wall time, peak RSS).
``python -m bench.reports WORKSPACE`` times ``sanjeh report`` (XLSX, PDF) against
``sanjeh kpi --all`` and a cold scorecard page (issue 17); ``python -m bench.why``
times the "why" of a change (issue 15).
See docs/benchmarks.md for the figures and how they were taken.
"""
