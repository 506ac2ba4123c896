"""The REST API (API.md) against the real app served by uvicorn on a real DuckDB demo workspace."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sanjeh.web.auth import Signer
from tests.test_web_support import PASSWORD, PERIOD, Served, shared_demo_server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return shared_demo_server(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def admin(served: Served) -> Iterator[httpx.Client]:
    with served.api("admin") as c:
        yield c


@pytest.fixture(scope="module")
def rep2(served: Served) -> Iterator[httpx.Client]:
    with served.api("rep2") as c:
        yield c


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, object]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"code", "message", "details"}
    assert isinstance(err["message"], str)
    assert err["message"]
    assert isinstance(err["details"], dict)
    if code is not None:
        assert err["code"] == code
    return dict(err)


# -- open and closed doors ----------------------------------------------------------------------
def test_healthz_is_open(served: Served) -> None:
    with served.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/kpis"),
        ("GET", "/api/v1/kpis/revenue"),
        ("GET", "/api/v1/scorecard"),
        ("GET", "/api/v1/targets"),
        ("PUT", "/api/v1/targets"),
        ("POST", "/api/v1/imports"),
        ("GET", "/api/v1/rejects"),
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/docs"),
    ],
)
def test_every_endpoint_needs_authentication(served: Served, method: str, path: str) -> None:
    with served.client() as c:
        assert_error(c.request(method, path), 401, "unauthorized")


@pytest.mark.parametrize("path", ["/", "/kpis", "/kpi/revenue", "/reps", "/targets", "/data", "/users"])
def test_pages_send_strangers_to_the_login_page(served: Served, path: str) -> None:
    with served.client() as c:
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
        login = c.get("/login")
        assert login.status_code == 200
        assert 'name="password"' in login.text


def test_a_forged_or_expired_token_is_refused(served: Served) -> None:
    good = served.token("admin")
    body, _, sig = good.partition(".")
    forged = body + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    other_secret = Signer("not-the-secret").issue("admin", "api", 3600)
    expired = Signer(served.ws.settings.secret).issue("admin", "api", -10)
    with served.client() as c:
        for token in (forged, other_secret, expired, "garbage"):
            r = c.get("/api/v1/kpis", headers={"Authorization": f"Bearer {token}"})
            assert_error(r, 401, "unauthorized")
        # a session cookie is not an API token and the other way round
        session = Signer(served.ws.settings.secret).issue("admin", "session", 3600)
        assert_error(c.get("/api/v1/kpis", headers={"Authorization": f"Bearer {session}"}), 401)


def test_wrong_password_is_401_with_the_error_shape(served: Served) -> None:
    with served.client() as c:
        r = c.post("/api/v1/auth/token", data={"username": "manager", "password": "wrong-password"})
        assert_error(r, 401, "unauthorized")
        r = c.post("/api/v1/auth/token", data={"username": "nobody", "password": "wrong-password"})
        assert_error(r, 401, "unauthorized")
        # a missing form field is FastAPI's validation error, rendered in our shape
        assert_error(c.post("/api/v1/auth/token", data={"username": "x"}), 422, "invalid_request")


def test_openapi_and_docs_are_served_from_the_app(admin: httpx.Client) -> None:
    spec = admin.get("/api/v1/openapi.json").json()
    assert "/api/v1/kpis/{name}" in spec["paths"]
    assert "/api/v1/auth/token" in spec["paths"]
    docs = admin.get("/api/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in docs
    assert "cdn." not in docs
    assert "https://" not in docs.split("<body>")[0]
    assert admin.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


# -- KPIs -------------------------------------------------------------------------------------
def test_catalogue(admin: httpx.Client) -> None:
    kpis = admin.get("/api/v1/kpis").json()
    names = {k["name"] for k in kpis}
    assert {"revenue", "sales_by_region", "mql_to_sql", "sales_cycle", "sales_per_rep"} <= names
    region = next(k for k in kpis if k["name"] == "sales_by_region")
    assert region["title"]["fa"]
    assert region["title"]["en"]


def test_one_kpi_by_month_and_region(admin: httpx.Client) -> None:
    r = admin.get("/api/v1/kpis/revenue", params={"period": "1403-Q4", "grain": "month", "by": "region"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kpi"] == "revenue"
    assert body["period"] == "1403-Q4"
    assert body["by"] == ["region"]
    months = {row["period"] for row in body["rows"]}
    assert months == {"1403-10", "1403-11", "1403-12"}
    assert all(isinstance(row["revenue"], int | float) for row in body["rows"])
    # the same numbers without a breakdown add up to the same total
    whole = admin.get("/api/v1/kpis/revenue", params={"period": "1403-Q4"}).json()["rows"]
    assert len(whole) == 1
    assert whole[0]["revenue"] == pytest.approx(sum(row["revenue"] for row in body["rows"]))


def test_filters_and_comparisons(admin: httpx.Client) -> None:
    all_regions = admin.get("/api/v1/kpis/sales_by_region", params={"period": PERIOD}).json()["rows"]
    top = max(all_regions, key=lambda r: r["revenue"])
    r = admin.get(
        "/api/v1/kpis/sales_by_region",
        params={"period": PERIOD, "filter": f"region:{top['region']}", "compare": "previous"},
    ).json()
    assert [row["region"] for row in r["rows"]] == [top["region"]]
    assert r["rows"][0]["revenue"] == pytest.approx(top["revenue"])
    assert "previous_revenue" in r["rows"][0]


def test_explain_returns_sql(admin: httpx.Client) -> None:
    r = admin.get("/api/v1/kpis/revenue", params={"period": PERIOD, "explain": "true"}).json()
    assert "SELECT" in r["sql"].upper()


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"period": "1403-13"}, 422, "invalid_period"),
        ({"period": "not-a-period"}, 422, "invalid_period"),
        ({"period": "2024-01..1403-02"}, 422, "invalid_period"),
        ({"period": PERIOD, "by": "colour"}, 422, "invalid_query"),
        ({"period": PERIOD, "by": "stage"}, 422, "invalid_query"),
        ({"period": PERIOD, "grain": "fortnight"}, 422, "invalid_period"),
        ({"period": PERIOD, "compare": "tomorrow"}, 422, "invalid_query"),
        ({"period": PERIOD, "filter": "region"}, 422, "invalid_query"),
        ({"period": PERIOD, "filter": "colour:red"}, 422, "invalid_query"),
        ({"period": PERIOD, "explain": "perhaps"}, 422, "invalid_request"),
    ],
)
def test_bad_parameters_are_4xx_json(admin: httpx.Client, params: dict[str, str], status: int, code: str) -> None:
    assert_error(admin.get("/api/v1/kpis/revenue", params=params), status, code)


def test_unknown_kpi_404_unknown_path_404_wrong_method_405(admin: httpx.Client) -> None:
    assert_error(admin.get("/api/v1/kpis/happiness", params={"period": PERIOD}), 404, "unknown_kpi")
    assert_error(admin.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(admin.delete("/api/v1/kpis"), 405, "method_not_allowed")
    assert_error(admin.get("/api/v1/scorecard", params={"period": "1403-00"}), 422, "invalid_period")
    assert_error(admin.put("/api/v1/targets", content=b"{not json", headers={"content-type": "application/json"}), 422)


def test_scorecard(admin: httpx.Client) -> None:
    r = admin.get("/api/v1/scorecard", params={"period": PERIOD})
    assert r.status_code == 200, r.text
    sc = r.json()
    assert sc["period"] == PERIOD
    assert [c["kpi"] for c in sc["primary"]] == ["revenue", "sales_growth", "sales_by_product"]
    card = sc["primary"][0]
    assert card["value"] > 0
    assert len(card["spark"]) == 12
    assert {c["kpi"] for c in sc["secondary"]}.isdisjoint({c["kpi"] for c in sc["primary"]})
    # a repeated view comes from the cache
    state = admin.get("/api/v1/scorecard", params={"period": PERIOD})
    assert state.json() == sc


# -- reps see only their own rows -------------------------------------------------------------------
def test_a_rep_sees_only_their_own_rows(admin: httpx.Client, rep2: httpx.Client) -> None:
    everyone = admin.get("/api/v1/kpis/sales_per_rep", params={"period": "1403"}).json()["rows"]
    assert len({r["rep"] for r in everyone}) > 3
    mine = rep2.get("/api/v1/kpis/sales_per_rep", params={"period": "1403"}).json()["rows"]
    assert {r["rep"] for r in mine} == {"R02"}
    r02 = next(r for r in everyone if r["rep"] == "R02")
    assert mine[0]["revenue"] == pytest.approx(r02["revenue"])
    # a KPI without a rep dimension is computed over the rep's rows only
    total = admin.get("/api/v1/kpis/revenue", params={"period": "1403"}).json()["rows"][0]["revenue"]
    own = rep2.get("/api/v1/kpis/revenue", params={"period": "1403"}).json()["rows"][0]["revenue"]
    assert own == pytest.approx(r02["revenue"])
    assert own < total
    by_region = rep2.get("/api/v1/kpis/sales_by_region", params={"period": "1403"}).json()["rows"]
    assert sum(r["revenue"] for r in by_region) == pytest.approx(own)


def test_a_rep_asking_for_another_rep_is_refused(rep2: httpx.Client) -> None:
    err = assert_error(
        rep2.get("/api/v1/kpis/sales_per_rep", params={"period": "1403", "filter": "rep:R05"}), 403, "forbidden"
    )
    assert err["details"]["rep_id"] == "R02"  # type: ignore[index]
    own = rep2.get("/api/v1/kpis/sales_per_rep", params={"period": "1403", "filter": "rep:R02"})
    assert own.status_code == 200


def test_a_reps_scorecard_is_their_own(admin: httpx.Client, rep2: httpx.Client) -> None:
    mine = rep2.get("/api/v1/scorecard", params={"period": PERIOD}).json()
    r02 = admin.get("/api/v1/kpis/revenue", params={"period": PERIOD, "filter": "rep:R02"}).json()["rows"][0]
    revenue = next(c for c in mine["primary"] if c["kpi"] == "revenue")
    assert revenue["value"] == pytest.approx(r02["revenue"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/targets"),
        ("POST", "/api/v1/imports"),
        ("GET", "/api/v1/rejects"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
    ],
)
def test_what_a_rep_may_not_do(rep2: httpx.Client, method: str, path: str) -> None:
    body = {"json": []} if method == "PUT" else {}
    if path.endswith("/users") and method == "POST":
        body = {"json": {"username": "x", "role": "admin", "password": "12345678"}}
    assert_error(rep2.request(method, path, **body), 403, "forbidden")  # type: ignore[arg-type]


def test_a_rep_reads_only_their_own_targets(admin: httpx.Client, rep2: httpx.Client) -> None:
    every = admin.get("/api/v1/targets").json()
    assert len(every) > 0
    mine = rep2.get("/api/v1/targets").json()
    assert all(t["dimension"] == "rep" and t["member"] == "R02" for t in mine)
    assert len(mine) < len(every)


def test_manager_cannot_see_users_but_admin_can(served: Served, admin: httpx.Client) -> None:
    with served.api("manager") as m:
        assert_error(m.get("/api/v1/users"), 403, "forbidden")
        assert m.get("/api/v1/rejects").status_code == 200
    names = {u["username"] for u in admin.get("/api/v1/users").json()}
    assert {"admin", "manager", "rep2"} <= names
    assert all("password" not in str(u) for u in admin.get("/api/v1/users").json())


def test_me_and_language(served: Served) -> None:
    with served.api("rep5") as c:
        me = c.get("/api/v1/me").json()
        # rep5's stored language is changed by other tests too: only the rest is fixed here
        assert {k: v for k, v in me.items() if k != "language"} == {
            "username": "rep5",
            "role": "rep",
            "rep_id": "R05",
            "team": None,
            "disabled": False,
        }
        for lang in ("en", "fa"):
            assert c.put("/api/v1/me/language", json={"language": lang}).json()["language"] == lang
            assert c.get("/api/v1/me").json()["language"] == lang
        assert_error(c.put("/api/v1/me/language", json={"language": "de"}), 400)


def test_passwords_are_stored_as_argon2_hashes(served: Served) -> None:
    from sanjeh.users import USERS_TABLE

    hashes = served.ws.warehouse.table(USERS_TABLE).to_pyarrow().column("password_hash").to_pylist()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert PASSWORD not in "".join(hashes)


def test_security_headers(served: Served) -> None:
    with served.client() as c:
        r = c.get("/login")
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"


def test_static_assets_are_the_apps_own(served: Served) -> None:
    with served.client() as c:
        js = c.get("/static/vendor/plotly.min.js")
        assert js.status_code == 200
        assert len(js.content) > 1_000_000
        font = c.get("/static/fonts/vazirmatn-arabic-400-normal.woff2")
        assert font.status_code == 200
        assert font.content[:4] == b"wOF2"
        css = c.get("/static/css/sanjeh.css").text
        assert "url(http" not in css
        assert "@import" not in css


def test_root_path_is_not_a_directory_listing(served: Served, admin: httpx.Client) -> None:
    with served.client() as c:
        assert c.get("/static/").status_code == 404
        # a stranger is sent to the login page for any path that is not public, a user gets 404
        assert c.get("/static/../pyproject.toml", follow_redirects=False).status_code == 303
    assert admin.get("/static/../pyproject.toml").status_code == 404


# -- forecast (docs/forecast.md) ------------------------------------------------------------------
def test_forecast_has_pace_forecast_and_pipeline(admin: httpx.Client) -> None:
    body = admin.get("/api/v1/kpis/revenue/forecast", params={"period": PERIOD, "by": "source"}).json()
    assert body["kpi"] == "revenue" and body["pace"]["period"] == PERIOD
    assert body["forecast"] is not None or body["forecast_error"]["code"] == "query.forecast_history"
    assert body["pipeline"]["by"] == "source" and body["pipeline"]["per_source"]
    ttw = body["time_to_win"]  # the curves split the same way, the stale deals beside them
    assert ttw["by"] == "source" and ttw["groups"] and ttw["overall"]["deals"] > 0
    assert ttw["stale_after_days"] > 0 and len(ttw["stale"]) == min(ttw["stale_count"], 100)
    assert all(r["period"] != PERIOD for r in body["track_record"]["rows"])  # a closed period: nothing kept


def test_a_reps_forecast_covers_their_own_deals(admin: httpx.Client, rep2: httpx.Client) -> None:
    me = rep2.get("/api/v1/me").json()
    mine = rep2.get("/api/v1/kpis/revenue/forecast", params={"period": PERIOD}).json()["pipeline"]
    every = admin.get("/api/v1/kpis/revenue/forecast", params={"period": PERIOD}).json()["pipeline"]
    assert {d["rep"].lower() for d in mine["deals"]} <= {me["rep_id"].lower()}
    assert len(mine["deals"]) < len(every["deals"])
    stale = rep2.get("/api/v1/kpis/revenue/forecast", params={"period": PERIOD}).json()["time_to_win"]["stale"]
    assert stale and {d["rep"].lower() for d in stale} == {me["rep_id"].lower()}


@pytest.mark.parametrize(
    ("params", "name", "status"),
    [
        ({"by": "region"}, "revenue", 422),
        ({"period": "1403-13"}, "revenue", 422),
        ({}, "win_rate", 422),
        ({}, "no_such_kpi", 404),
    ],
)
def test_forecast_refuses_bad_parameters(admin: httpx.Client, params: dict[str, str], name: str, status: int) -> None:
    assert_error(admin.get(f"/api/v1/kpis/{name}/forecast", params=params), status)


# -- the shapes OpenAPI promises ---------------------------------------------------------------------
def test_openapi_names_the_result_and_scorecard_fields(admin: httpx.Client) -> None:
    spec = admin.get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    ok = spec["paths"]["/api/v1/kpis/{name}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {x["$ref"].rsplit("/", 1)[1] for x in ok["anyOf"]} == {"KpiResultOut", "ExplainOut"}
    result = schemas["KpiResultOut"]["properties"]
    assert {"kpi", "period", "columns", "column_info", "rows", "warnings", "data"} <= set(result)
    assert set(schemas["ColumnOut"]["properties"]["role"]["enum"]) >= {"measure", "target", "change_rate"}
    card = spec["paths"]["/api/v1/scorecard"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert card["$ref"].endswith("/ScorecardOut")
    assert {"value", "target", "attainment", "change_rate", "year_ago_change_rate", "spark"} <= set(
        schemas["CardOut"]["properties"]
    )


def test_real_answers_have_the_promised_shape(admin: httpx.Client) -> None:
    from sanjeh.web.api_models import ExplainOut, KpiResultOut, ScorecardOut

    got = admin.get("/api/v1/kpis/revenue", params={"period": PERIOD, "by": "rep", "compare": "previous"}).json()
    assert set(got) == set(KpiResultOut.model_fields)
    result = KpiResultOut.model_validate(got)
    roles = {c.name: c.role for c in result.column_info}
    assert [c.name for c in result.column_info] == result.columns
    assert roles["rep"] == "dimension" and roles["rep_name"] == "dimension_name"
    assert roles["previous_revenue"] == "previous" and roles["revenue_change_rate"] == "change_rate"
    assert isinstance(got["rows"][0]["orders"], int)  # a count stays a count
    sql = admin.get("/api/v1/kpis/revenue", params={"period": PERIOD, "explain": "true"}).json()
    assert set(sql) == set(ExplainOut.model_fields)
    sc = admin.get("/api/v1/scorecard", params={"period": PERIOD}).json()
    ScorecardOut.model_validate(sc)
    card = sc["primary"][0]
    assert set(card) == set(ScorecardOut.model_fields["primary"].annotation.__args__[0].model_fields)  # type: ignore[union-attr]


def test_the_reps_leaderboard_is_served_like_the_page(admin: httpx.Client, rep2: httpx.Client, served: Served) -> None:
    from sanjeh.web.api_models import LeaderboardOut

    got = admin.get("/api/v1/reps", params={"period": "1403"})
    assert got.status_code == 200, got.text
    board = LeaderboardOut.model_validate(got.json())
    assert board.period == "1403" and [c.name for c in board.column_info] == board.columns
    roles = {c.name: c.role for c in board.column_info}
    assert roles["rep"] == "dimension" and roles["revenue"] == "measure" and roles["attainment"] == "attainment"
    revenue = [float(r.get("revenue") or 0) for r in board.rows]
    assert revenue == sorted(revenue, reverse=True) and len(board.rows) > 5
    per_rep = admin.get("/api/v1/kpis/sales_per_rep", params={"period": "1403"}).json()["rows"]
    r02 = next(r for r in board.rows if r["rep"] == "R02")
    assert r02["revenue"] == pytest.approx(next(r["revenue"] for r in per_rep if r["rep"] == "R02"))
    with served.browser_session("admin") as (page, _):
        import re

        shown = re.findall(r'<tr data-rep="([^"]+)"', page.get("/reps", params={"period": "1403"}).text)
    assert shown == [r["rep"] for r in board.rows]  # the page's table is the engine's, in its order
    mine = rep2.get("/api/v1/reps", params={"period": "1403"}).json()
    assert [r["rep"] for r in mine["rows"]] == ["R02"]
    assert_error(admin.get("/api/v1/reps", params={"period": "1403-13"}), 422)
