"""Alerts: each rule of ``sanjeh.toml`` (reports/alert_rules.py) read against the data, fired
once per period until it clears, told to its destinations, and kept in ``_alerts``.

:func:`check` reads every rule: a KPI rule asks the engine for its measure in its period (a
value, the pace of kpis/pace.py, or the value and its baseline for a change); a data rule reads
the log of imports. When a rule crosses its threshold and holds no open alert for that period,
it **fires**: a row of ``_alerts`` (rule, kind, period, seq, fired_at, value, threshold, the
message in the rule's language and in both languages for the page, and what each destination
said) and a message through ``deliver.send``. While it keeps crossing, nothing more is sent;
when it no longer crosses (or its period has moved on) the alert **clears** (``cleared_at``),
and may fire again. A rule that cannot tell (no data in the period, no target for a pace) leaves
things as they are. (rule, period, seq) is unique in the warehouse: of two processes that see
the same crossing, one fires.

Messages say what crossed what, in the rule's language with the workspace's calendar
(«درآمد در فصل ۴ سال ۱۴۰۳ به ۶۲٪ هدف رسید در حالی که ۷۵٪ روزهای کاری فصل گذشته است…»), and for a
KPI rule which members explain it (kpis/why.py, through the scorecard's ``explained``): the
members that explain the move against the previous period (above, below), the comparison
(change) or the gap to the target (pace).

It is checked after each import (``Workspace.import_files``: :func:`after_import`, which never
fails the import) and on each tick of ``sanjeh scheduler``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanjeh import formatting
from sanjeh.calendar import Period, current_unit, latest_complete, parse_period
from sanjeh.errors import SanjehError
from sanjeh.formatting import when_text
from sanjeh.i18n import LANGUAGES, isolate, join, member_label, normalize_lang, period_label, t, t_or
from sanjeh.kpis.query import Query
from sanjeh.reports import deliver
from sanjeh.reports.alert_rules import KPI_KINDS, Rule, rules

log = logging.getLogger("sanjeh.alerts")
ALERTS = "_alerts"
#: Deliveries after an import: the one who imported waits for them, so fewer and shorter tries.
IMPORT_RETRY = deliver.Retry(attempts=2, timeout=10.0)


@dataclass
class Reading:
    """What a rule reads now: the period it is about (a label, or an import's id), whether it
    crosses its threshold (None: cannot tell), the value, and its message in each language
    (asked only when it fires: a KPI's message asks the why engine)."""

    period: str
    crossed: bool | None
    value: float | None = None
    texts: Callable[[], dict[str, str]] = field(default=lambda: {})


@dataclass
class Outcome:
    """What a check did with a rule: ``fired``, ``holds`` (fired before, still crossing),
    ``cleared``, ``quiet``, ``unknown`` (cannot tell) or ``error`` (its message says why)."""

    rule: str
    status: str
    period: str = ""
    message: str = ""
    delivered: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check(
    ws: Any,
    now: dt.datetime | None = None,
    *,
    retry: deliver.Retry | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Outcome]:
    """Read every rule now, fire and clear, deliver what fired. A mistake in the rules is a user
    error before anything is read; a rule that fails to read (a filter on a member the data does
    not have) is an ``error`` outcome, and the others are read all the same."""
    found = rules(ws)
    if not found:
        return []
    now = now or dt.datetime.now(dt.UTC)
    engine = ws.engine()
    out = []
    for rule in found:
        lang = normalize_lang(rule.lang or ws.settings.language)
        try:
            out.append(_settle(ws, rule, read(ws, engine, rule), now, retry or deliver.Retry(), env))
        except SanjehError as exc:
            log.warning("alert %s could not be read: %s", rule.name, exc.message)
            out.append(Outcome(rule.name, "error", message=exc.text(lang)))
    return out


def check_quietly(ws: Any, *, retry: deliver.Retry | None = None) -> list[Outcome]:
    """:func:`check`, with whatever goes wrong logged and never raised: after an import (its data
    is in) and on each tick of the scheduler (it goes on with its schedules)."""
    try:
        return check(ws, retry=retry)
    except Exception:
        log.warning("the alerts were not checked", exc_info=True)
        return []


def after_import(ws: Any) -> list[Outcome]:
    """The check after an import (``Workspace.import_files``): fewer and shorter tries."""
    return check_quietly(ws, retry=IMPORT_RETRY)


# -- reading a rule ---------------------------------------------------------------------------------
def read(ws: Any, engine: Any, rule: Rule) -> Reading:
    if rule.kind == "rejects":
        return _rejects(ws, rule)
    if rule.kind == "no_import":
        return _no_import(ws, rule)
    p = _period(ws, rule)
    if rule.kind == "pace":
        return _pace(ws, engine, rule, p)
    if rule.kind == "change":
        return _change(ws, engine, rule, p)
    return _threshold(ws, engine, rule, p)


def _period(ws: Any, rule: Rule) -> Period:
    grain = rule.period.removeprefix("last_")
    pick = latest_complete if rule.period.startswith("last_") else current_unit
    return parse_period(pick(ws.today(), ws.settings.calendar, grain).label)  # type: ignore[arg-type]


def _value(engine: Any, rule: Rule, label: str) -> float | None:
    """The measure's value over the whole period (one row, filtered); None without data in it."""
    q = Query(rule.kpi, label, filters=rule.filters, measures=(rule.measure,))
    result = engine.run_plan(dataclasses.replace(engine.plan(q, whole=True), grain=None))
    if result.data.status in ("no_data", "outside") or not result.rows:
        return None
    v = result.rows[0].get(rule.measure)
    return None if v is None else float(v)


def _fmt(x: Any, rule: Rule, ws: Any, lang: str) -> str:
    return formatting.fmt_value(x, rule.unit, lang, ws.settings.money_format, compact=True)


def what(engine: Any, rule: Rule, lang: str) -> str:
    """The KPI (its measure when not the headline, its filter) as a sentence names it."""
    k = engine.kpi(rule.kpi)
    text = str(k.title.get(lang) or k.name)
    if rule.measure != k.headline:
        text += " — " + str(k.measure(rule.measure).title.get(lang) or rule.measure)
    if rule.filters:
        kept = [
            f"{t_or(f'dim.{d}', lang, d)}: {isolate(member_label(d, m, None, lang), lang)}" for d, m in rule.filters
        ]
        text += f" ({join(kept, lang)})"
    return text


def _explain(engine: Any, rule: Rule, label: str, against: str, lead: Callable[[str], str]) -> dict[str, str]:
    """The members that explain it, in each language, after ``lead(lang)``."""
    from sanjeh.kpis.scorecard import explained

    k = engine.kpi(rule.kpi)
    said = explained(engine, k, label, against, measure=rule.measure, filters=rule.filters, by=rule.by)
    return {lang: f"{lead(lang)}{said[lang]}" for lang in said}


def _with(texts: Mapping[str, str], more: Mapping[str, str]) -> dict[str, str]:
    return {lang: f"{text} {more[lang]}" if more.get(lang) else text for lang, text in texts.items()}


def _threshold(ws: Any, engine: Any, rule: Rule, p: Period) -> Reading:
    value = _value(engine, rule, p.label)
    if value is None:
        return Reading(p.label, None)
    crossed = value > rule.threshold if rule.kind == "above" else value < rule.threshold

    def texts() -> dict[str, str]:
        said: dict[str, str] = {
            lang: t(
                f"alert.{rule.kind}",
                lang,
                what=what(engine, rule, lang),
                period=period_label(p.label, lang),
                value=_fmt(value, rule, ws, lang),
                threshold=_fmt(rule.threshold, rule, ws, lang),
            )
            for lang in LANGUAGES
        }

        before = p.previous()
        was = _value(engine, rule, before.label)

        def lead(lang: str) -> str:  # «نسبت به بهمن ۱۴۰۳ (۶۱۰ میلیارد ریال):» before the members that moved it
            return (
                t("alert.compared", lang, period=period_label(before.label, lang), value=_fmt(was, rule, ws, lang))
                + " "
            )

        return _with(said, _explain(engine, rule, p.label, "previous", lead))

    return Reading(p.label, crossed, value, texts)


def _pace(ws: Any, engine: Any, rule: Rule, p: Period) -> Reading:
    from sanjeh.kpis.pace import pace

    got = pace(engine, rule.kpi, p.label, measure=rule.measure, as_of=ws.today(), filters=rule.filters)
    total = got.days_elapsed + got.days_left
    attainment = got.attainment_so_far
    if attainment is None or total == 0:
        return Reading(p.label, None)
    elapsed = got.days_elapsed / total
    assert rule.elapsed is not None
    crossed = elapsed >= rule.elapsed and attainment < rule.threshold

    def texts() -> dict[str, str]:
        said: dict[str, str] = {
            lang: t(
                "alert.pace",
                lang,
                what=what(engine, rule, lang),
                period=period_label(p.label, lang),
                attainment=formatting.fmt_attainment(attainment, lang),
                so_far=_fmt(got.so_far, rule, ws, lang),
                target=_fmt(got.target, rule, ws, lang),
                elapsed=formatting.fmt_rate(elapsed, lang, 0),
                unit=t(f"alert.unit.{p.unit_kind}", lang),
                threshold=formatting.fmt_rate(rule.threshold, lang, 0),
            )
            for lang in LANGUAGES
        }
        return _with(said, _explain(engine, rule, p.label, "target", lambda lang: ""))

    return Reading(p.label, crossed, attainment, texts)


def _change(ws: Any, engine: Any, rule: Rule, p: Period) -> Reading:
    base = p.previous() if rule.against == "previous" else p.year_ago()
    value = _value(engine, rule, p.label)
    baseline = _value(engine, rule, base.label) if base is not None else None
    if base is None or value is None or baseline is None:
        return Reading(p.label, None)
    if rule.change_in == "points":
        change: float | None = value - baseline
    else:
        change = (value - baseline) / abs(baseline) if baseline else None
    if change is None:
        return Reading(p.label, None)
    crossed = change >= rule.threshold if rule.threshold > 0 else change <= rule.threshold

    def size(x: float, lang: str) -> str:
        if rule.change_in == "points":
            return formatting.fmt_points(x, lang, signed=False)
        return formatting.fmt_rate(abs(x), lang)

    def texts() -> dict[str, str]:
        said: dict[str, str] = {
            lang: t(
                "alert.change_up" if change > 0 else "alert.change_down",
                lang,
                what=what(engine, rule, lang),
                period=period_label(p.label, lang),
                change=size(change, lang),
                baseline_period=period_label(base.label, lang),
                baseline=_fmt(baseline, rule, ws, lang),
                value=_fmt(value, rule, ws, lang),
                threshold=size(rule.threshold, lang),
                watch=t("alert.watch_rise" if rule.threshold > 0 else "alert.watch_fall", lang),
            )
            for lang in LANGUAGES
        }
        return _with(said, _explain(engine, rule, p.label, rule.against, lambda lang: ""))

    return Reading(p.label, crossed, change, texts)


def last_import(ws: Any) -> dict[str, Any] | None:
    """The latest import's row of ``_imports`` (its summary read), or None before the first."""
    imports = ws.warehouse.table("_imports")
    rows = imports.order_by(imports.finished_at.desc()).limit(1).to_pyarrow().to_pylist()
    if not rows:
        return None
    try:
        summary = json.loads(rows[0].get("summary") or "{}")
    except ValueError:
        summary = {}
    return {**rows[0], "summary": summary}


def _rejects(ws: Any, rule: Rule) -> Reading:
    latest = last_import(ws)
    if latest is None:
        return Reading("", False)
    tables = latest["summary"].get("tables") or {}
    n = sum(int(c.get("rejected") or 0) for c in tables.values())
    files = [Path(str(f)).name for f in latest["summary"].get("files") or []]

    def texts() -> dict[str, str]:
        return {
            lang: t(
                "alert.rejects",
                lang,
                when=when_text(latest.get("finished_at"), ws, lang),
                n=formatting.fmt_number(n, lang),
                threshold=formatting.fmt_number(rule.threshold, lang),
                files=isolate(join(files, lang), lang) if files else "—",
            )
            for lang in LANGUAGES
        }

    return Reading(str(latest["import_id"]), n > rule.threshold, float(n), texts)


def _no_import(ws: Any, rule: Rule) -> Reading:
    latest = last_import(ws)
    if latest is None:
        return Reading("", True, None, lambda: {lang: t("alert.never", lang) for lang in LANGUAGES})
    finished: dt.datetime = latest.get("finished_at") or latest["started_at"]
    days = (ws.today() - finished.date()).days

    def texts() -> dict[str, str]:
        return {
            lang: t(
                "alert.no_import",
                lang,
                days=formatting.fmt_number(days, lang),
                when=when_text(finished, ws, lang),
                threshold=formatting.fmt_number(rule.threshold, lang),
            )
            for lang in LANGUAGES
        }

    return Reading(str(latest["import_id"]), days > rule.threshold, float(days), texts)


# -- firing and clearing ----------------------------------------------------------------------------
def _utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def _settle(
    ws: Any, rule: Rule, r: Reading, now: dt.datetime, retry: deliver.Retry, env: Mapping[str, str] | None
) -> Outcome:
    holding = None
    cleared = False
    for row in open_alerts(ws, rule.name):
        if row["period"] == r.period and r.crossed is not False:
            holding = row
        else:  # no longer crossing, or its period has moved on
            _write(ws, {**row, "cleared_at": _utc(now)})
            cleared = True
    if r.crossed is None:
        return Outcome(rule.name, "holds" if holding else "unknown", r.period)
    if not r.crossed:
        return Outcome(rule.name, "cleared" if cleared else "quiet", r.period)
    if holding is not None:
        return Outcome(rule.name, "holds", r.period, str(holding.get("message") or ""))
    texts = r.texts()
    lang = normalize_lang(rule.lang or ws.settings.language)
    row = {
        "rule": rule.name,
        "kind": rule.kind,
        "period": r.period,
        "seq": _fired_count(ws, rule.name, r.period) + 1,
        "fired_at": _utc(now),
        "cleared_at": None,
        "value": r.value,
        "threshold": rule.threshold,
        "message": texts[lang],
        "texts": json.dumps(texts, ensure_ascii=False),
        "delivered": None,
    }
    if not _claim(ws, row):
        return Outcome(rule.name, "holds", r.period, texts[lang])
    subject = t("alert.subject", lang, company=ws.settings.company_name(lang), rule=rule.name)
    delivered = deliver.send(rule.to, deliver.Message(subject, texts[lang], event="alert"), retry, env, lang)
    _write(ws, {**row, "delivered": json.dumps(delivered, ensure_ascii=False)})
    log.info("alert %s fired for %s", rule.name, r.period)
    return Outcome(rule.name, "fired", r.period, texts[lang], delivered)


def open_alerts(ws: Any, rule: str) -> list[dict[str, Any]]:
    a = ws.warehouse.table(ALERTS)
    return list(a.filter((a.rule == rule) & a.cleared_at.isnull()).to_pyarrow().to_pylist())


def _fired_count(ws: Any, rule: str, period: str) -> int:
    a = ws.warehouse.table(ALERTS)
    return int(a.filter((a.rule == rule) & (a.period == period)).count().to_pyarrow().as_py())


def _table(ws: Any, row: dict[str, Any]) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist([row], schema=ws.warehouse.table(ALERTS).schema().to_pyarrow())


def _claim(ws: Any, row: dict[str, Any]) -> bool:
    """Insert the alert's row; False when another process fired it first (the unique key)."""
    try:
        with ws.warehouse.transaction():
            ws.warehouse.insert_arrow(ALERTS, _table(ws, row))
    except Exception:  # the unique (rule, period, seq): another checker inserted it
        return False
    return True


def _write(ws: Any, row: dict[str, Any]) -> None:
    """Replace the alert's row (rule, period, seq) with ``row``."""
    import pyarrow as pa

    keys = pa.table({"rule": [row["rule"]], "period": [row["period"]], "seq": pa.array([row["seq"]], pa.int64())})
    with ws.warehouse.transaction():
        ws.warehouse.delete_matching(ALERTS, keys)
        ws.warehouse.insert_arrow(ALERTS, _table(ws, row))


def history(ws: Any, rule: str | None = None) -> list[dict[str, Any]]:
    """Every alert that fired (of ``rule``), newest first, with its texts and deliveries read."""
    a = ws.warehouse.table(ALERTS)
    if rule is not None:
        a = a.filter(a.rule == rule)
    out = []
    for row in a.order_by([a.fired_at.desc(), a.rule]).to_pyarrow().to_pylist():
        texts, delivered = _json(row.get("texts")), _json(row.get("delivered"))
        out.append({**row, "texts": texts, "delivered": delivered})
    return out


def _json(text: str | None) -> dict[str, str]:
    try:
        got = json.loads(text or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in got.items()} if isinstance(got, dict) else {}


# -- rules in words (the page, the command line) ------------------------------------------------------
def condition(engine: Any, rule: Rule, ws: Any, lang: str) -> str:
    """What the rule watches, in words: «درآمد — ماه گذشته — کمتر از ۵ میلیارد ریال»."""
    if rule.kind == "rejects":
        return t("alert.when.rejects", lang, threshold=formatting.fmt_number(rule.threshold, lang))
    if rule.kind == "no_import":
        return t("alert.when.no_import", lang, threshold=formatting.fmt_number(rule.threshold, lang))
    period = t(f"alert.period.{rule.period}", lang)
    if rule.kind == "pace":
        threshold = formatting.fmt_rate(rule.threshold, lang, 0)
        elapsed = formatting.fmt_rate(rule.elapsed, lang, 0)
        said = t("alert.when.pace", lang, threshold=threshold, elapsed=elapsed)
    elif rule.kind == "change":
        x = rule.threshold
        size = (
            formatting.fmt_points(x, lang, signed=False)
            if rule.change_in == "points"
            else formatting.fmt_rate(abs(x), lang)
        )
        key = "alert.when.rise" if x > 0 else "alert.when.fall"
        said = t(key, lang, threshold=size, against=t(f"alert.against.{rule.against}", lang))
    else:
        said = t(f"alert.when.{rule.kind}", lang, threshold=_fmt(rule.threshold, rule, ws, lang))
    return f"{what(engine, rule, lang)} — {period} — {said}"


def recipients(rule: Rule) -> list[str]:
    """The rule's destinations as people know them (never a secret, nor a webhook's query)."""
    out = []
    for d in rule.to:
        if isinstance(d, deliver.Email):
            out.append("email: " + ", ".join(d.to))
        elif isinstance(d, deliver.Webhook):
            out.append("webhook: " + d.url.split("?")[0])
        else:
            out.append(f"{d.kind}: {d.chat_id}")
    return out


# -- what the surfaces show (the command line, the page) ------------------------------------------------
def _moment(t: dt.datetime | None, ws: Any, lang: str) -> str:
    return when_text(t.replace(tzinfo=dt.UTC), ws, lang) if t else "—"


def summary(outcomes: list[Outcome], lang: str) -> str:
    """A check in one sentence: «۳ قاعده بررسی شد: ۱ هشدار تازه، ۰ برطرف‌شده.»"""
    n = {s: formatting.fmt_number(sum(o.status == s for o in outcomes), lang) for s in ("fired", "cleared")}
    said = t("alerts.checked", lang, n=formatting.fmt_number(len(outcomes), lang), **n)
    untold = sum(o.status == "unknown" for o in outcomes)  # quiet is not the same as cannot tell
    if untold:
        said += " " + t("alerts.checked_unknown", lang, n=formatting.fmt_number(untold, lang))
    return said


def rule_views(ws: Any, found: list[Rule], lang: str) -> list[dict[str, Any]]:
    """Each rule in words, with its state: «برقرار از …» while an alert of it holds, else quiet."""
    engine = ws.engine()
    out = []
    for rule in found:
        holding = open_alerts(ws, rule.name)
        since = min((r["fired_at"] for r in holding), default=None)
        out.append(
            {
                "name": rule.name,
                "kind": rule.kind,
                "kind_text": t(f"alerts.kind.{rule.kind}", lang),
                "condition": condition(engine, rule, ws, lang),
                "recipients": recipients(rule),
                "firing": since is not None,
                "state": t("alerts.firing", lang, when=_moment(since, ws, lang)) if since else t("alerts.quiet", lang),
            }
        )
    return out


def history_views(ws: Any, rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Alerts that fired, as people read them: the period in words (none for a data rule: its
    message says which import), the moments in the workspace's zone and calendar, the message in
    ``lang`` (as sent when it has no text in ``lang``), whether each destination took it (and if
    not, why: the delivery's own sentence)."""
    sent, unsent = t("report.run_status.ok", lang), t("alerts.not_sent", lang)
    return [
        {
            "rule": r["rule"],
            "kind": r["kind"],
            "period": period_label(r["period"], lang) if r["kind"] in KPI_KINDS else "—",
            "fired": _moment(r["fired_at"], ws, lang),
            "cleared": _moment(r["cleared_at"], ws, lang) if r["cleared_at"] else t("alerts.holds", lang),
            "open": r["cleared_at"] is None,
            "message": r["texts"].get(lang) or r.get("message") or "",
            "delivery": [
                {"target": k, "sent": v == "sent", "text": sent if v == "sent" else unsent, "why": v}
                for k, v in r["delivered"].items()
            ],
        }
        for r in rows
    ]
