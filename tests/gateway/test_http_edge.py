"""Bad input at the HTTP edge never gives a 500 and always says what is wrong.

Status codes as the GraphQL over HTTP spec asks for `application/json` responses: a request
that cannot be parsed as a GraphQL-over-HTTP request (malformed or non-object JSON, an
unsupported content type, `variables` that are not a map, no query) is HTTP 400; a
well-formed request whose document or variables fail validation or coercion is HTTP 200
with `errors` and no data; a body over the configured limit is HTTP 413. A client that asks
for `application/graphql-response+json` gets 400 for those validation errors instead.
"""

import json
from dataclasses import dataclass

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import load_settings
from registry import migrate, tokens
from registry.db import Database
from registry.enums import Role
from tests.gateway.live import live_database_url, live_server  # noqa: F401  (fixtures)

JSON = {"content-type": "application/json"}
SUBS = "query ($f: Int) { subcontractors(first: $f) { totalCount } }"
UPDATE = """
mutation ($i: UpdateSubcontractorInput!) { updateSubcontractor(input: $i) { errors { code } } }"""

# (case, request keyword arguments, expected status, words the plain-text message holds)
UNPARSABLE = [
    ("malformed JSON", dict(content=b'{"query": ', headers=JSON), 400, "parse request body as JSON"),
    ("a JSON string body", dict(content=b'"{ viewer { name } }"', headers=JSON), 400, "Expected a JSON object"),
    ("a JSON number body", dict(content=b"42", headers=JSON), 400, "Expected a JSON object"),
    ("a JSON null body", dict(content=b"null", headers=JSON), 400, "Expected a JSON object"),
    ("a JSON list body (no batching)", dict(content=b'[{"query": "{ viewer { name } }"}]', headers=JSON), 400,
     "Batching is not enabled"),
    ("an empty body", dict(content=b"", headers=JSON), 400, "got an empty body"),
    ("a blank body", dict(content=b"  \n ", headers=JSON), 400, "got an empty body"),
    ("text/plain", dict(content=b'{"query": "{ viewer { name } }"}', headers={"content-type": "text/plain"}), 400,
     "Unsupported content type"),
    ("no content type", dict(content=b'{"query": "{ viewer { name } }"}', headers={}), 400,
     "Unsupported content type"),
    ("a form body", dict(content=b"query=x", headers={"content-type": "application/x-www-form-urlencoded"}), 400,
     "Unsupported content type"),
    ("variables as a string", dict(json={"query": SUBS, "variables": '{"f": 1}'}), 400,
     "`variables` must be an object"),
    ("variables as a list", dict(json={"query": SUBS, "variables": [1]}), 400, "`variables` must be an object"),
    ("extensions as a string", dict(json={"query": SUBS, "extensions": "x"}), 400, "`extensions` must be an object"),
    ("no query", dict(json={"variables": {}}), 400, "No GraphQL query found"),
    ("an empty object", dict(json={}), 400, "No GraphQL query found"),
    ("an empty query", dict(json={"query": ""}), 400, "No GraphQL query found"),
    ("a query that is not a string", dict(json={"query": 5}), 400, "`query` must be a string"),
    ("an unknown operationName", dict(json={"query": "query A { viewer { name } }", "operationName": "B"}), 400,
     'Unknown operation named "B"'),
]

# (case, request body, words the GraphQL error message holds)
INVALID = [
    ("a variable of the wrong type", {"query": SUBS, "variables": {"f": "ten"}},
     "Variable '$f' has invalid value: Int cannot represent non-integer value"),
    ("a missing required variable", {"query": "query ($id: ID!) { subcontractor(id: $id) { name } }"},
     "Variable '$id' has invalid value: Expected a value of non-null type 'ID!'"),
    ("an input field of the wrong type",
     {"query": UPDATE, "variables": {"i": {"id": "x", "expectedVersion": "one"}}},
     "Variable '$i' has invalid value at .expectedVersion: Int cannot represent non-integer value"),
    ("an unknown input field", {"query": UPDATE, "variables": {"i": {"id": "x", "expectedVersion": 1, "colour": 1}}},
     "not to include unknown field 'colour'"),
    ("a syntax error", {"query": "{ viewer { "}, "Syntax Error"),
    ("an unknown field", {"query": "{ viewer { shoeSize } }"}, "Cannot query field 'shoeSize'"),
]


@dataclass
class Edge:
    client: httpx.AsyncClient
    token: str


@pytest.fixture
async def api(tmp_path, clock):
    """The app in process on an empty migrated SQLite registry: the HTTP edge does not depend
    on the backend or the data (the live-server test below runs on both backends)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'edge.db'}"
    migrate.upgrade(url)
    database = Database.connect(url)
    async with database.session(write=True) as session:
        _, token = await tokens.create_token(session, name="edge", role=Role.ADMIN)
    app = create_app(load_settings(database_url=url), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        yield Edge(client, token)
    await database.dispose()


async def post(api, *, headers: dict | None = None, **request):
    headers = {"Authorization": f"Bearer {api.token}", **(headers or {})}
    return await api.client.post("/graphql", headers=headers, **request)


@pytest.mark.parametrize("case, request_kwargs, status, words", UNPARSABLE, ids=[c[0] for c in UNPARSABLE])
async def test_a_request_that_cannot_be_parsed_is_400_with_a_clear_message(api, case, request_kwargs, status, words):
    response = await post(api, **request_kwargs)
    assert response.status_code == status, response.text
    assert words in response.text


@pytest.mark.parametrize("case, body, words", INVALID, ids=[c[0] for c in INVALID])
async def test_a_document_or_variables_failing_validation_is_200_with_errors_under_application_json(
    api, case, body, words
):
    response = await post(api, json=body, headers={"accept": "application/json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    assert answer.get("data") is None
    assert any(words in error["message"] for error in answer["errors"]), answer["errors"]


@pytest.mark.parametrize("case, body, words", INVALID, ids=[c[0] for c in INVALID])
async def test_the_same_errors_are_400_for_a_client_accepting_graphql_response_json(api, case, body, words):
    response = await post(api, json=body, headers={"accept": "application/graphql-response+json"})
    assert response.status_code == 400, response.text
    answer = response.json()
    assert "data" not in answer
    assert any(words in error["message"] for error in answer["errors"])


async def test_a_body_over_the_configured_limit_is_413(api):
    limit = load_settings().max_body_bytes
    body = json.dumps({"query": "{ viewer { name } }", "variables": {"pad": "x" * limit}})
    response = await post(api, content=body.encode(), headers=JSON)
    assert response.status_code == 413, response.text


async def test_a_mutation_with_bad_input_writes_nothing_and_never_500s(api):
    response = await post(api, json={"query": UPDATE, "variables": {"i": "not an object"}})
    assert response.status_code == 200
    assert "Variable '$i' has invalid value" in response.json()["errors"][0]["message"]


# --- the same edge, on the real server (uvicorn's own HTTP parsing in front) -----------------


LIVE_CASES = [
    ("malformed JSON", b'{"query": ', JSON, 400, "parse request body as JSON"),
    ("an empty body", b"", JSON, 400, "got an empty body"),
    ("a string body", b'"a string"', JSON, 400, "Expected a JSON object"),
    ("text/plain", b'{"query": "{ viewer { name } }"}', {"content-type": "text/plain"}, 400,
     "Unsupported content type"),
    ("over the body limit", json.dumps({"query": "{ viewer { name } }", "variables": {"pad": "x" * 2_000_001}})
     .encode(), JSON, 413, ""),
]


def test_the_live_server_answers_bad_bodies_with_4xx_and_a_clear_message(live_server):
    token = live_server.create_token(Role.VIEWER)
    answers = {}
    for case, content, headers, _, _ in LIVE_CASES:
        response = httpx.post(f"{live_server.base_url}/graphql", content=content, timeout=60.0,
                              headers={"Authorization": f"Bearer {token}", **headers})
        answers[case] = (response.status_code, response.text[:200])
    assert {case: status for case, (status, _) in answers.items()} == {c[0]: c[3] for c in LIVE_CASES}
    assert all(c[4] in answers[c[0]][1] for c in LIVE_CASES), answers
    assert httpx.get(f"{live_server.base_url}/healthz", timeout=60.0).status_code == 200
