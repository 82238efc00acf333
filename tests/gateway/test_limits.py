"""Request limits: each abuse gets its own clear error, never a 500, and the server keeps answering.

Defaults (gateway/settings.py): depth 15, 50 aliases, 2,000 tokens (DESIGN allows up to 10,000), a
document of 16,384 characters, 2 MB body, 10 s
execution, pages of at most 1000, 600 requests a minute per token in bursts of 100.
"""

import asyncio

import pytest

from gateway.limits import RateLimiter
from gateway.settings import load_settings
from registry import businesses
from registry.enums import Role



def error_of(body: dict) -> dict:
    assert body.get("data") is None, body
    (error,) = body["errors"]
    return error


async def still_answers(api, role=Role.VIEWER):
    assert (await api.data("{ viewer { role } }", role=role))["viewer"]["role"] == role.value


def nested_parents(depth: int) -> str:
    return "{ subcontractors { edges { node { " + "parent { " * depth + "name" + " }" * depth + " } } } }"


async def test_a_query_deeper_than_the_limit_is_refused(api):
    error = error_of(await api.gql(nested_parents(20)))
    assert "exceeds maximum operation depth of 15" in error["message"]
    await still_answers(api)


async def test_a_query_at_the_depth_limit_runs(api):
    assert "errors" not in await api.gql(nested_parents(10))


async def test_more_aliases_than_the_limit_are_refused(api):
    flood = "{ " + " ".join(f"a{i}: __typename" for i in range(51)) + " }"
    error = error_of(await api.gql(flood))
    assert "aliases found. Allowed: 50" in error["message"]
    await still_answers(api)


async def test_a_document_with_more_tokens_than_the_limit_is_refused(api):
    flood = "{ " + "a " * 2_001 + "}"
    error = error_of(await api.gql(flood))
    assert "more than 2000 tokens" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    await still_answers(api)


async def test_a_body_over_the_limit_is_413(api):
    response = await api.client.post(
        "/graphql", content=b'{"query": "{ __typename }", "pad": "' + b"x" * 2_000_001 + b'"}',
        headers={"Authorization": f"Bearer {api.tokens[Role.VIEWER]}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    await still_answers(api)


async def test_a_page_larger_than_the_maximum_is_refused(api):
    body = await api.gql("{ subcontractors(first: 5000) { totalCount } }")
    assert body["errors"] and "first" in body["errors"][0]["message"]
    await still_answers(api)


async def test_an_operation_over_the_execution_timeout_is_cancelled_with_a_clear_error(tuned, monkeypatch):
    async def never_answers(session):
        await asyncio.sleep(60)

    monkeypatch.setattr(businesses, "list_businesses", never_answers)
    async with tuned(execution_timeout_seconds=0.2) as api:
        error = error_of(await api.gql("{ businesses { code } }"))
        assert error["extensions"]["code"] == "TIMEOUT"
        assert "longer than 0.2 s" in error["message"]
        await still_answers(api)


async def test_a_token_over_its_rate_limit_gets_429_with_retry_after(tuned):
    async with tuned(rate_limit_burst=3, rate_limit_per_minute=1) as api:
        for _ in range(3):
            await still_answers(api)
        response = await api.client.post(
            "/graphql", json={"query": "{ viewer { role } }"},
            headers={"Authorization": f"Bearer {api.tokens[Role.VIEWER]}"},
        )
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED" and "retry" in error["message"]
        await still_answers(api, Role.ADMIN)  # other tokens are not affected


def test_a_bucket_refills_at_the_configured_rate():
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, now=lambda: now[0])
    assert [limiter.acquire("t") for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire("t") == pytest.approx(1.0)
    now[0] = 1.0
    assert limiter.acquire("t") == 0.0


async def test_the_defaults_are_no_looser_than_design():
    settings = load_settings(database_url="sqlite+aiosqlite:///x.db")
    assert (settings.max_depth, settings.max_aliases) == (15, 50) and settings.max_tokens <= 10_000
    assert settings.max_body_bytes == 2_000_000 and settings.execution_timeout_seconds == 10.0
    assert (settings.rate_limit_per_minute, settings.rate_limit_burst) == (600, 100)
