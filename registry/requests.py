"""Data-subject requests (seed §8, §10; APPI Art. 33-35).

RECEIVED -> IN_PROGRESS -> COMPLETED | REJECTED. APPI asks for action "without delay" and
fixes no number of days, so the due date is receipt plus a setting (default 14 days). A
completed request takes effect from its resolution date, in the business's time zone.
"""

from collections.abc import Iterable
from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.audit import PERSONAL_FIELDS, masked, record, redact_trail, snapshot
from registry.clock import Clock
from registry.customers import get_customer
from registry.enums import RequestKind, RequestStatus
from registry.errors import InvalidInput, InvalidTransition, NotFound
from registry.models import Customer, DataSubjectRequest
from registry.pages import group_by
from registry.validation import fetch, optional_text, require_member, update_versioned

R = RequestStatus
ALLOWED_TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    R.RECEIVED: frozenset({R.IN_PROGRESS}),
    R.IN_PROGRESS: frozenset({R.COMPLETED, R.REJECTED}),
    R.COMPLETED: frozenset(),
    R.REJECTED: frozenset(),
}
RESOLVED = frozenset({R.COMPLETED, R.REJECTED})


async def submit_request(
    session: AsyncSession,
    *,
    actor: str,
    customer_id: int,
    kind: RequestKind,
    clock: Clock,
    detail: str | None = None,
    due_days: int = 14,
) -> DataSubjectRequest:
    """A request RECEIVED now, due `due_days` days after today."""
    customer = await get_customer(session, customer_id, field="customerId")
    kind = require_member(kind, RequestKind, field="kind")
    if due_days < 0:
        raise InvalidInput("a request cannot be due before it is received", field="dueDays")
    request = DataSubjectRequest(
        customer_id=customer.id,
        kind=kind,
        status=R.RECEIVED,
        detail=optional_text(detail, field="detail", max_length=4000),
        received_at=clock.now(),
        due_on=clock.today() + timedelta(days=due_days),
    )
    session.add(request)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="request.submit",
        entity=request,
        before=None,
        after=snapshot(request),
    )
    await session.commit()
    return request


async def transition_request(
    session: AsyncSession,
    *,
    actor: str,
    id: int,
    to: RequestStatus,
    clock: Clock,
    note: str | None = None,
) -> DataSubjectRequest:
    """Move a request along its lifecycle; resolving it stamps when (and on which local
    date) it took effect."""
    request = await get_request(session, id, lock=True)
    to = require_member(to, RequestStatus, field="to")
    if to not in ALLOWED_TRANSITIONS[R(request.status)]:
        raise InvalidTransition(f"a {request.status} request cannot move to {to}", field="to")
    values = {"status": to}
    if note is not None:
        values["note"] = optional_text(note, field="note", max_length=4000)
    if to in RESOLVED:
        values |= {"resolved_at": clock.now(), "resolved_on": clock.today()}
    before = snapshot(request)
    await update_versioned(session, request, expected_version=request.version, **values)
    await record(
        session,
        actor=actor,
        action="request.transition",
        entity=request,
        before=before,
        after=snapshot(request),
    )
    if to == R.COMPLETED and request.kind == RequestKind.DELETION:
        await _erase_personal_data(session, actor=actor, customer_id=request.customer_id)
    await session.commit()
    return request


async def _erase_personal_data(session: AsyncSession, *, actor: str, customer_id: int) -> None:
    """A completed DELETION (APPI Art. 35) erases the customer's personal data everywhere the
    registry keeps it: the stored name and email, the free text (`detail`, `note`) of every
    request of the customer, this DELETION's included, and the same fields in every earlier
    audit event (`redact_trail`). The held items stop being handled from the resolution
    date (handling resolution).

    The requests themselves stay, with their kind, status and dates: they are the proof
    that the customer asked and was answered in time, and that proof needs no personal data.
    Their free text goes because it often carries the customer's name, address or
    circumstances (issue 10 finding 14), which an erasure that left them would not erase.
    Each erasure is its own audit event, which never repeats what was erased."""
    customer = await get_customer(session, customer_id, lock=True)
    await _erase(session, actor=actor, action="customer.erase", row=customer)
    for request in (await requests_of(session, [customer_id]))[customer_id]:
        if any(getattr(request, name) is not None for name in PERSONAL_FIELDS[DataSubjectRequest.__name__]):
            await _erase(session, actor=actor, action="request.erase", row=request)
    await redact_trail(session, actor=actor, customer=customer)


async def _erase(session: AsyncSession, *, actor: str, action: str, row: Customer | DataSubjectRequest) -> None:
    """Null `row`'s personal fields, with an audit event that shows only that they held a value."""
    entity_type = type(row).__name__
    before = masked(entity_type, snapshot(row))
    erased = dict.fromkeys(PERSONAL_FIELDS[entity_type])
    await update_versioned(session, row, expected_version=row.version, **erased)
    await record(session, actor=actor, action=action, entity=row, before=before, after=snapshot(row))


async def get_request(session: AsyncSession, id: int, *, field: str = "id", lock: bool = False) -> DataSubjectRequest:
    """The request; with `lock`, its row is locked for a write (registry/validation.fetch)."""
    request = await fetch(session, DataSubjectRequest, id, lock=lock)
    if request is None:
        raise NotFound(f"no request {id}", field=field)
    return request


async def requests_of(
    session: AsyncSession, customer_ids: Iterable[int]
) -> dict[int, list[DataSubjectRequest]]:
    """Each customer's requests, newest first."""
    ids = list(customer_ids)
    stmt = (
        select(DataSubjectRequest)
        .where(DataSubjectRequest.customer_id.in_(set(ids)))
        .order_by(DataSubjectRequest.received_at.desc(), DataSubjectRequest.id.desc())
    )
    return group_by(ids, await session.exec(stmt), lambda r: r.customer_id)
