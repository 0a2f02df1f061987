"""Bad input never 500s, and every error code the API answers with is documented (#15).

One test walks every route of the OpenAPI schema with bad input (no credentials, a body of the wrong shape,
unknown ids, garbage query values) and checks each error's code against the list in docs/api.md. Hypothesis
then fuzzes the JSON body of every POST/PUT/PATCH route and the search filter grammar (derandomized, so a
run is repeatable): no response may be a 5xx.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundwork.platform.config import AccessConfig
from tests.conftest import REPO, api_client, make_settings

METHODS_WITH_BODY = ("post", "put", "patch")
EXAMPLES = 110
"""Generated bodies per route (x ~35 routes > 2,000 requests)."""
SENT: list[int] = []
SKIPPED_PREFIXES = ("/scim/", "/v1/slack/", "/auth/")
"""Routes with a wire format of their own (SCIM errors, Slack's signed requests, browser sign-in redirects):
their errors are not the API envelope; they are still fuzzed for 5xx."""


def documented_codes() -> set[str]:
    text = (REPO / "docs" / "api.md").read_text()
    section = text.split("## Errors", 1)[1].split("\n## ", 1)[0]
    codes: set[str] = set()
    for line in section.splitlines():
        if line.startswith(("| 4", "| 5")):
            codes.update(re.findall(r"`([a-z_]+)`", line.split("|")[2]))
    return codes


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    config = make_settings(tmp_path_factory.mktemp("fuzz") / "data", access=AccessConfig(rate_limit_per_minute=0))
    with api_client(config) as client:
        assert client.post("/v1/datastores", json={"name": "fuzz"}).status_code == 201
        client.post("/v1/datastores/fuzz/documents", files={"file": ("a.md", b"# A\n\nThe key rotates daily.")})
        yield client


def _routes(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.app.openapi()  # type: ignore[attr-defined]
    return [(path, method, spec) for path, item in schema["paths"].items() for method, spec in item.items()]


def _url(path: str) -> str:
    return re.sub(r"\{datastore[^}]*\}", "fuzz", re.sub(r"\{(?!datastore)[^}]+\}", "nope", path))


def _undocumented(response: Any, codes: set[str], path: str) -> str | None:
    """The error code of `response` if it is not in docs/api.md (None if it is, or is no API error)."""
    SENT.append(1)
    assert response.status_code < 500, (path, response.status_code, response.text[:300])
    if path.startswith(SKIPPED_PREFIXES) or response.status_code < 400:
        return None
    if "json" not in response.headers.get("content-type", ""):
        return None
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("code") not in codes:
        return f"{path} {response.status_code} {error.get('code')}"
    return None


def _check(response: Any, codes: set[str], path: str) -> None:
    problem = _undocumented(response, codes, path)
    assert problem is None, problem


def test_every_route_answers_bad_input_with_a_documented_code(client: TestClient) -> None:
    codes = documented_codes()
    assert {"invalid_request", "not_found", "unauthenticated", "rate_limited", "too_many_files"} <= codes
    problems: list[str] = []
    for path, method, _spec in _routes(client):
        url = _url(path)
        bad = {"unexpected": {"nested": [1, None]}, "query": 7}
        attempts = [
            client.request(method, url, headers={"Authorization": "Bearer wrong"}),
            client.request(method, url, params={"limit": "-1", "offset": "x", "chunk_id": "y", "since": "z"}),
        ]
        if method in METHODS_WITH_BODY:
            attempts.append(client.request(method, url, json=bad))
            attempts.append(
                client.request(method, url, content=b"{not json", headers={"Content-Type": "application/json"})
            )
        problems.extend(p for p in (_undocumented(r, codes, path) for r in attempts) if p)
    assert not problems, problems


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _body_strategy(spec: dict[str, Any], components: dict[str, Any]) -> st.SearchStrategy[Any]:
    content = spec.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    schema = components.get(ref.rsplit("/", 1)[-1], {}) if ref else content.get("schema", {})
    names = sorted(schema.get("properties", {}))
    if not names:
        return JSON
    return st.one_of(JSON, st.dictionaries(st.sampled_from(names), JSON, max_size=len(names)))


FILTERS = st.lists(
    st.fixed_dictionaries(
        {
            "key": st.sampled_from(["team", "year", "title", "mime_type", "document_id"]) | st.text(max_size=6),
            "op": st.sampled_from(["eq", "ne", "in", "gt", "gte", "lt", "lte", "like", ""]),
            "value": JSON,
        }
    ),
    max_size=3,
)


def _json_routes() -> list[tuple[str, str]]:
    from groundwork.platform.api.app import create_app
    from groundwork.platform.config import Settings

    schema = create_app(Settings()).openapi()
    return [
        (path, method)
        for path, item in schema["paths"].items()
        for method, spec in item.items()
        if method in METHODS_WITH_BODY and "application/json" in spec.get("requestBody", {}).get("content", {})
    ]


@pytest.mark.parametrize(("path", "method"), _json_routes())
def test_fuzzed_json_bodies_never_500(client: TestClient, path: str, method: str) -> None:
    schema = client.app.openapi()  # type: ignore[attr-defined]
    strategy = _body_strategy(schema["paths"][path][method], schema.get("components", {}).get("schemas", {}))
    codes = documented_codes()

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=strategy)
    def run(body: Any) -> None:
        _check(
            client.request(method, _url(path), content=json.dumps(body), headers={"Content-Type": "application/json"}),
            codes,
            path,
        )

    run()


def test_fuzzed_search_filters_never_500(client: TestClient) -> None:
    codes = documented_codes()

    @settings(max_examples=250, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(filters=FILTERS, mode=st.sampled_from(["lexical", "lexical", "lexical", "hybrid"]))
    def run(filters: list[dict[str, Any]], mode: str) -> None:
        body = {"query": "key rotation", "datastore_ids": ["fuzz"], "filters": filters, "mode": mode, "top_k": 3}
        sent = client.post("/v1/search", content=json.dumps(body), headers={"Content-Type": "application/json"})
        _check(sent, codes, "/v1/search")

    run()


def test_at_least_2000_generated_requests_were_sent() -> None:
    assert len(SENT) >= 2000, len(SENT)
