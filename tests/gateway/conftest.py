"""API fixtures: the real app over HTTP on a migrated database holding the demo registry."""

from dataclasses import dataclass

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import load_settings
from registry import migrate, tokens
from registry.db import Database
from registry.demo import seed_demo
from registry.enums import Role


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: dict[Role, str]
    database: Database

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
async def api(database_url, clock):
    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    async with database.session(write=True) as session:
        assert await seed_demo(session, clock=clock)
        issued = {role: (await tokens.create_token(session, name=f"test-{role.lower()}", role=role))[1] for role in Role}
    settings = load_settings(database_url=database_url)
    app = create_app(settings, database=database, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield Api(client=client, tokens=issued, database=database)
    await database.dispose()
