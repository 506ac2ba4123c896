"""Schemathesis over the OpenAPI document of the real served app: no input yields a 5xx.

Every operation of ``/api/v1/openapi.json`` (read with an admin's token) gets cases generated
from its schema — valid and invalid parameters, bodies and uploads — sent over HTTP to the app
served by uvicorn on a small workspace of its own (the calls change its targets, users and data).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from sanjeh.users import add_user
from sanjeh.workspace import Workspace
from tests import kpi_data
from tests.test_web_support import PASSWORD, Served, serve

EXAMPLES = 40  # per operation (half valid, half invalid input)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    ws = Workspace.init(tmp_path_factory.mktemp("fuzz") / "ws")
    kpi_data.fill(ws)
    add_user(ws, "admin", "admin", password=PASSWORD)
    add_user(ws, "rep1", "rep", "R1", password=PASSWORD)
    with serve(ws, max_upload=256 * 1024) as s:
        yield s
    ws.close()


def fuzz(served: Served, op: Any, tokens: dict[str, str], failures: list[str]) -> None:
    """Send ``EXAMPLES`` generated cases of one operation, as an admin, a rep and a stranger."""
    revokes = op.method.upper() == "DELETE" and op.path.endswith("/auth/token")  # use a fresh token for those

    cases = st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases, who=st.sampled_from(["admin", "rep1", None]))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def run(case: Any, who: str | None) -> None:
        headers = {}
        if who is not None:
            headers["Authorization"] = f"Bearer {served.token(who) if revokes else tokens[who]}"
        response = case.call(base_url=served.url, headers=headers, timeout=60)
        if response.status_code >= 500:
            failures.append(f"{op.label}: {response.status_code} {response.text[:300]} <- {case.as_curl_command()}")
        ctype = response.headers.get("content-type") or [""]
        if 400 <= response.status_code < 500 and ctype[0].startswith("application/json"):
            body = response.json()
            assert set(body) == {"error"}, (op.label, body)
            assert set(body["error"]) == {"code", "message", "details"}, (op.label, body)

    run()


@pytest.mark.slow
def test_no_generated_request_is_a_server_error(fuzzed: Served) -> None:
    tokens = {"admin": fuzzed.token("admin"), "rep1": fuzzed.token("rep1")}
    schema = schemathesis.openapi.from_url(
        f"{fuzzed.url}/api/v1/openapi.json", headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=30
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12, [op.label for op in operations]
    failures: list[str] = []
    started = time.monotonic()
    for op in operations:
        fuzz(fuzzed, op, tokens, failures)
    elapsed = time.monotonic() - started
    assert not failures, "\n".join(failures[:10])
    assert elapsed < 120, f"the run took {elapsed:.0f} s"


#: Strings of the earlier hostile testing, sent as every query and path parameter of every operation.
HOSTILE = [
    "\x00",
    "region:\x00",
    "\r\nX-Injected: 1",
    "../../../../etc/passwd",
    "=cmd|' /C calc'!A0",
    "x" * 5000,
    "ر" * 300,
    "%00",
    "1403-13..1403-00",
    "' OR 1=1 --",
    "region:" + "ب" * 200,
]


@pytest.mark.slow
def test_hostile_strings_in_every_parameter_are_4xx(fuzzed: Served) -> None:
    from urllib.parse import quote

    with fuzzed.api("admin") as c:
        spec = c.get("/api/v1/openapi.json").json()
        failures = []
        sent = 0
        for path, item in spec["paths"].items():
            for method, op in item.items():
                for param in op.get("parameters", []):
                    for value in HOSTILE:
                        url, params = path, {}
                        if param["in"] == "path":
                            url = path.replace("{" + param["name"] + "}", quote(value, safe=""))
                        elif param["in"] == "query":
                            params = {param["name"]: value}
                        else:
                            continue
                        url = url.replace("{name}", "revenue")
                        r = c.request(method.upper(), url, params=params)
                        sent += 1
                        if r.status_code >= 500:
                            failures.append(f"{method.upper()} {url} {params!r}: {r.status_code} {r.text[:200]}")
                        elif r.status_code >= 400:
                            assert set(r.json()) == {"error"}, r.text
    assert sent >= 90
    assert not failures, "\n".join(failures[:10])
