"""Data-subject requests (seed §8, §10; APPI Art. 33-35).

RECEIVED -> IN_PROGRESS -> COMPLETED | REJECTED. APPI asks for action "without delay" and
fixes no number of days, so the due date is receipt plus a setting (default 14 days). A
completed request takes effect from its resolution date, in the business's time zone, and
only for what it names (DESIGN.md "Time"): a STOP_USE the purposes, a DELETION the items, a
STOP_THIRD_PARTY_PROVISION the recipients (each: all when it names none), a CORRECTION the
items it adds and removes. DELETION and CORRECTION change the held items' periods when they
complete; the stops are read by handling resolution from the completed requests.
"""

from collections.abc import Iterable
from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.audit import PERSONAL_FIELDS, masked, record, redact_trail, snapshot
from registry.clock import Clock
from registry.businesses import MAX_CODES, resolve_item_codes, resolve_purpose_codes
from registry.customers import change_items, get_customer, held_items
from registry.enums import RequestKind, RequestScope, RequestStatus
from registry.errors import InvalidInput, InvalidTransition, NotFound, raise_all, RegistryError
from registry.models import (
    Customer,
    DataItem,
    DataSubjectRequest,
    Provision,
    RequestTarget,
    ThirdPartyRecipient,
)
from registry.lookup import rows_by_ids
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
    purpose_codes: Iterable[str] = (),
    data_item_codes: Iterable[str] = (),
    recipient_ids: Iterable[int] = (),
    add_data_item_codes: Iterable[str] = (),
    remove_data_item_codes: Iterable[str] = (),
) -> DataSubjectRequest:
    """A request RECEIVED now, due `due_days` days after today, scoped to what it names: a
    STOP_USE's purposes, a DELETION's items, a STOP_THIRD_PARTY_PROVISION's recipients, a
    CORRECTION's items to add and remove (naming what another kind cannot take is
    INVALID_INPUT)."""
    customer = await get_customer(session, customer_id, field="customerId")
    kind = require_member(kind, RequestKind, field="kind")
    if due_days < 0:
        raise InvalidInput("a request cannot be due before it is received", field="dueDays")
    targets = await _targets(session, customer, kind, purpose_codes=list(purpose_codes),
                             data_item_codes=list(data_item_codes), recipient_ids=list(recipient_ids),
                             add_codes=list(add_data_item_codes), remove_codes=list(remove_data_item_codes))
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
    session.add_all([RequestTarget(request_id=request.id, scope=scope, target_id=target.id)
                     for scope, target in targets])
    await session.flush()
    named: dict[str, list] = {}
    for scope, target in targets:
        named.setdefault(f"{scope.lower()}s", []).append(getattr(target, "code", None) or target.id)
    await record(
        session,
        actor=actor,
        action="request.submit",
        entity=request,
        before=None,
        after=snapshot(request, **named),
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
    if to == R.COMPLETED:
        await _take_effect(session, actor=actor, request=request)
    await session.commit()
    return request


# which scopes each kind may name, and the input field that names each
_SCOPES = {
    RequestKind.STOP_USE: {RequestScope.PURPOSE: "purposeCodes"},
    RequestKind.DELETION: {RequestScope.DATA_ITEM: "dataItemCodes"},
    RequestKind.STOP_THIRD_PARTY_PROVISION: {RequestScope.RECIPIENT: "recipientIds"},
    RequestKind.CORRECTION: {RequestScope.ADD_DATA_ITEM: "addDataItemCodes",
                             RequestScope.REMOVE_DATA_ITEM: "removeDataItemCodes"},
    RequestKind.DISCLOSURE: {},
}


async def _targets(session: AsyncSession, customer: Customer, kind: RequestKind, *, purpose_codes, data_item_codes,
                   recipient_ids, add_codes, remove_codes) -> list[tuple[RequestScope, object]]:
    given = {RequestScope.PURPOSE: purpose_codes, RequestScope.DATA_ITEM: data_item_codes,
             RequestScope.RECIPIENT: recipient_ids, RequestScope.ADD_DATA_ITEM: add_codes,
             RequestScope.REMOVE_DATA_ITEM: remove_codes}
    fields = {RequestScope.PURPOSE: "purposeCodes", RequestScope.DATA_ITEM: "dataItemCodes",
              RequestScope.RECIPIENT: "recipientIds", RequestScope.ADD_DATA_ITEM: "addDataItemCodes",
              RequestScope.REMOVE_DATA_ITEM: "removeDataItemCodes"}
    allowed = _SCOPES[kind]
    problems: list[RegistryError] = [
        InvalidInput(f"a {kind} request does not take {fields[scope]}", field=fields[scope])
        for scope, values in given.items() if values and scope not in allowed
    ]
    found: list[tuple[RequestScope, object]] = []
    for scope, field in allowed.items():
        values = list(dict.fromkeys(given[scope]))
        if not values:
            continue
        try:
            if scope is RequestScope.PURPOSE:
                rows = await resolve_purpose_codes(session, customer.business_id, values, field=field)
            elif scope is RequestScope.RECIPIENT:
                rows = await _recipients_of_business(session, customer.business_id, values, field=field)
            else:
                rows = await resolve_item_codes(session, customer.business_id, values, field=field)
        except RegistryError as problem:
            problems.append(problem)
            continue
        found += [(scope, row) for row in rows]
    if kind is RequestKind.CORRECTION:
        both = {t.id for s, t in found if s is RequestScope.ADD_DATA_ITEM} & {
            t.id for s, t in found if s is RequestScope.REMOVE_DATA_ITEM}
        if both:
            problems.append(InvalidInput("a correction cannot both add and remove one item",
                                         field="removeDataItemCodes"))
    raise_all(problems)
    return found


async def _recipients_of_business(session: AsyncSession, business_id: int, ids: list[int], *, field: str
                                  ) -> list[ThirdPartyRecipient]:
    """The recipients named, each one the business provides (or provided) data to."""
    if len(ids) > MAX_CODES:
        raise InvalidInput(f"{field} names {len(ids):,} recipients; at most {MAX_CODES} are allowed", field=field)
    rows = (await session.exec(select(ThirdPartyRecipient).where(
        ThirdPartyRecipient.id.in_(ids),
        ThirdPartyRecipient.id.in_(select(Provision.recipient_id).where(Provision.business_id == business_id)),
    ))).all()
    found = {r.id: r for r in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"no recipient of this business with id {', '.join(map(str, missing))}", field=field)
    return [found[i] for i in ids]


async def targets_of(session: AsyncSession, request_ids: Iterable[int]) -> dict[int, list[RequestTarget]]:
    ids = list(request_ids)
    stmt = select(RequestTarget).where(RequestTarget.request_id.in_(set(ids)))
    return group_by(ids, await session.exec(stmt.order_by(RequestTarget.scope, RequestTarget.target_id)),
                    lambda t: t.request_id)


async def _take_effect(session: AsyncSession, *, actor: str, request: DataSubjectRequest) -> None:
    """What a completed DELETION or CORRECTION changes, from its resolution date: the held
    items' periods; a DELETION of every item also erases the customer's personal data."""
    if request.kind not in (RequestKind.DELETION, RequestKind.CORRECTION):
        return
    customer = await get_customer(session, request.customer_id, lock=True)
    named = (await targets_of(session, [request.id]))[request.id]

    async def items(scope: RequestScope) -> list[DataItem]:
        found = await rows_by_ids(session, DataItem, [t.target_id for t in named if t.scope == scope])
        return [found[key] for key in sorted(found)]

    day = request.resolved_on
    if request.kind == RequestKind.CORRECTION:
        await change_items(session, customer, add=await items(RequestScope.ADD_DATA_ITEM),
                           remove=await items(RequestScope.REMOVE_DATA_ITEM), effective_on=day)
        return
    deleted = await items(RequestScope.DATA_ITEM)
    if not deleted:  # names none: every item held that day, and the personal data itself
        held = (await held_items(session, [customer.id], as_of=day))[customer.id]
        await change_items(session, customer, add=[], remove=held, effective_on=day)
        await _erase_personal_data(session, actor=actor, customer_id=request.customer_id)
        return
    await change_items(session, customer, add=[], remove=deleted, effective_on=day)


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
