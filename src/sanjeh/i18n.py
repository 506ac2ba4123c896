"""One message catalogue for every user-facing string (dashboard, API pages, CLI).

The catalogues live in ``sanjeh/messages/{fa,en}.toml`` as nested tables; a key is
the dotted path (``"nav.scorecard"``). :func:`t` looks a key up and formats it with
``str.format`` keywords. Period labels are rendered for a language here too (Persian
digits and month names); numbers are :mod:`sanjeh.formatting`'s.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from sanjeh.calendar import JALALI_MONTHS_EN, JALALI_MONTHS_FA, calendar_of_year

Lang = Literal["fa", "en"]
LANGUAGES: tuple[Lang, ...] = ("fa", "en")
DIRECTION: dict[str, str] = {"fa": "rtl", "en": "ltr"}

GREGORIAN_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
GREGORIAN_MONTHS_FA = (
    "ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن",
    "ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر",
)  # fmt: skip

_FA_DIGITS = str.maketrans("0123456789.,-%", "۰۱۲۳۴۵۶۷۸۹٫٬−٪")


def _flatten(prefix: str, data: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(path, value, out)
        else:
            out[path] = str(value)


@lru_cache(maxsize=4)
def catalogue(lang: str) -> dict[str, str]:
    """The flat catalogue of ``lang`` (``{"nav.scorecard": "..."}``), read once from the package."""
    if lang not in LANGUAGES:
        lang = "en"
    text = resources.files("sanjeh").joinpath("messages", f"{lang}.toml").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    _flatten("", tomllib.loads(text), out)
    return out


def normalize_lang(lang: str | None, default: Lang = "fa") -> Lang:
    if lang in LANGUAGES:
        return lang  # type: ignore[return-value]
    return default


def has(key: str, lang: str = "en") -> bool:
    return key in catalogue(lang)


def t(key: str, lang: str = "fa", **kw: Any) -> str:
    """The message ``key`` in ``lang``, formatted with ``kw``.

    A key missing from ``lang`` falls back to English, then to the key itself, so a
    missing message shows up on screen instead of breaking the page (a test checks
    both catalogues have the same keys).
    """
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue("en").get(key, key)
    if kw:
        try:
            return text.format(**kw)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def t_or(key: str, lang: str, fallback: str) -> str:
    """The message ``key`` if the catalogue has it, else ``fallback`` (e.g. a raw member id)."""
    text = catalogue(lang).get(key)
    return fallback if text is None else text


def model_name(name: str, lang: str) -> str:
    """A forecast model's name for people («هموارسازی نمایی» for ``AutoETS``); an unknown one as is."""
    return t_or(f"forecast.model_name.{name}", lang, name)


# -- members and lists -------------------------------------------------------------------------
#: Marks that isolate a left-to-right (LRI) or right-to-left (RLI) run inside text of the other
#: direction, up to PDI.
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
_LATIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def isolate(text: Any, lang: str) -> str:
    """``text`` as it should sit inside a sentence of ``lang``, so the bidi algorithm does not
    reorder its parts or the words around it: in Persian, a run holding Latin letters or ASCII
    digits (an id, ``1403-Q1``, ``region:Tehran``) is isolated left to right; in English, a run
    holding Persian (a rep's name, «تهران») is isolated right to left."""
    s = str(text)
    if s.startswith((LRI, RLI, FSI)):
        return s
    persian = any("\u0600" <= ch <= "\u06ff" for ch in s)
    latin = any(ch in _LATIN for ch in s)
    if persian and latin:
        # both scripts (a Persian question naming a column «close_value»): isolated in the direction
        # of its first letter; left to right, a Persian sentence read backwards
        return FSI + s + PDI
    if lang == "fa" and latin:
        return LRI + s + PDI
    if lang != "fa" and persian:
        return RLI + s + PDI
    return s


def plain(text: str) -> str:
    """Text without bidi isolation marks (for a terminal, which does not read them)."""
    return text.translate({0x2066: None, 0x2067: None, 0x2068: None, 0x2069: None})


def member_label(dim: str, member: Any, name: Any = None, lang: str = "fa") -> str:
    """A dimension member as people read it: its name when the data gives one (a rep's, a
    product's), else the catalogue's word for a code (``member.source.cold_call`` → «تماس سرد»,
    ``unknown`` → «نامعلوم»), else the member as written (a region, a reason)."""
    if name is not None and str(name).strip() and str(name) != str(member):
        return str(name)
    if member is None:
        return "—"
    text = str(member)
    found = catalogue(lang).get(f"member.{dim}.{text}") or catalogue(lang).get(f"member.any.{text}")
    return found if found is not None else text


def join(items: Any, lang: str) -> str:
    """Items as a list in a sentence: «الف، ب، پ» / ``a, b, c``."""
    return ("، " if lang == "fa" else ", ").join(str(x) for x in items)


# -- numbers ------------------------------------------------------------------------------
def digits(text: str, lang: str) -> str:
    """ASCII digits and separators -> Persian ones (for ``fa``)."""
    return text.translate(_FA_DIGITS) if lang == "fa" else text


# -- periods --------------------------------------------------------------------------------
def month_name(calendar: str, month: int, lang: str) -> str:
    if calendar == "jalali":
        names = JALALI_MONTHS_FA if lang == "fa" else JALALI_MONTHS_EN
    else:
        names = GREGORIAN_MONTHS_FA if lang == "fa" else GREGORIAN_MONTHS_EN
    return names[month - 1]


def period_label(label: Any, lang: str = "fa") -> str:
    """A canonical period label for people: ``1403-10`` -> ``دی ۱۴۰۳`` / ``Dey 1403``.

    Ranges (``A..B``) render both ends; anything that is not a label comes back as it is.
    """
    if label is None:
        return "—"
    text = str(label)
    if ".." in text:
        a, _, b = text.partition("..")
        return t("period.range", lang, start=period_label(a, lang), end=period_label(b, lang))
    parts = text.split("-")
    if not parts[0].isdigit() or len(parts[0]) != 4:
        return text
    year = int(parts[0])
    cal = calendar_of_year(year)
    y = digits(str(year), lang)
    try:
        if len(parts) == 1:
            return y
        if len(parts) == 2 and parts[1][:1] in "Qq":
            return t(f"period.quarter_{cal}", lang, n=digits(str(int(parts[1][1:])), lang), year=y)
        if len(parts) == 2 and parts[1][:1] in "Ww":
            return t("period.week", lang, n=digits(str(int(parts[1][1:])), lang), year=y)
        if len(parts) == 2:
            return t("period.month", lang, month=month_name(cal, int(parts[1]), lang), year=y)
        if len(parts) == 3:
            return t(
                "period.day",
                lang,
                day=digits(str(int(parts[2])), lang),
                month=month_name(cal, int(parts[1]), lang),
                year=y,
            )
    except (ValueError, IndexError):
        return text
    return text


# -- errors ------------------------------------------------------------------------------------
class PeriodText(str):
    """A period label known to be valid, as a parameter of a message: shown to Persian readers in
    words (``آذر ۱۴۰۵``, not ``1405-09``); English keeps the label a command takes. Raw input
    (an invalid period quoted back) stays a plain string and is shown as typed."""


def _param(name: str, value: Any, lang: str) -> str:
    """A parameter of an error message in ``lang``: a dimension by its title (and its id, which
    is what a command line takes), a grain by its word, lists joined, numbers in the language's
    digits, ids and labels isolated inside Persian text, an error (the reason of another) in its
    own words in ``lang``."""
    if isinstance(value, Exception) and hasattr(value, "text"):
        return str(value.text(lang))
    if isinstance(value, PeriodText):
        return period_label(str(value), lang) if lang == "fa" else isolate(str(value), lang)
    if isinstance(value, list | tuple | set | frozenset):
        # a list of KPIs says their names (what a command takes), not their titles
        one = "name" if name == "kpis" else name[:-1] if name.endswith("s") else name
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return join((_param(one, v, lang) for v in items), lang)
    if name == "dim":
        title = t_or(f"dim.{value}", lang, str(value))
        return f"{title} ({isolate(value, lang)})" if lang == "fa" and title != str(value) else str(value)
    if name == "grain" and lang == "fa" and has(f"grain.{value}", lang):
        return t(f"grain.{value}", lang)
    if name == "kpi" and lang == "fa":
        from sanjeh.kpis.catalogue import CATALOGUE

        found = next((k.title.get(lang) for k in CATALOGUE if k.name == value), None)
        return found or isolate(value, lang)
    if name == "role" and lang == "fa" and has(f"role.{value}", lang):
        return t(f"role.{value}", lang)
    if name == "type" and has(f"type.{value}", lang):
        return t(f"type.{value}", lang)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return digits(str(value), lang)
    return isolate(value, lang)


#: Errors some modules still raise without a key, recognised by their code and details and
#: rendered from the catalogue: (code, the details' keys) -> message key.
_BY_DETAILS: dict[tuple[str, frozenset[str]], str] = {
    ("invalid_query", frozenset({"dimension", "member", "known"})): "query.unknown_member",
}


def error_text(exc: Any, lang: str) -> str:
    """:meth:`sanjeh.errors.SanjehError.text`: the error's catalogue message in ``lang``."""
    key, params = exc.key, dict(exc.params)
    if key is None and exc.code == "import_refused":
        from sanjeh.reasons import refusal_text

        return refusal_text(str(exc.message), lang)
    if key is None:
        key = _BY_DETAILS.get((exc.code, frozenset(exc.details)))
        if key is None:
            return str(exc.message)
        d = exc.details
        params = {"dim": d["dimension"], "member": d["member"], "known": list(d["known"]) or ["—"]}
    found = keyed_text(key, params, lang)
    return str(exc.message) if found is None else found


def _measure_title(kpi: str, measure: str, lang: str) -> str | None:
    """The title of a built-in KPI's measure in ``lang`` (None for another KPI or measure)."""
    from sanjeh.kpis.catalogue import CATALOGUE

    for k in CATALOGUE:
        if k.name == kpi:
            return next((m.title.get(lang) for m in k.measures if m.name == measure), None)
    return None


def keyed_text(key: str, params: Any, lang: str) -> str | None:
    """The catalogue's ``error.<key>`` in ``lang`` with ``params`` rendered in that language (an
    error's, or a declaration's problem: sanjeh/check.py); None when the key or a parameter is missing."""
    text = catalogue(lang).get(f"error.{key}") or catalogue("en").get(f"error.{key}")
    if text is None:
        return None
    try:
        rendered = {k: _param(k, v, lang) for k, v in params.items()}
        if lang == "fa" and "measure" in params and "kpi" in params:
            # a KPI's measure by its title, and its id (what a settings file names), as a dimension
            title = _measure_title(str(params["kpi"]), str(params["measure"]), lang)
            if title:
                rendered["measure"] = f"{title} ({isolate(str(params['measure']), lang)})"
        if isinstance(params.get("measure_titles"), list | tuple) and "kpi" in params:
            # measures named for a person (what to choose instead), by their titles in guillemets
            names = [str(m) for m in params["measure_titles"]]
            titles = [_measure_title(str(params["kpi"]), m, lang) or m for m in names]
            q = ("«", "»") if lang == "fa" else ("“", "”")
            rendered["measure_titles"] = join((f"{q[0]}{x}{q[1]}" for x in titles), lang)
        return text.format(**rendered)
    except (KeyError, IndexError, ValueError):
        return None
