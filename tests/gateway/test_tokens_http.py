"""Tokens through HTTP: an expired or revoked token is refused with 401."""

from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import Authenticator
from gateway.settings import load_settings
from registry import tokens
from registry.enums import Role


@pytest.fixture
def gateway(api, clock):
    """The app over the demo database, with the token cache of `auth_cache_seconds`."""

    @asynccontextmanager
    async def make(auth_cache_seconds: float = 0):
        settings = load_settings(database_url=api.database.url, auth_cache_seconds=auth_cache_seconds)
        app = create_app(settings, database=api.database, clock=clock)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
            yield client, app

    return make


async def status_with(client, secret: str) -> int:
    response = await client.post("/graphql", json={"query": "{ viewer { name } }"},
                                 headers={"Authorization": f"Bearer {secret}"})
    return response.status_code


async def new_token(api, **kwargs) -> tuple[int, str]:
    async with api.database.session(write=True) as session:
        token, secret = await tokens.create_token(session, name="http-test", role=Role.VIEWER, **kwargs)
    return token.id, secret


async def revoke(api, id: int) -> None:
    async with api.database.session(write=True) as session:
        await tokens.revoke_token(session, id=id)


async def test_a_revoked_token_is_401_on_the_next_request_without_the_cache(api, gateway):
    id, secret = await new_token(api)
    async with gateway(auth_cache_seconds=0) as (client, _):
        assert await status_with(client, secret) == 200
        await revoke(api, id)
        assert await status_with(client, secret) == 401


async def test_a_revoked_token_is_401_once_the_cache_is_cleared(api, gateway):
    id, secret = await new_token(api)
    async with gateway(auth_cache_seconds=300) as (client, app):
        assert await status_with(client, secret) == 200
        await revoke(api, id)
        assert await status_with(client, secret) == 200  # remembered: at most auth_cache_seconds
        app.state.authenticator.forget()
        assert await status_with(client, secret) == 401


async def test_an_expired_token_is_401(api, gateway, clock):
    _, secret = await new_token(api, expires_at=clock.now() - timedelta(seconds=1))
    async with gateway() as (client, _):
        assert await status_with(client, secret) == 401


async def test_a_token_is_not_remembered_past_its_expiry(api, clock):
    _, secret = await new_token(api, expires_at=clock.now() + timedelta(seconds=2))
    authenticator = Authenticator(api.database, clock, cache_seconds=300)
    assert await authenticator.identify(f"Bearer {secret}")
    assert authenticator._remember_for(clock.now() + timedelta(seconds=2)) == pytest.approx(2)


