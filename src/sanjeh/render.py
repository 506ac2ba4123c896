"""Plain-text rendering shared by the CLI: values by unit, change arrows, CSV."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sanjeh import formatting
from sanjeh.currency import Money
from sanjeh.export import csv_text
from sanjeh.i18n import plain
from sanjeh.kpis.columns import Column


def fmt_value(value: Any, unit: str, lang: str = "en", currency: str | Money = "IRR", *, compact: bool = False) -> str:
    """A value for a terminal table: :mod:`sanjeh.formatting`'s text in the workspace language,
    without the bidi isolation marks (terminals do not read them)."""
    if isinstance(value, str):
        return value
    return plain(formatting.fmt_value(value, unit, lang, currency, compact=compact))


def arrow(change: float | None, direction: str) -> tuple[str, str]:
    """An arrow for a change and its colour, knowing whether up is good."""
    if change is None or change == 0:
        return "→", "dim"
    up = change > 0
    good = up if direction == "up" else not up
    return ("▲" if up else "▼"), ("green" if good else "red")


def attainment_style(attainment: float | None) -> str:
    if attainment is None:
        return "dim"
    if attainment >= 1:
        return "green"
    if attainment >= 0.9:
        return "yellow"
    return "red"


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows as CSV for ``--format csv``: the one writer of :mod:`sanjeh.export` (formulas neutralised)."""
    return csv_text(rows, columns)


# -- words shared by the surfaces (CLI tables, dashboard tables and cards) -------------------------
def column_title(column: Column, kpi: Any, lang: str) -> str:
    """A result column as people read it (by its role, kpis/columns.py): a measure's title,
    ``Target of …``, ``… : change``, a dimension's name."""
    from sanjeh.i18n import t, t_or

    name = column.name
    measure = column.measure
    if measure is not None:
        title = str(kpi.measure(measure).title.get(lang) or measure)
        headline = measure == kpi.headline
        role = column.role
        if role == "measure":
            return title
        if role in ("target", "attainment"):
            return t(f"col.{role}", lang) if headline else t(f"col.measure_{role}", lang, measure=title)
        if role in ("change", "change_rate"):
            return t(f"col.year_ago_{role}" if column.second else f"col.{role}", lang, measure=title)
        return t("col.year_ago" if column.second else "col.previous", lang, measure=title)
    if column.role == "dimension_name" and column.dimension:
        return t_or(f"dim.{column.dimension}", lang, column.dimension) + " — " + t("col.name", lang)
    return t_or(f"col.{name}", lang, t_or(f"dim.{name}", lang, name))


def spot_text(spot: dict[str, Any], lang: str, currency: str | Money = "IRR") -> str:
    """A scorecard card's spotlight in one line (the CLI; the dashboard lays it out itself):
    «پرفروش‌ترین محصول: پمپ تیپ ۲۱۱ — ۳۶ میلیارد ریال (۱۳٪ از کل)»."""
    from sanjeh.i18n import member_label, t

    unit = str(spot.get("unit") or "number")

    def val(v: Any, u: str = unit) -> str:
        return formatting.fmt_value(v, u, lang, currency, compact=True)

    label = (spot.get("label") or {}).get(lang) or ""
    if spot.get("pick") == "company":
        return " · ".join(f"{s['title'][lang]}: {val(s['value'], s['unit'])}" for s in spot.get("show") or [])
    member = member_label(spot.get("by", ""), spot.get("member"), spot.get("member_name"), lang)
    if spot.get("pick") == "median":
        text = t(
            "card.median_line",
            lang,
            label=label,
            median=val(spot.get("median")),
            member=member,
            value=val(spot.get("value")),
        )
    else:
        text = f"{label}: {member} — {val(spot.get('value'))}"
    extra = []
    if spot.get("attainment") is not None:
        extra.append(
            t(
                "card.of_target",
                lang,
                attainment=formatting.fmt_attainment(spot["attainment"], lang),
                target=val(spot.get("target")),
            )
        )
    if spot.get("share") is not None:
        extra.append(t("card.share", lang, share=formatting.fmt_rate(spot["share"], lang, 0)))
    extra += [
        f"{s['title'][lang]} {val(s['value'], s['unit'])}"
        for s in spot.get("show") or []
        if s["measure"] != spot.get("measure")
    ]
    return plain(text + (f" ({'، '.join(extra) if lang == 'fa' else ', '.join(extra)})" if extra else ""))
