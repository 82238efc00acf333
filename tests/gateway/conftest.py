"""API fixtures: the real app over HTTP on a migrated database holding the demo registry.

The apps run the fast path in its strict mode: a read query it steps aside from for a
reason it does not plan for (schema/execution/executor.py UNPLANNED) fails with an internal error."""

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import load_settings
from registry.db import Database, is_sqlite
from registry.enums import Role
from tests.conftest import TEST_CLOCK, demo_registry


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: dict[Role, str]
    database: Database
    app: Any = None

    async def gql(self, query: str, variables: dict | None = None, *, role: Role = Role.ADMIN) -> dict:
        """POST a GraphQL request as `role`; the decoded JSON body, asserting HTTP 200."""
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None, *, role: Role = Role.ADMIN) -> dict:
        body = await self.gql(query, variables, role=role)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
async def api(database_url, clock, templates):
    """The gateway on `database_url`, which for a test using this fixture is a copy of the
    demo registry's template (tests/conftest.py), with the template's token per role."""
    assert clock == TEST_CLOCK, "the demo template was seeded on TEST_CLOCK"
    _, issued = await templates.get("sqlite" if is_sqlite(database_url) else "postgresql", demo_registry)
    database = Database.connect(database_url)
    settings = load_settings(database_url=database_url, fast_path_strict=True)
    app = create_app(settings, database=database, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield Api(client=client, tokens=issued, database=database, app=app)
    await database.dispose()


@pytest.fixture
def tuned(api, clock):
    """Makes an Api over the same demo database whose app has some settings changed:
    `async with tuned(rate_limit_burst=3) as api: ...`."""

    @asynccontextmanager
    async def make(**overrides):
        settings = load_settings(database_url=api.database.url, **{"fast_path_strict": True, **overrides})
        app = create_app(settings, database=api.database, clock=clock)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
            yield Api(client=client, tokens=api.tokens, database=api.database, app=app)

    return make
