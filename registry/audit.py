"""The audit trail: one append-only event per successful write, in the write's transaction.

An event names the actor (the token's name), the action, the entity and its state before
and after as JSON. Personal data in those documents (PERSONAL_FIELDS: a customer's name and
email, a data-subject request's free text) is redacted when read by a role that may not see
it (`redact`); the stored event keeps it, for the privacy officer.

The one exception to append-only is erasure (APPI Art. 35, issue 10 finding 8): when a
DELETION completes, `redact_trail` replaces the personal fields of every earlier event of
that customer and of the customer's requests by the marker, and records that it did so as
an `audit.redact` event. Nothing else of any event ever changes; the database itself
refuses any other UPDATE, and every DELETE (migrations 0002 and 0005).
"""

import json
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.errors import InvalidInput
from registry.models import AuditEvent, Customer, DataSubjectRequest, utcnow
from registry.pages import Page

# Fields holding a customer's personal data, by entity type. A request's free text often
# carries it too (issue 10 finding 14). Migration 0005 holds a frozen copy: a field added
# here needs a new revision before the database lets the erasure redact it.
PERSONAL_FIELDS: dict[str, frozenset[str]] = {
    Customer.__name__: frozenset({"display_name", "email"}),
    DataSubjectRequest.__name__: frozenset({"detail", "note"}),
}
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


def masked(entity_type: str, state: dict[str, Any]) -> dict[str, Any]:
    """`state` with the entity's personal-data fields that hold a value replaced by a marker."""
    fields = PERSONAL_FIELDS.get(entity_type, frozenset())
    return state | {name: REDACTED for name in fields & state.keys() if state[name] is not None}


def redact(entity_type: str, document: str | None) -> str | None:
    """The document with the entity's personal-data fields replaced by a marker."""
    if document is None or entity_type not in PERSONAL_FIELDS:
        return document
    return json.dumps(masked(entity_type, json.loads(document)), ensure_ascii=False, sort_keys=True)


async def redact_trail(session: AsyncSession, *, actor: str, customer: Customer) -> list[int]:
    """Erasure reaches the trail (APPI Art. 35): every earlier event of the customer and of
    the customer's requests keeps its actor, action, time and other fields, and has its
    personal fields replaced by the marker. One `audit.redact` event on the customer, in the
    same transaction, says which events were redacted, never what they held. Returns their
    ids; the caller commits."""
    await session.flush()  # the events this transaction has recorded so far are redacted too
    of_requests = select(DataSubjectRequest.id).where(DataSubjectRequest.customer_id == customer.id)
    stmt = select(AuditEvent).where(sa.or_(
        sa.and_(AuditEvent.entity_type == Customer.__name__, AuditEvent.entity_id == customer.id),
        sa.and_(AuditEvent.entity_type == DataSubjectRequest.__name__, AuditEvent.entity_id.in_(of_requests)),
    ))
    redacted = []
    for event in (await session.exec(stmt.order_by(AuditEvent.id))).all():
        if changes := _redactions(event):
            for name, document in changes.items():
                setattr(event, name, document)
            redacted.append(event.id)
    summary = {"redacted_events": len(redacted), "event_ids": redacted}
    await record(session, actor=actor, action="audit.redact", entity=customer, before=None, after=summary)
    return redacted


def _redactions(event: AuditEvent) -> dict[str, str]:
    """The event's documents that hold personal data, redacted; a document with none is left
    byte for byte as written."""
    changes = {}
    for name in ("before", "after"):
        document = getattr(event, name)
        redacted = redact(event.entity_type, document)
        if document is not None and json.loads(redacted) != json.loads(document):
            changes[name] = redacted
    return changes


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
