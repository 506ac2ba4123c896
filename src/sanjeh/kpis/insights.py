"""What stands out in a scorecard, in words: missed targets and large moves, worst first.

The scorecard's numbers are all there; a manager still wants to be told where to look.
Each finding is computed from the cards (no query) and phrased from the message
catalogue in Persian and English. A card that shows a spotlight instead of its headline
(sales by product, region, rep, contact method: their headline is the revenue card's number)
says nothing about that headline; its spotlight speaks instead (the region furthest below
its target).
"""

from __future__ import annotations

from typing import Any

from sanjeh import i18n
from sanjeh.currency import Money
from sanjeh.formatting import fmt_points, fmt_rate, fmt_value
from sanjeh.kpis.columns import name_column

#: A change of at least this much (relative) against the previous period or a year ago is news.
MOVE = 0.10
#: A rate (win rate, conversion, growth…) moves in percentage points: this many is news.
MOVE_POINTS = 0.02
#: Attainment below this is a missed target.
SHORT = 0.95
LANGS = ("fa", "en")


#: The members named as explaining a change: the largest that push the same way, until they
#: explain this much of it (at most ``EXPLAINERS`` of them).
EXPLAINED = 0.8
EXPLAINERS = 3


def explainers(why: dict[str, Any], lang: str, of: str | None = None) -> str | None:
    """«تهران و اصفهان ۸۹٪ این فاصله را توضیح می‌دهند»: the members that explain most of a "why"
    answer's change (kpis/why.py, its ``to_dict``), with their share of it; None when none does.
    ``of``: the title of the measure the answer splits when it is not the one the sentence before
    speaks of (a growth's move is explained through its revenue's, which may have moved the other
    way): the sentence then names it, «از تغییر درآمد، …»."""
    change = why.get("change")
    if not change:
        return None
    by = list(why.get("by") or [])
    picked: list[dict[str, Any]] = []
    total = 0.0
    for r in why.get("rows") or []:
        c = float(r.get("contribution") or 0.0)
        if c == 0 or (c > 0) != (change > 0):
            continue
        picked.append(r)
        total += c
        if total / change >= EXPLAINED or len(picked) == EXPLAINERS:
            break
    if not picked:
        return None
    names = [" · ".join(i18n.member_label(d, r.get(d), r.get(name_column(d)), lang) for d in by) for r in picked]
    names = [i18n.isolate(n, lang) for n in names]  # a name keeps its place in a sentence of the other script
    last = i18n.t("insight.and", lang)
    members = names[0] if len(names) == 1 else f"{i18n.join(names[:-1], lang)}{last}{names[-1]}"
    gap = "gap" if why.get("against") == "target" else "move"
    other = "other_" if of else ""
    if total / change > 1.0 + 1e-9:  # others pulled the other way: a share over 100 % reads as nonsense
        key = f"insight.outweighed_{other}{gap}_{'one' if len(picked) == 1 else 'many'}"
        return i18n.t(key, lang, members=members, measure=of or "")
    key = f"insight.explained_{other}{gap}_{'one' if len(picked) == 1 else 'many'}"
    return i18n.t(key, lang, members=members, share=fmt_rate(total / change, lang, 0), measure=of or "")


def _good(change: float, direction: str) -> bool:
    return change > 0 if direction == "up" else change < 0


def _move(c: dict[str, Any], when: str) -> tuple[float, float, str] | None:
    """(the change as shown, its size for ranking, its text unit) of a card against ``when``,
    or None when it is too small to mention. Rates change in points, other measures relatively."""
    prefix = "" if when == "previous" else "year_ago_"
    if c.get("unit") == "rate":
        change = c.get(f"{prefix}change")
        if change is None or abs(change) < MOVE_POINTS:
            return None
        return float(change), min(abs(change) * 5, 5.0), "points"
    rate = c.get(f"{prefix}change_rate")
    if rate is None or abs(rate) < MOVE:
        return None
    return float(rate), min(abs(rate), 5.0), "percent"


def _member_short(
    c: dict[str, Any], spot: dict[str, Any], currency: str | Money, weight: float
) -> tuple[float, dict[str, Any]] | None:
    """A member furthest below its target (a spotlight ``below_target``) under :data:`SHORT`."""
    att = spot.get("attainment")
    if spot.get("pick") != "below_target" or att is None or att >= SHORT:
        return None
    text = {
        lang: i18n.t(
            "insight.member_short",
            lang,
            dimension=i18n.t_or(f"dim.{spot['by']}", lang, spot["by"]),
            member=i18n.isolate(i18n.member_label(spot["by"], spot.get("member"), spot.get("member_name"), lang), lang),
            attainment=fmt_rate(att, lang, 0),
            target=fmt_value(spot.get("target"), spot.get("unit", "number"), lang, currency, compact=True),
        )
        for lang in LANGS
    }
    finding = {"kind": "member_short", "kpi": c["kpi"], "member": spot.get("member"), "text": text}
    return weight * 0.8 * (1 + 5 * (1 - att)), finding


def findings(cards: list[dict[str, Any]], *, currency: str | Money = "IRR", limit: int = 5) -> list[dict[str, Any]]:
    """Findings sorted by weight (how far off, how big a move; primary KPIs count double).

    Cards without data (``data.status`` ``no_data`` or ``outside``) say nothing here: the
    scorecard says which data is missing instead.
    """
    out: list[tuple[float, dict[str, Any]]] = []
    for c in cards:
        if (c.get("data") or {}).get("status") in ("no_data", "outside"):
            continue
        weight = 2.0 if c.get("primary") else 1.0
        title = c["title"]
        for spot in c.get("spotlights") or []:
            found = _member_short(c, spot, currency, weight)
            if found is not None:
                out.append(found)
        if c.get("shows") == "spotlight":
            continue  # its headline is another card's number: that card speaks for it
        att = c.get("attainment")
        if att is not None and att < SHORT:
            text = {
                lang: i18n.t(
                    "insight.short_of_target",
                    lang,
                    kpi=title[lang],
                    attainment=fmt_rate(att, lang, 0),
                    target=fmt_value(c["target"], c["unit"], lang, currency, compact=True),
                )
                for lang in LANGS
            }
            miss = {"kind": "short_of_target", "kpi": c["kpi"], "text": text, "against": "target"}
            out.append((weight * (1 + 5 * (1 - att)), miss))
        for when in ("previous", "year_ago"):
            move = _move(c, when)
            if move is None:
                continue
            change, size, unit = move
            good = _good(change, c["direction"])
            kind = "improved" if good else "worsened"
            text = {
                lang: i18n.t(
                    f"insight.{kind}",
                    lang,
                    kpi=title[lang],
                    change=fmt_points(change, lang, signed=False) if unit == "points" else fmt_rate(abs(change), lang),
                    when=i18n.t(f"insight.{when}", lang),
                    up=i18n.t("insight.rose" if change > 0 else "insight.fell", lang),
                )
                for lang in LANGS
            }
            score = weight * (0.5 + size if not good else 0.5 * size)  # misses, then bad moves, then good
            same = (kind, when, round(change, 4))
            move_found = {
                "kind": kind,
                "kpi": c["kpi"],
                "text": text,
                "against": when,
                "_same": same,
                "_rose": change > 0,
            }
            out.append((score, move_found))
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
