"""The audit trail: one append-only event per successful write, in the write's transaction.

An event names the actor (the token's name), the action, the entity and its state before
and after as JSON. Personal data in those documents is redacted when read by a role that
may not see it (`redact`); the stored event keeps it, for the privacy officer.
"""

import json
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.errors import InvalidInput
from registry.models import AuditEvent, utcnow
from registry.pages import Page

# Fields holding a customer's personal data, by entity type.
PERSONAL_FIELDS: dict[str, frozenset[str]] = {"Customer": frozenset({"display_name", "email"})}
REDACTED = "[redacted]"
MAX_PAGE = 1000


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def snapshot(row: SQLModel, **extra: Any) -> dict[str, Any]:
    """A JSON-ready picture of a row's columns, plus any related facts passed in `extra`."""
    state = {c.key: _plain(getattr(row, c.key)) for c in sa.inspect(type(row)).columns}
    state.update({k: _plain(v) for k, v in extra.items()})
    return state


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    entity: SQLModel,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEvent:
    """Append one event for `entity` to the session's transaction; the caller commits."""
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        action=action,
        entity_type=type(entity).__name__,
        entity_id=entity.id,
        before=None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True),
        after=None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True),
    )
    session.add(event)
    return event


def redact(entity_type: str, document: str | None) -> str | None:
    """The document with the entity's personal-data fields replaced by a marker."""
    fields = PERSONAL_FIELDS.get(entity_type)
    if document is None or not fields:
        return document
    data = json.loads(document)
    for name in fields & data.keys():
        if data[name] is not None:
            data[name] = REDACTED
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


async def list_events(
    session: AsyncSession,
    *,
    first: int,
    before_id: int | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
):
    """Events newest first; `before_id` is the last id of the previous page."""
    if not 0 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}", field="first")
    where = []
    if entity_type is not None:
        where += [AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id]
    total = (await session.exec(select(func.count()).select_from(AuditEvent).where(*where))).one()
    stmt = select(AuditEvent).where(*where)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    rows = list((await session.exec(stmt.order_by(AuditEvent.id.desc()).limit(first + 1))).all())
    return Page(items=rows[:first], has_next=len(rows) > first, total=total)
