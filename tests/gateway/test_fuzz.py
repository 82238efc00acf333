"""Fuzzing: generated valid operations and hand-written hostile inputs never break the gateway.

hypothesis-graphql generates queries and mutations from the served SDL; each runs
in-process through HTTP (httpx ASGITransport, which re-raises any exception the app lets
escape) with each role. Every answer must be HTTP 200 with a well-formed GraphQL body,
and no error may be an unexpected exception, masked (INTERNAL_SERVER_ERROR) or not.
The default run is bounded (PI_GATEWAY_FUZZ_EXAMPLES per role and kind, 100 unless set).
"""

import base64
import json
import os
from contextlib import asynccontextmanager
from datetime import date, timezone

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from gateway.app import create_app
from gateway.settings import load_settings
from registry.enums import Role
from schema import build_schema
from schema.ids import encode

EXAMPLES = int(os.environ.get("PI_GATEWAY_FUZZ_EXAMPLES", "100"))
SDL = build_schema().as_str()
SCALARS = {  # dates within the accepted range (settings: 1900-01-01..2199-12-31), so operations run
    "Date": st.dates(date(1900, 1, 1), date(2199, 12, 31)).map(lambda d: nodes.String(d.isoformat())),
    "DateTime": st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: nodes.String(d.isoformat())),
}
# codes a client can cause; anything else (or no code) is an unexpected exception
CLIENT_CODES = {
    "FORBIDDEN", "BAD_USER_INPUT", "TIMEOUT", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_COMPLEX", "DOCUMENT_TOO_LARGE",
}
generated = {"cases": 0}


@pytest.fixture
async def fuzz_api(api, clock):
    """The demo gateway with a rate limit no fuzz run reaches."""
    settings_ = load_settings(database_url=api.database.url, rate_limit_burst=1_000_000)
    app = create_app(settings_, database=api.database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        yield client, api.tokens


async def post(client, tokens, role: Role, query: str, variables: dict | None = None) -> dict:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {tokens[role]}"},
    )
    assert response.status_code == 200, (query, response.status_code, response.text[:500])
    return well_formed(response.json(), query)


def well_formed(body: dict, query: str) -> dict:
    assert isinstance(body, dict) and set(body) <= {"data", "errors", "extensions"}, body
    assert "data" in body or "errors" in body
    for error in body.get("errors", []):
        assert isinstance(error.get("message"), str) and error["message"], error
        code = (error.get("extensions") or {}).get("code")
        assert code in CLIENT_CODES, (query, error)
    return body


def generate(strategy, count: int) -> list[str]:
    """`count` operations drawn by Hypothesis (generation only: the gateway is async, so the
    operations are sent afterwards and a failure names the exact operation, unshrunk)."""
    drawn: list[str] = []

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(operation=strategy)
    def collect(operation):
        drawn.append(operation)

    collect()
    return drawn


QUERIES = queries(SDL, custom_scalars=SCALARS)
MUTATIONS = mutations(SDL, custom_scalars=SCALARS)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("kind", ["queries", "mutations"])
async def test_generated_operations_get_well_formed_answers(fuzz_api, database_url, role, kind):
    if not database_url.startswith("sqlite"):
        pytest.skip("generated cases run on SQLite; the hostile inputs below cover PostgreSQL too")
    client, tokens = fuzz_api
    operations = generate(QUERIES if kind == "queries" else MUTATIONS, EXAMPLES)
    for operation in operations:
        await post(client, tokens, role, operation)
    generated["cases"] += len(operations)
    print(f"\nfuzz: {len(operations)} generated {kind} as {role.value} ({generated['cases']} so far)")


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


HOSTILE_STRINGS = [
    "' OR 1=1 --", "%", "_", "\\", "%' UNION SELECT token_hash FROM api_token --", "Robert'); DROP TABLE customer;--",
    "\x00", "nul\x00inside",
    "😀 𝔘ñíçødé \u202e gnp.exe", "\ud7ff\ue000\uffff", "x" * 40_000,
    "x" * 200_000,
]
FORGED_IDS = [
    "", "garbage", "\x00", "=" * 40, "x" * 10_000, b64("Subcontractor:-1"), b64("Subcontractor:0"),
    b64("Subcontractor:1 OR 1=1"),
    b64("Subcontractor:2147483648"), b64("Customer:9223372036854775807"),
    b64("Customer:99999999999999999999999"), b64("ApiToken:1"), b64(":1"), b64("Customer:\x00"),
    encode("Subcontractor", 999_999), encode("AuditEvent", 1),
]
FORGED_CURSORS = [
    "garbage", "", b64("cursor:-1"),
    b64("cursor:2147483648"), b64("cursor:99999999999999999999999"),
    b64("cursor:1' OR '1'='1"), encode("Subcontractor", 1),
]
STRING_READS = [
    ("query ($x: String!) { subcontractors(filter: {nameContains: $x}) { totalCount } }", "x"),
    ("query ($x: String!) { subcontractors(filter: {country: $x}) { totalCount } }", "x"),
    ("query ($x: String!) { subcontractors(filter: {dataItemCode: $x}) { totalCount } }", "x"),
    ("query ($x: String!) { subcontractors(filter: {purposeCode: $x}) { totalCount } }", "x"),
    ("query ($x: String!) { customers(filter: {businessCode: $x}) { totalCount } }", "x"),
    ('query ($x: String!) { customerByRef(businessCode: $x, externalRef: $x) { id } }', "x"),
    ("query ($x: String!) { business(code: $x) { id } }", "x"),
    ("query ($x: String!) { complianceFindings(businessCode: $x) { code } }", "x"),
    ("query ($x: String!) { privacyNotice(businessCode: $x) }", "x"),
    ('query ($x: String!) { breachImpact(partyId: "x", dataItemCodes: [$x]) { affectedCustomers } }', "x"),
]
ID_READS = [
    "query ($x: ID!) { node(id: $x) { id } }",
    "query ($x: ID!) { subcontractor(id: $x) { id } }",
    "query ($x: ID!) { customer(id: $x) { id } }",
    "query ($x: ID!) { breachImpact(partyId: $x) { affectedCustomers } }",
]
CURSOR_READS = [
    "query ($x: String) { subcontractors(after: $x) { totalCount } }",
    "query ($x: String) { customers(after: $x) { totalCount } }",
    "query ($x: String) { auditEvents(after: $x) { totalCount } }",
]
STRING_WRITES = [
    "mutation ($x: String!) { createSubcontractor(input: {name: $x, country: $x, corporateNumber: $x}) { errors { code } } }",
    "mutation ($x: String!) { registerCustomer(input: {businessCode: $x, externalRef: $x, displayName: $x, "
    "email: $x, dataItemCodes: [$x]}) { errors { code } } }",
    'mutation ($x: String!) { registerCustomer(input: {businessCode: "loveinn-japan", externalRef: $x, '
    'displayName: $x, email: $x, dataItemCodes: ["name"]}) { errors { code } } }',
    "mutation ($x: String!) { addEntrustment(input: {contractId: $x, purposeCodes: [$x], dataItemCodes: [$x]}) "
    "{ errors { code } } }",
]


@pytest.mark.parametrize("value", HOSTILE_STRINGS, ids=[f"s{i}" for i in range(len(HOSTILE_STRINGS))])
async def test_hostile_strings_in_every_filter_argument_and_write(fuzz_api, value):
    client, tokens = fuzz_api
    for query, name in STRING_READS + [(q, "x") for q in STRING_WRITES]:
        await post_or_refused_nul(client, tokens, Role.ADMIN, query, {name: value})


async def post_or_refused_nul(client, tokens, role: Role, query: str, variables: dict) -> dict | None:
    """`post`, except that a variable holding NUL must be refused before execution: no registry
    text can hold it (PostgreSQL cannot store it), so the gateway answers 400."""
    if not any("\x00" in str(v) for v in variables.values()):
        return await post(client, tokens, role, query, variables)
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {tokens[role]}"},
    )
    assert response.status_code == 400 and "NUL character" in response.text, response.text
    return None


async def test_nul_in_a_string_literal_is_a_validation_error(fuzz_api):
    client, tokens = fuzz_api
    body = await post(client, tokens, Role.ADMIN, '{ business(code: "a\\u0000b") { id } }')
    assert body["errors"][0]["message"] == "Strings may not contain the NUL character (U+0000)."


@pytest.mark.parametrize("forged", FORGED_IDS, ids=[f"id{i}" for i in range(len(FORGED_IDS))])
async def test_forged_global_ids_read_as_nothing_or_a_clear_error(fuzz_api, forged):
    client, tokens = fuzz_api
    for query in ID_READS:
        body = await post_or_refused_nul(client, tokens, Role.VIEWER, query, {"x": forged})
        if body is not None and "node(" in query and "errors" not in body:
            assert body["data"]["node"] is None


@pytest.mark.parametrize("cursor", FORGED_CURSORS, ids=[f"c{i}" for i in range(len(FORGED_CURSORS))])
async def test_forged_cursors_get_a_clear_error(fuzz_api, cursor):
    client, tokens = fuzz_api
    for query in CURSOR_READS:
        await post(client, tokens, Role.ADMIN, query, {"x": cursor})


@pytest.mark.parametrize("document", [
    "{ node(id: " + "[" * 3000 + '"x"' + "]" * 3000 + ") { id } }",
    "{ " + "viewer { " * 3000 + "name" + " }" * 3000 + " }",
    "{ " + "... on Query { " * 2000 + "viewer { name }" + " }" * 2000 + " }",
    "query (" + ", ".join(f"$v{i}: String" for i in range(2000)) + ") { viewer { name } }",
], ids=["nested-list-literal", "nested-selection", "nested-fragments", "many-variables"])
async def test_deeply_nested_documents_get_a_clear_error(fuzz_api, document):
    client, tokens = fuzz_api
    body = await post(client, tokens, Role.ADMIN, document)
    assert body["errors"]


async def test_deeply_nested_variables_and_json_bodies_never_break_the_server(fuzz_api):
    client, tokens = fuzz_api
    headers = {"Authorization": f"Bearer {tokens[Role.ADMIN]}", "Content-Type": "application/json"}
    deep_variable = '{"x": ' * 5000 + "null" + "}" * 5000
    body = '{"query": "query ($x: String) { viewer { name } }", "variables": {"x": ' + deep_variable + "}}"
    for content in (body.encode(), b"[" * 100_000 + b"]" * 100_000):
        response = await client.post("/graphql", content=content, headers=headers)
        assert response.status_code in (200, 400), response.text[:300]
    assert (await post(client, tokens, Role.VIEWER, "{ viewer { role } }"))["data"]["viewer"]["role"] == "VIEWER"
