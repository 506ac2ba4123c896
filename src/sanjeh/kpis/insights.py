"""What stands out in a scorecard, in words: missed targets and large moves, worst first.

The scorecard's numbers are all there; a manager still wants to be told where to look.
Each finding is computed from the cards (no query) and phrased from the message
catalogue in Persian and English.
"""

from __future__ import annotations

from typing import Any

from sanjeh import i18n

#: A change of at least this much (relative) against the previous period or a year ago is news.
MOVE = 0.10
#: Attainment below this is a missed target.
SHORT = 0.95
LANGS = ("fa", "en")


def _good(change_rate: float, direction: str) -> bool:
    return change_rate > 0 if direction == "up" else change_rate < 0


def findings(cards: list[dict[str, Any]], *, currency: str = "IRR", limit: int = 5) -> list[dict[str, Any]]:
    """Findings sorted by weight (how far off, how big a move; primary KPIs count double)."""
    out: list[tuple[float, dict[str, Any]]] = []
    for c in cards:
        weight = 2.0 if c.get("primary") else 1.0
        title = c["title"]
        att = c.get("attainment")
        if att is not None and att < SHORT:
            text = {
                lang: i18n.t(
                    "insight.short_of_target",
                    lang,
                    kpi=title[lang],
                    attainment=i18n.fmt_rate(att, lang),
                    target=i18n.fmt_value(c["target"], c["unit"], lang, currency, compact=True),
                )
                for lang in LANGS
            }
            out.append((weight * (1 + 5 * (1 - att)), {"kind": "short_of_target", "kpi": c["kpi"], "text": text}))
        for key, when in (("change_rate", "previous"), ("year_ago_change_rate", "year_ago")):
            rate = c.get(key)
            if rate is None or abs(rate) < MOVE:
                continue
            good = _good(rate, c["direction"])
            kind = "improved" if good else "worsened"
            text = {
                lang: i18n.t(
                    f"insight.{kind}",
                    lang,
                    kpi=title[lang],
                    change=i18n.fmt_rate(abs(rate), lang),
                    when=i18n.t(f"insight.{when}", lang),
                    up=i18n.t("insight.rose" if rate > 0 else "insight.fell", lang),
                )
                for lang in LANGS
            }
            size = min(abs(rate), 5.0)
            score = weight * (0.5 + size if not good else 0.5 * size)  # misses, then bad moves, then good
            out.append((score, {"kind": kind, "kpi": c["kpi"], "text": text, "_same": (kind, when, round(rate, 4))}))
    out.sort(key=lambda x: -x[0])
    seen: set[object] = set()
    result = []
    for _, f in out:
        # one finding per KPI and kind; and one for KPIs that share a number (the sales-by-X cards
        # all show company revenue)
        same = f.pop("_same", None)
        if (f["kpi"], f["kind"]) in seen or (same is not None and same in seen):
            continue
        seen.update({(f["kpi"], f["kind"]), same})
        result.append(f)
    return result[:limit]
