"""Masked errors: our bugs reach the client as a request ID, the client's mistakes in full."""

import json
import logging

import httpx
import pytest

from registry import businesses
from registry.enums import Role
from schema.masking import GENERIC_MESSAGE



async def post(api, query: str, variables=None, *, role=Role.VIEWER, headers=None) -> httpx.Response:
    return await api.client.post(
        "/graphql", json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {api.tokens[role]}", **(headers or {})},
    )


def error_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_unexpected_exception_reaches_the_client_as_a_request_id_and_the_log_as_type_and_frames(
        api, monkeypatch, caplog):
    async def broken(session):
        leaked = "postgres://" + "secret@db"  # built here so that the source line does not hold it
        raise RuntimeError(f"connection string {leaked}")

    monkeypatch.setattr(businesses, "list_businesses", broken)
    with caplog.at_level(logging.INFO, logger="pi_gateway"):
        response = await post(api, "{ businesses { code } }", headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["message"] == GENERIC_MESSAGE
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "trace-42"}
    assert "secret" not in response.text
    assert response.headers["x-request-id"] == "trace-42"
    (logged,) = error_records(caplog)
    entry = json.loads(logged.getMessage())
    assert entry["request_id"] == "trace-42"
    assert entry["error"] == "RuntimeError"
    assert "in broken" in entry["traceback"] and "raise RuntimeError" in entry["traceback"]  # the frame that raised
    assert "secret@db" not in logged.getMessage()  # an exception's message may quote input: never logged


@pytest.mark.parametrize(("query", "expected"), [
    ("{ viewer { name }", "Syntax Error"),
    ("{ viewer { nam } }", "Cannot query field 'nam' on type 'Viewer'. Did you mean 'name'?"),
    ('{ customers(filter: {status: SLEEPING}) { totalCount } }', "Value 'SLEEPING' does not exist"),
])
async def test_syntax_and_validation_errors_are_shown_and_not_logged_as_errors(api, caplog, query, expected):
    with caplog.at_level(logging.DEBUG):
        response = await post(api, query)
    assert expected in response.json()["errors"][0]["message"]
    assert "requestId" not in response.json()["errors"][0].get("extensions", {})
    assert error_records(caplog) == []


async def test_a_refused_variable_value_is_shown_not_masked(api, caplog):
    with caplog.at_level(logging.DEBUG):
        response = await post(api, "query ($d: Date) { complianceFindings(asOf: $d) { code } }", {"d": "not-a-date"})
    message = response.json()["errors"][0]["message"]
    assert "$d" in message and message != GENERIC_MESSAGE
    assert error_records(caplog) == []


async def test_our_own_graphql_errors_are_not_masked(api, caplog):
    with caplog.at_level(logging.DEBUG):
        response = await post(api, "{ auditEvents { totalCount } }")
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN" and "may not" in error["message"]
    assert error_records(caplog) == []


async def test_unauthenticated_callers_get_401_and_no_field_suggestions(api):
    response = await api.client.post("/graphql", json={"query": "{ viewer { nam } }"})
    assert response.status_code == 401
    assert "Did you mean" not in response.text and "Cannot query" not in response.text


async def test_introspection_is_on_by_default(api):
    assert (await api.data("{ __schema { queryType { name } } }", role=Role.VIEWER))["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_off_by_setting_refuses_schema_queries_and_suggestions(tuned):
    async with tuned(introspection=False) as api:
        refused = (await post(api, "{ __schema { queryType { name } } }")).json()
        assert "introspection" in refused["errors"][0]["message"].lower()
        typo = (await post(api, "{ viewer { nam } }")).json()
        assert "Did you mean" not in typo["errors"][0]["message"]
        assert (await api.data("{ viewer { role } }", role=Role.VIEWER)) == {"viewer": {"role": "VIEWER"}}
