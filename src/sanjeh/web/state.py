"""What the web app holds while it runs: the workspace, the signer, the caches.

Built by :func:`sanjeh.web.app.create_app` and reached from a request as
``request.app.state.sanjeh``. Every call into the warehouse goes through
:meth:`AppState.locked` (one DuckDB connection is shared by the server's threads).
Engine results are cached per (query, rep scope, data version): a repeated view costs
a dictionary look-up, and an import (which changes the data version) invalidates
them all. A rep scope is one rep's id or a team's set of rep ids (a manager with a team).
The most visited pages are kept rendered too (:meth:`AppState.page`), per URL, user, session,
day and data version, and forgotten by every change the server is told of.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sanjeh.calendar import parse_grain, parse_period
from sanjeh.errors import Forbidden, InvalidQuery
from sanjeh.kpis.query import COMPARISONS, Query, parse_filter
from sanjeh.kpis.sources import RepScope
from sanjeh.kpis.why import WhyQuery
from sanjeh.text import member_key
from sanjeh.users import User, get_user, session_alive, team_reps
from sanjeh.web.auth import RateLimiter, Signer
from sanjeh.workspace import Workspace

if TYPE_CHECKING:
    from starlette.responses import Response

T = TypeVar("T")
log = logging.getLogger("sanjeh.web")
DEFAULT_MAX_UPLOAD = 200 * 1024 * 1024  # an import's request body (files and form fields)
DEFAULT_MAX_BODY = 1024 * 1024  # any other request's body (targets JSON, forms)
DEFAULT_MAX_LOGIN_BODY = 16 * 1024  # the login form and the token request
DEFAULT_BODY_TIMEOUT = 60.0  # seconds a request body may pause between two of its chunks
DEFAULT_PASSWORD_CHECKS = 2  # Argon2 checks (64 MiB each) run at once; more logins wait their turn
CREDENTIALS_TTL = 5.0  # seconds a user's row and a session's liveness are trusted without a warehouse look-up


class ResultCache:
    """A small thread-safe LRU of finished results (JSON-ready dicts)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Any) -> Any | None:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
            return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def drop(self, stale: Callable[[Any], bool]) -> None:
        """Forget the entries whose key is ``stale``."""
        with self._lock:
            for key in [k for k in self._data if stale(k)]:
                del self._data[key]


@dataclass
class AppState:
    ws: Workspace
    signer: Signer
    limiter: RateLimiter = field(default_factory=RateLimiter)
    cache: ResultCache = field(default_factory=ResultCache)
    max_upload: int = DEFAULT_MAX_UPLOAD
    max_body: int = DEFAULT_MAX_BODY
    max_login_body: int = DEFAULT_MAX_LOGIN_BODY
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    password_checks: int = DEFAULT_PASSWORD_CHECKS
    secure_cookies: bool = False
    #: proxy addresses/networks whose X-Forwarded-For is believed (``--forwarded-allow``); none by default
    forwarded_allow: tuple[str, ...] = ()
    version_ttl: float = 1.0
    #: seconds a user's row and a session's liveness are trusted without a warehouse look-up
    credentials_ttl: float = CREDENTIALS_TTL
    computed: int = 0  # engine calls made (not served from the cache)
    rendered: int = 0  # pages rendered (not served from :attr:`pages`)
    #: rendered pages: (body, status, media type) by URL, user, session, day, data version and
    #: :attr:`_changes` (:meth:`page`)
    pages: ResultCache = field(default_factory=lambda: ResultCache(256))
    #: compute the default scorecard again in the background after an import or a target change
    #: (``sanjeh serve``), so the first visitor after a nightly import meets a computed page
    rewarm: bool = False
    #: keep the default scorecard in the workspace for the next run of the server, and read it back
    #: from the last one when nothing it was computed from changed (``sanjeh serve``; web/saved.py)
    keep_scorecard: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _engines: dict[RepScope, Any] = field(default_factory=dict)
    _version: tuple[float, str] = (0.0, "")
    _changes: int = 0  # counts the changes the server is told of (targets, data, users): pages' keys hold it
    _users: dict[str, tuple[float, User | None]] = field(default_factory=dict)
    _sessions: ResultCache = field(default_factory=lambda: ResultCache(4096))
    _hash_slots: Any = None
    _warming: threading.Event = field(default_factory=threading.Event)
    _warm_again: threading.Event = field(default_factory=threading.Event)
    _warm_lock: threading.Lock = field(default_factory=threading.Lock)
    _code: str = ""  # web/saved.py code_digest, read on the first warm-up
    #: the workspace on a second connection, for the users' and sessions' reads (:meth:`read_users`),
    #: opened by :meth:`build` before any thread holds the warehouse; the workspace itself when the
    #: warehouse has no second connection
    _reader: Workspace | None = None
    _reader_lock: threading.Lock = field(default_factory=threading.Lock)
    _lookup_lock: threading.Lock = field(default_factory=threading.Lock)  # one user or session look-up at a time

    @staticmethod
    def build(ws: Workspace, **kw: Any) -> AppState:
        secret = ws.settings.secret or secrets.token_hex(32)  # no secret: sessions end with the process
        state = AppState(ws=ws, signer=Signer(secret), **kw)
        state._open_reader()  # now, before any thread holds the warehouse (a warm-up would make it wait)
        return state

    # -- the warehouse, one caller at a time --------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[Workspace]:
        with self._lock:
            yield self.ws

    def call(self, fn: Callable[[Workspace], T]) -> T:
        with self._lock:
            return fn(self.ws)

    def read_users(self, fn: Callable[[Workspace], T]) -> T:
        """Run ``fn``, a read of the users' or sessions' table. On DuckDB it runs on a second
        connection under a lock of its own, so a login or a session check does not wait for a KPI
        computation that holds the warehouse (a cold scorecard takes seconds); elsewhere under the
        warehouse lock. Writes stay under the warehouse lock (:meth:`call`)."""
        with self._reader_lock:
            reader = self._reader or self._open_reader()
            if reader is not self.ws:
                return fn(reader)
        return self.call(fn)

    def _open_reader(self) -> Workspace:
        with self._lock:  # the second connection is made while no other thread uses the first
            self._reader = self.ws.reader() or self.ws
        return self._reader

    def data_version(self) -> str:
        """The workspace's data version, read again at most every :attr:`version_ttl` seconds — by
        one thread: the others that waited for the lock meanwhile take what it read (twenty
        clients at once made twenty reads in a row, the slowest page of a warm server)."""
        at, version = self._version
        if version and time.monotonic() - at <= self.version_ttl:
            return version
        with self._lock:
            at, version = self._version
            if not version or time.monotonic() - at > self.version_ttl:
                version = str(self.ws.data_version())
                self._version = (time.monotonic(), version)
        return version

    def targets_changed(self) -> None:
        """Call after a target change: forget the cached results that read the targets of a KPI
        whose targets changed, and every scorecard; keep the engines (what data there is, the
        materialised cohorts and the compiled queries stay valid; they re-read targets). The next
        scorecard computes the changed KPIs' cards and spotlights again; every other card and
        spotlight comes from the cache."""
        self._forget_pages()
        with self._lock:
            engines = list(self._engines.values())
            # the rows the engines read before, and the table now (read once, by one engine, for all)
            old = next((t for e in engines if (t := e.targets_read()) is not None), None)
            new = None
            for engine in engines:
                engine.targets_changed(new)
                if new is None and old is not None:
                    new = engine.raw_targets()
            # under the lock too: no one sees the engines' new targets beside results of the old ones
            if old is None or new is None:  # no engine had read them: nothing is known
                self.cache.clear()
            else:
                changed = _kpis_whose_targets_differ(old, new)
                self.cache.drop(lambda key: _reads_targets(key, changed))
        self._rewarm()

    def data_changed(self) -> None:
        """Call after an import: forget cached results and engines."""
        self._forget_pages()
        self._version = (0.0, "")
        self.cache.clear()
        with self._lock:
            self._engines.clear()
        self._rewarm()

    def _rewarm(self) -> None:
        """With :attr:`rewarm`, :meth:`warm` in a thread; one at a time: a change while it runs
        makes it run once more (what it computed was for the data before the change). Starting
        and stopping the thread are decided under one lock, so no change is missed between them."""
        if not self.rewarm:
            return
        with self._warm_lock:
            self._warm_again.set()
            if self._warming.is_set():
                return
            self._warming.set()

        def run() -> None:
            while True:
                with self._warm_lock:
                    if not self._warm_again.is_set():
                        self._warming.clear()
                        return
                    self._warm_again.clear()
                self.warm()  # best effort: it logs, never raises

        threading.Thread(target=run, name="sanjeh-rewarm", daemon=True).start()

    # -- users ----------------------------------------------------------------------------
    def user(self, name: str) -> User | None:
        """The user (cached for a few seconds: a request needs no warehouse round trip)."""
        hit = self._users.get(name)
        if hit is not None and time.monotonic() - hit[0] < self.credentials_ttl:
            return hit[1]
        with self._lookup_lock:  # one look-up, however many requests of this user wait for it
            hit = self._users.get(name)
            if hit is not None and time.monotonic() - hit[0] < self.credentials_ttl:
                return hit[1]
            user = self.read_users(lambda ws: get_user(ws, name))
            self._users[name] = (time.monotonic(), user)
        return user

    def forget_user(self, name: str) -> None:
        self._users.pop(name, None)

    def users_changed(self) -> None:
        """Call after users changed outside the API (a ``sanjeh users`` command run by the server
        for the command line): forget every cached user and session, so the change counts at once."""
        self._forget_pages()
        self._users.clear()
        self._sessions.clear()

    def session_ok(self, sid: str, username: str) -> bool:
        """Whether the session is still open (cached for a few seconds, like users)."""
        hit = self._sessions.get((sid, username))
        if hit is not None and time.monotonic() - hit[0] < self.credentials_ttl:
            return bool(hit[1])
        with self._lookup_lock:  # one look-up, however many requests of this session wait for it
            hit = self._sessions.get((sid, username))
            if hit is not None and time.monotonic() - hit[0] < self.credentials_ttl:
                return bool(hit[1])
            alive = self.read_users(lambda ws: session_alive(ws, sid, username))
            self._sessions.put((sid, username), (time.monotonic(), alive))
        return alive

    def forget_session(self, sid: str, username: str) -> None:
        self._sessions.put((sid, username), (time.monotonic(), False))

    # -- rendered pages -------------------------------------------------------------------
    def page(self, url: str, user: User, sid: str, render: Callable[[], Response]) -> Response:
        """The page at ``url`` (path and query) as ``user`` sees it in session ``sid``: rendered
        by ``render`` once, then served again while nothing it shows can have changed — the same
        day (pace lines, the quick periods), the same data version (an import by any process),
        and no change the server was told of since (a target saved, an import, users changed by
        the command line: :attr:`_changes`). The user is part of the key with their role, team,
        language and row's stamp (a changed user is another key), the session with its CSRF
        token; the caller authenticates every request before asking (a closed session is sent
        to log in). Only a 200 without cookies is kept."""
        from starlette.responses import Response as Plain

        key = (url, user, sid, self.ws.today(), self.data_version(), self._changes)
        hit = self.pages.get(key)
        if hit is not None:
            body, status, media = hit
            return Plain(body, status, media_type=media, headers={"Cache-Control": "no-store"})
        resp = render()
        self.rendered += 1
        if resp.status_code == 200 and "set-cookie" not in resp.headers and isinstance(resp.body, bytes):
            self.pages.put(key, (resp.body, resp.status_code, resp.media_type))
        return resp

    def _forget_pages(self) -> None:
        self._changes += 1
        self.pages.clear()

    def hash_slots(self) -> Any:
        """The limiter of concurrent password checks (made in the event loop on first use)."""
        if self._hash_slots is None:
            import anyio

            self._hash_slots = anyio.CapacityLimiter(self.password_checks)
        return self._hash_slots

    # -- the engine ------------------------------------------------------------------------
    def engine(self, rep_scope: RepScope) -> Any:
        with self._lock:
            eng = self._engines.get(rep_scope)
            if eng is None:
                eng = self.ws.engine(rep_scope=rep_scope)
                self._engines[rep_scope] = eng
            return eng

    def cached(self, key: tuple[Any, ...], rep_scope: RepScope, compute: Callable[[Any], T]) -> T:
        full = _full_key(key, rep_scope, self.data_version())
        hit = self.cache.get(full)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        with self._lock:
            # another thread may have computed it while this one waited (20 clients, one cold scorecard)
            hit = self.cache.get(full)
            if hit is not None:
                return hit  # type: ignore[no-any-return]
            value = compute(self.engine(rep_scope))
            self.computed += 1
            self.cache.put(full, value)
        return value

    def warm(self) -> None:
        """Compute the default scorecard (what the first visitor opens) and the catalogue ahead of
        time. With :attr:`keep_scorecard`, the scorecard is read back from the last run when nothing
        it was computed from changed, and kept for the next run once computed (web/saved.py)."""
        try:
            if not (self.keep_scorecard and self._kept(self._restore_scorecard)):
                self._scorecard(None, self.default_period())
                if self.keep_scorecard:
                    self._kept(self._keep_scorecard)
            self.catalogue()
        except Exception:  # warming is best effort: a real request will report any error
            log.warning("could not warm the result cache", exc_info=True)

    @staticmethod
    def _kept(step: Callable[[], Any]) -> bool:
        """Run a step of keeping the scorecard; one that fails only costs the time it saves."""
        try:
            return bool(step())
        except Exception:
            log.info("the kept scorecard was not used", exc_info=True)
            return False

    def _code_digest(self) -> str:
        from sanjeh.web.saved import code_digest

        if not self._code:
            self._code = code_digest()
        return self._code

    def _restore_scorecard(self) -> bool:
        """Put the kept default scorecard in the cache if it was computed from the workspace as it is
        now (its data version, targets, settings, day, and this code)."""
        from sanjeh.web import saved

        with self._lock:
            version, today = self.data_version(), self.ws.today()
            targets = self.engine(None).raw_targets()  # the table now
            fp = saved.fingerprint(self._code_digest(), self.ws.settings, version, targets, today)
            got = saved.read(self.ws.root, fp)
            if got is None:
                return False
            period = got["default_period"]
            self.cache.put(_full_key(_period_key(self.ws.settings.calendar, today), None, version), period)
            self.cache.put(_full_key(_scorecard_key(period), None, version), got["scorecard"])
        return True

    def _keep_scorecard(self) -> bool:
        """Keep the cached default scorecard with the fingerprint of what it was computed from: the
        data version it is cached under and the targets its engine read (not the table now, which
        a save may have changed since)."""
        from sanjeh.web import saved

        with self._lock:
            version, today = self.data_version(), self.ws.today()
            period = self.cache.get(_full_key(_period_key(self.ws.settings.calendar, today), None, version))
            value = self.cache.get(_full_key(_scorecard_key(period), None, version)) if period else None
            engine = self._engines.get(None)
            targets = engine.targets_read() if engine is not None else None
            if period is None or value is None or targets is None:
                return False  # changed meanwhile: the next warm-up keeps the new one
            fp = saved.fingerprint(self._code_digest(), self.ws.settings, version, targets, today)
        return saved.write(self.ws.root, fp, period, value)

    def catalogue(self) -> list[Any]:
        return self.cached(("catalogue",), None, lambda e: list(e.catalogue()))

    def kpi(self, name: str) -> Any:
        from sanjeh.errors import UnknownKPI

        for k in self.catalogue():
            if k.name == name:
                return k
        names = [k.name for k in self.catalogue()]
        raise UnknownKPI(
            key="query.unknown_kpi", params={"kpi": name, "kpis": names}, details={"kpi": name, "allowed": names}
        )

    def default_period(self, calendar: str | None = None) -> str:
        """The latest complete month, or the last month with data when the data ends earlier."""
        cal = calendar or self.ws.settings.calendar
        return self.cached(_period_key(cal, self.ws.today()), None, lambda e: str(e.default_period("month", cal)))

    def as_of(self) -> Any:
        """The day quick periods count from: today, or the last day with data when the data ends
        before last month (kpis/coverage.py)."""
        return self.cached(("as_of", self.ws.today()), None, lambda e: e.as_of())

    def scope(self, user: User) -> RepScope:
        """Whose rows ``user`` sees: every row (None), a rep's own (their id), or a team's (the set of
        its reps' ids, read from ``reps`` once per data version; an unknown team is no rep)."""
        if user.role == "rep":
            return user.rep_id or ""
        if user.role == "manager" and user.team:
            team = user.team
            return self.cached(("team", team.lower()), None, lambda e: team_reps(self.ws, team))
        return None

    def check_rep_filter(self, user: User, dim: str, member: str) -> None:
        """A rep (or a team's manager) asking for another rep's (or another team's) rows gets 403."""
        scope = self.scope(user)
        if dim != "rep" or scope is None:
            return
        allowed = {member_key("rep", scope)} if isinstance(scope, str) else {member_key("rep", r) for r in scope}
        if member_key("rep", member) not in allowed:
            key = "auth.rep_own_data" if isinstance(scope, str) else "auth.team_own_data"
            raise Forbidden(key=key, details={"filter": f"{dim}:{member}", "rep_id": user.rep_id, "team": user.team})

    def spec(
        self,
        user: User,
        kpi: str,
        period: str | None,
        grain: str | None = None,
        by: list[str] | tuple[str, ...] = (),
        filters: list[str] | tuple[str, ...] = (),
        compare: str | None = None,
    ) -> Query:
        """Parse request parameters into a :class:`Query`; 404/422/403 errors for bad ones."""
        self.kpi(kpi)
        label = parse_period(period).label if period else self.default_period()
        g = parse_grain(grain) if grain else None
        if compare in ("", "none"):
            compare = None
        if compare is not None and compare not in COMPARISONS:
            raise InvalidQuery(
                key="query.compare",
                params={"given": compare},
                details={"compare": compare, "allowed": list(COMPARISONS)},
            )
        pairs = tuple(parse_filter(f) for f in filters if f)
        for dim, member in pairs:
            self.check_rep_filter(user, dim, member)
        dims = tuple(dict.fromkeys(b for b in by if b))
        return Query(kpi, label, g, dims, pairs, compare)

    def run(self, user: User, spec: Query) -> dict[str, Any]:
        """The engine's result for ``spec`` as a dict (``Result.to_dict()``), cached."""

        return self.run_query(self.scope(user), spec)

    def why_spec(
        self,
        user: User,
        kpi: str,
        period: str | None,
        *,
        measure: str | None = None,
        against: str = "previous",
        by: list[str] | tuple[str, ...] = (),
        auto: bool = False,
        top: int = 10,
        filters: list[str] | tuple[str, ...] = (),
    ) -> WhyQuery:
        """Parse the parameters of a "why" request (the same checks as :meth:`spec`)."""
        spec = self.spec(user, kpi, period, None, by, filters)
        return WhyQuery(spec.kpi, spec.period, measure or None, against, spec.by, auto, top, spec.filters)

    def why(self, user: User, q: WhyQuery) -> dict[str, Any]:
        """The engine's "why" answer (kpis/why.py) as a dict, cached; a rep's covers their own rows."""
        return self.cached(("why", q), self.scope(user), lambda e: dict(e.why(q).to_dict()))

    def forecast(self, user: User, kpi: str, period: str | None, measure: str | None, by: str | None) -> dict[str, Any]:
        """Pace, forecast, weighted pipeline, time to win and track record (kpis/forecast.py
        ``outlook``) over the user's own deals and rows, cached per day of the clock; default
        period: the current quarter. The forecast is stored in the track record (kpis/track.py)."""
        from sanjeh.calendar import current_unit
        from sanjeh.kpis.forecast import outlook

        today = self.ws.today()
        label = (
            parse_period(period).label if period else current_unit(today, self.ws.settings.calendar, "quarter").label
        )
        key = ("forecast", kpi, label, measure, by, today)
        return self.cached(
            key, self.scope(user), lambda e: outlook(e, kpi, label, measure=measure, by=by, as_of=today, keep=True)
        )

    def pace(self, user: User, kpi: str, period: str) -> dict[str, Any] | None:
        """The pace of ``kpi``'s headline in ``period`` as of the clock's day (kpis/pace.py), over
        the user's own rows, cached per day; None when the headline does not add up over time."""
        from sanjeh.kpis.pace import pace

        today = self.ws.today()

        def compute(engine: Any) -> dict[str, Any]:
            try:
                return pace(engine, kpi, period, as_of=today).to_dict()
            except InvalidQuery as exc:
                if exc.key != "query.forecast_not_additive":
                    raise
                return {}  # cached as "no pace" (the cache takes None for a miss)

        return self.cached(("pace", kpi, period, today), self.scope(user), compute) or None

    def forecast_months(self, user: User, kpi: str, period: str) -> dict[str, Any] | None:
        """The statistical forecast (kpis/forecast.py) of ``kpi``'s headline for the months of
        ``period`` after the last complete one, over the user's own rows, cached per day (and stored
        in the track record, kpis/track.py); None with too little history or a headline that does
        not add up over time."""
        from sanjeh.kpis.forecast import forecast
        from sanjeh.kpis.track import record

        today = self.ws.today()

        def compute(engine: Any) -> dict[str, Any]:
            try:
                f = forecast(engine, kpi, period, as_of=today)
                record(engine, f)
                return f.to_dict()
            except InvalidQuery as exc:
                if exc.key not in ("query.forecast_history", "query.forecast_not_additive"):
                    raise
                return {}

        return self.cached(("forecast_months", kpi, period, today), self.scope(user), compute) or None

    def explain(self, user: User, spec: Query) -> str:
        def compute(engine: Any) -> str:
            return str(engine.explain(spec))

        return self.cached(("explain", spec), self.scope(user), compute)

    def run_query(self, rep_scope: RepScope, query: Query) -> dict[str, Any]:
        """The engine's result for ``query`` in a rep's scope (None: everyone's), cached."""

        def compute(engine: Any) -> dict[str, Any]:
            return dict(engine.run(query).to_dict())

        return self.cached(("run", query), rep_scope, compute)

    def scorecard(self, user: User, period: str | None) -> dict[str, Any]:
        label = parse_period(period).label if period else self.default_period()
        return self._scorecard(self.scope(user), label)

    def _scorecard(self, rep_scope: RepScope, label: str) -> dict[str, Any]:
        """The scorecard, its cards' spotlights computed by :meth:`run_query` (so a card and the
        KPI page it links to share one result) and each card cached on its own (a target change
        forgets the cards of the KPIs whose targets changed, and every scorecard: the next one is
        put together again from the cards and results kept)."""
        from sanjeh.kpis.scorecard import build_scorecard, card

        def one_card(k: Any, period: str, steps: int) -> dict[str, Any]:  # kept per KPI: see targets_changed
            return self.cached(("card", k.name, period, steps), rep_scope, lambda e: card(e, k, period, steps))

        def compute(engine: Any) -> dict[str, Any]:
            sc = build_scorecard(engine, label, run=lambda q: self.run_query(rep_scope, q), make_card=one_card)
            return dict(sc.to_dict())

        return self.cached(_scorecard_key(label), rep_scope, compute)

    def rows(self, user: User, q: Any, *, export: bool = False) -> dict[str, Any]:
        """The rows behind a number (kpis/drill.py) as a dict, over the user's own rows; a page is
        cached like a result, an export (every row) is not."""
        from sanjeh.kpis.drill import drill

        if export:
            with self._lock:
                return dict(drill(self.engine(self.scope(user)), q, export=True).to_dict())
        return self.cached(("rows", q), self.scope(user), lambda e: dict(drill(e, q).to_dict()))

    def members(self, user: User, dimension: str) -> list[tuple[str, str | None]]:
        """The members of a dimension with their names (the pickers), as the user may see them."""
        from sanjeh.kpis.members import members

        return self.cached(("members", dimension), self.scope(user), lambda e: members(e, dimension))


def _full_key(key: tuple[Any, ...], rep_scope: RepScope, version: str) -> tuple[Any, ...]:
    """A result's key in :attr:`AppState.cache`: what it is, whose rows, which data version."""
    return (*key, rep_scope, version)


def _period_key(calendar: str, today: Any) -> tuple[Any, ...]:
    return ("default_period", calendar, today)


def _scorecard_key(label: str) -> tuple[Any, ...]:
    return ("scorecard", label)


#: Cached results that read no targets, whatever the KPI (the catalogue, what data there is,
#: members, teams, a drill's rows).
_NO_TARGETS = frozenset({"catalogue", "default_period", "as_of", "team", "members", "rows"})
#: Cached results of one KPI: the KPI's name is the key's second part, or that part's ``kpi``.
_OF_A_KPI = frozenset({"run", "card", "why", "explain", "pace", "forecast", "forecast_months"})


def _kpis_whose_targets_differ(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> set[str]:
    """The KPIs whose rows of the targets table are not the same in ``old`` and ``new``."""

    def by_kpi(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(str(r.get("kpi") or "").strip().lower(), []).append(repr(sorted(r.items())))
        return {k: sorted(v) for k, v in out.items()}

    before, after = by_kpi(old), by_kpi(new)
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def _reads_targets(key: tuple[Any, ...], changed: set[str]) -> bool:
    """Whether the cached result ``key`` may read a target of a KPI in ``changed`` (a scorecard
    always may; an entry of an unknown kind is dropped too)."""
    kind = key[0] if key else None
    if kind in _NO_TARGETS:
        return False
    if kind in _OF_A_KPI and len(key) > 1:
        part = key[1]
        name = part if isinstance(part, str) else getattr(part, "kpi", None)
        return not isinstance(name, str) or name.strip().lower() in changed
    return True
