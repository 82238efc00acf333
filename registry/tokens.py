"""API tokens: who is calling, and in which role (DESIGN.md, Interfaces).

A token is a random secret shown once, when it is created; the registry keeps only its
SHA-256, so a leaked database yields no usable token. A revoked token, or one past its
expiry, authenticates no one. The token's name is the audit actor of what its holder writes.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.enums import Role
from registry.errors import InvalidInput, NotFound
from registry.models import ApiToken, utcnow

PREFIX = "pigw_"
NAME_MAX_LENGTH = 200


def hash_token(secret: str) -> str:
    """The stored form of a secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A fresh secret: 256 random bits, prefixed so it can be recognised (e.g. by secret scanners)."""
    return PREFIX + secrets.token_urlsafe(32)


def _valid_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(
            f"unknown role {role!r}: one of {', '.join(Role)}", field="role"
        ) from None


def _valid_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a token needs a name: it is the audit actor of its writes", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"a token name has at most {NAME_MAX_LENGTH} characters", field="name")
    return name


async def create_token(
    session: AsyncSession, *, name: str, role: Role | str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token and its secret; the secret is not stored and cannot be shown again."""
    name, role = _valid_name(name), _valid_role(role)
    if expires_at is not None and expires_at.tzinfo is None:
        raise InvalidInput("an expiry needs a time zone", field="expiresAt")
    secret = new_secret()
    token = ApiToken(name=name, role=role, token_hash=hash_token(secret), expires_at=expires_at)
    session.add(token)
    await session.commit()
    return token, secret


def is_usable(token: ApiToken, *, now: datetime) -> bool:
    """A token authenticates while it is neither revoked nor past its expiry."""
    if token.revoked_at is not None:
        return False
    return token.expires_at is None or now < token.expires_at


async def authenticate(session: AsyncSession, secret: str, *, now: datetime) -> ApiToken | None:
    """The usable token whose secret this is; None for an unknown, revoked or expired one."""
    if not secret or not secret.startswith(PREFIX):
        return None
    digest = hash_token(secret)
    token = (await session.exec(select(ApiToken).where(ApiToken.token_hash == digest))).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return token if is_usable(token, now=now) else None


async def get_token(session: AsyncSession, id: int) -> ApiToken:
    token = await session.get(ApiToken, id)
    if token is None:
        raise NotFound(f"no token with id {id}", field="id")
    return token


async def revoke_token(session: AsyncSession, *, id: int, now: datetime | None = None) -> ApiToken:
    """Revoke a token for good; revoking it again keeps the first revocation's time."""
    token = await get_token(session, id)
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        await session.commit()
    return token


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    """Every token, oldest first (hashes only: secrets are never stored)."""
    return list(await session.exec(select(ApiToken).order_by(ApiToken.id)))
