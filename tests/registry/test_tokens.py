from datetime import timedelta

import pytest
from sqlmodel import select

from registry.enums import Role
from registry.errors import InvalidInput, NotFound
from registry.models import ApiToken
from registry.tokens import (
    PREFIX,
    authenticate,
    create_token,
    hash_token,
    list_tokens,
    revoke_token,
)
from tests.conftest import FIXED_NOW


async def test_a_token_authenticates_its_holder_with_its_role(session):
    token, secret = await create_token(session, name="ops", role=Role.VENDOR_MANAGER)
    found = await authenticate(session, secret, now=FIXED_NOW)
    assert found is not None
    assert (found.id, found.name, found.role) == (token.id, "ops", Role.VENDOR_MANAGER)


async def test_only_the_hash_of_the_secret_is_stored(session):
    token, secret = await create_token(session, name="ops", role="VIEWER")
    assert secret.startswith(PREFIX) and len(secret) > len(PREFIX) + 40
    stored = (await session.exec(select(ApiToken))).one()
    assert stored.token_hash == hash_token(secret) != secret
    assert secret not in stored.model_dump_json()


async def test_each_token_gets_its_own_secret(session):
    _, first = await create_token(session, name="a", role=Role.VIEWER)
    _, second = await create_token(session, name="a", role=Role.VIEWER)
    assert first != second


@pytest.mark.parametrize("secret", ["", "pigw_wrong", "not-even-prefixed", "Bearer pigw_x"])
async def test_an_unknown_secret_authenticates_no_one(session, secret):
    await create_token(session, name="ops", role=Role.ADMIN)
    assert await authenticate(session, secret, now=FIXED_NOW) is None


async def test_a_revoked_token_authenticates_no_one(session):
    token, secret = await create_token(session, name="ops", role=Role.ADMIN)
    await revoke_token(session, id=token.id, now=FIXED_NOW)
    assert await authenticate(session, secret, now=FIXED_NOW - timedelta(days=1)) is None


async def test_revoking_twice_keeps_the_first_revocation(session):
    token, _ = await create_token(session, name="ops", role=Role.ADMIN)
    await revoke_token(session, id=token.id, now=FIXED_NOW)
    again = await revoke_token(session, id=token.id, now=FIXED_NOW + timedelta(days=3))
    assert again.revoked_at == FIXED_NOW


async def test_a_token_authenticates_until_its_expiry_and_not_from_then(session):
    expiry = FIXED_NOW + timedelta(days=30)
    _, secret = await create_token(session, name="ops", role=Role.VIEWER, expires_at=expiry)
    assert await authenticate(session, secret, now=expiry - timedelta(seconds=1)) is not None
    assert await authenticate(session, secret, now=expiry) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
async def test_a_token_needs_a_sensible_name(session, name):
    with pytest.raises(InvalidInput) as raised:
        await create_token(session, name=name, role=Role.VIEWER)
    assert raised.value.field == "name"
    assert await list_tokens(session) == []


async def test_a_token_needs_a_known_role(session):
    with pytest.raises(InvalidInput) as raised:
        await create_token(session, name="ops", role="SUPERUSER")
    assert raised.value.field == "role"
    assert await list_tokens(session) == []


async def test_an_expiry_without_a_time_zone_is_refused(session):
    with pytest.raises(InvalidInput) as raised:
        await create_token(session, name="ops", role=Role.VIEWER, expires_at=FIXED_NOW.replace(tzinfo=None))
    assert raised.value.field == "expiresAt"


async def test_revoking_an_unknown_token_is_not_found(session):
    with pytest.raises(NotFound):
        await revoke_token(session, id=999)


async def test_tokens_are_listed_oldest_first_with_their_state(session):
    first, _ = await create_token(session, name="first", role=Role.VIEWER)
    await create_token(session, name="second", role=Role.ADMIN)
    await revoke_token(session, id=first.id, now=FIXED_NOW)
    listed = await list_tokens(session)
    assert [(t.name, t.role, t.revoked_at) for t in listed] == [
        ("first", Role.VIEWER, FIXED_NOW),
        ("second", Role.ADMIN, None),
    ]
