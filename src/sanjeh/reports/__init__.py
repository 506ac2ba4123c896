"""Reports: the scorecard and chosen KPI pages as one file (XLSX, PDF, HTML), and their delivery.

``build.gather`` asks the engine once for everything a report shows (a surface: it builds no
query of its own); ``xlsx``, ``html`` and ``pdf`` render the same :class:`~sanjeh.reports.build.Report`;
``deliver`` sends the files (SMTP, a signed webhook, Telegram/Bale bots). See docs/reports.md.
"""

from sanjeh.reports.build import FORMATS, Report, gather, write

__all__ = ["FORMATS", "Report", "gather", "write"]
