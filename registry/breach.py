"""Breach impact: whose data a leak at one party touches, and whether APPI Art. 26 makes it
reportable to the Personal Information Protection Commission.

The affected customers are those whose held items the party handles today, by the very
rules of handling resolution (registry/handling.py). The counting happens in the database:
customers are grouped by their profile (which of the party's relevant items they hold,
whether they are cancelled), after dropping those a completed DELETION or STOP_USE (and,
for a third party, STOP_THIRD_PARTY_PROVISION) leaves handled by nobody. The rules then run
once per profile, never once per customer, so a million customers cost one grouped query.

`data_items` are the items the party handles today for at least one affected customer
(within `data_item_codes` when given): an item nobody holds leaks nobody's data.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.enums import CustomerStatus, RequestKind, RequestStatus, Sensitivity
from registry.errors import NotFound
from registry.handling import (
    BusinessContext, BusinessContexts, CustomerState, derive_handlings, handled_by, load_business_context,
)
from registry.models import (
    Business, Contract, Customer, CustomerDataItem, DataItem, DataSubjectRequest, Provision,
    Subcontractor, ThirdPartyRecipient,
)

REPORTABLE_HEADCOUNT = 1000  # APPI Rules Art. 7(iv): more than 1,000 people
_BITS_PER_MASK = 30  # a mask stays a 32-bit integer on every backend


@dataclass(frozen=True)
class BreachImpact:
    party: Business | Subcontractor | ThirdPartyRecipient
    data_items: list[DataItem]
    affected_customers: int
    reportable: bool
    reasons: list[str]


async def breach_impact(session: AsyncSession, *, party: Business | Subcontractor | ThirdPartyRecipient,
                        today: date, data_item_codes: list[str] | None = None,
                        contexts: BusinessContexts | None = None) -> BreachImpact:
    """The customers whose held items `party` handles today (optionally only these items),
    and whether a leak there must be reported under APPI Art. 26."""
    found = [await load_business_context(session, b, contexts) for b in await _businesses_of(session, party)]
    _check_codes(found, data_item_codes)
    affected, items = 0, {}
    for ctx in found:
        restrict = _restriction(ctx, data_item_codes)
        for state, count in await _profiles(session, ctx, party, today, restrict):
            handled = _handled_items(ctx, party, state, today) & restrict
            if handled:
                affected += count
                items.update({i: ctx.items[i] for i in handled})
    data_items = [items[i] for i in sorted(items)]
    reasons = reportable_reasons(data_items, affected)
    return BreachImpact(party, data_items, affected, bool(reasons), reasons)


def reportable_reasons(data_items: list[DataItem], affected: int) -> list[str]:
    """Why APPI Art. 26 / Rules Art. 7 requires a report; empty when it does not."""
    reasons = []
    special = [i.name for i in data_items if i.sensitivity == Sensitivity.SPECIAL_CARE]
    financial = [i.name for i in data_items if i.sensitivity == Sensitivity.FINANCIAL]
    if special:
        reasons.append(f"SPECIAL_CARE items: {', '.join(special)} (special care-required personal "
                       "information, APPI Art. 26 / Rules Art. 7(i))")
    if financial:
        reasons.append(f"FINANCIAL items: {', '.join(financial)} (risk of property damage, "
                       "APPI Art. 26 / Rules Art. 7(ii))")
    if affected > REPORTABLE_HEADCOUNT:
        reasons.append(f"{affected:,} people affected (more than {REPORTABLE_HEADCOUNT:,}, "
                       "APPI Art. 26 / Rules Art. 7(iv))")
    return reasons


async def _businesses_of(session: AsyncSession, party) -> list[Business]:
    """The businesses on whose behalf the party may handle personal data."""
    if isinstance(party, Business):
        return [party]
    if isinstance(party, Subcontractor):
        ids = select(Contract.business_id).where(Contract.subcontractor_id == party.id)
    else:
        ids = select(Provision.business_id).where(Provision.recipient_id == party.id, Provision.active.is_(True))
    return list((await session.exec(select(Business).where(Business.id.in_(ids)).order_by(Business.id))).all())


def _check_codes(contexts: list[BusinessContext], codes: list[str] | None) -> None:
    if not codes or not contexts:
        return
    known = {i.code for ctx in contexts for i in ctx.items.values()}
    unknown = sorted(set(codes) - known)
    if unknown:
        raise NotFound(f"Unknown data item codes: {', '.join(unknown)}", field="dataItemCodes")


def _restriction(ctx: BusinessContext, codes: list[str] | None) -> frozenset[int]:
    return frozenset(i.id for i in ctx.items.values() if codes is None or i.code in codes)


def _relevant_items(ctx: BusinessContext, party, restrict: frozenset[int]) -> list[int]:
    """The items whose holding can change what the party handles (its chain's included)."""
    if isinstance(party, Business):
        return sorted(restrict)
    if isinstance(party, Subcontractor):
        sets = ctx.contract_items.values()
    else:
        sets = [ctx.provision_items.get(p.id, frozenset()) for p in ctx.provisions if p.recipient_id == party.id]
    return sorted(frozenset().union(*sets))


def _handled_items(ctx: BusinessContext, party, state: CustomerState, today: date) -> frozenset[int]:
    return frozenset(
        item.id for h in derive_handlings(ctx, state, today)
        if not h.excluded and handled_by(h, party) for item in h.data_items
    )


def _cancelled_by(today: date):
    """SQL twin of handling.is_cancelled_on."""
    return sa.or_(
        sa.and_(Customer.cancelled_on.is_not(None), Customer.cancelled_on <= today),
        sa.and_(Customer.cancelled_on.is_(None), Customer.status == CustomerStatus.CANCELLED),
    )


def _handled_by_nobody(today: date, party):
    kinds = [RequestKind.DELETION, RequestKind.STOP_USE]
    if isinstance(party, ThirdPartyRecipient):
        kinds.append(RequestKind.STOP_THIRD_PARTY_PROVISION)
    return sa.exists().where(
        DataSubjectRequest.customer_id == Customer.id, DataSubjectRequest.kind.in_(kinds),
        DataSubjectRequest.status == RequestStatus.COMPLETED, DataSubjectRequest.resolved_on <= today,
    )


async def _profiles(session: AsyncSession, ctx: BusinessContext, party, today: date,
                    restrict: frozenset[int]) -> list[tuple[CustomerState, int]]:
    """Each distinct (relevant items held, cancelled) profile among the business's customers
    that someone could still handle, with how many customers share it."""
    ids = _relevant_items(ctx, party, restrict)
    if not ids:
        return []
    chunks = [ids[n:n + _BITS_PER_MASK] for n in range(0, len(ids), _BITS_PER_MASK)]
    masks = [
        sa.func.sum(sa.case({item: 1 << bit for bit, item in enumerate(chunk)},
                            value=CustomerDataItem.data_item_id, else_=0)).label(f"m{n}")
        for n, chunk in enumerate(chunks)
    ]
    per_customer = (
        select(sa.case((_cancelled_by(today), 1), else_=0).label("cancelled"), *masks)
        .select_from(Customer).join(CustomerDataItem, CustomerDataItem.customer_id == Customer.id)
        .where(Customer.business_id == ctx.business.id, CustomerDataItem.data_item_id.in_(ids),
               ~_handled_by_nobody(today, party))
        .group_by(Customer.id, Customer.status, Customer.cancelled_on)
    ).subquery()
    columns = [per_customer.c.cancelled, *(per_customer.c[f"m{n}"] for n in range(len(chunks)))]
    rows = (await session.exec(select(*columns, sa.func.count()).group_by(*columns))).all()
    return [(_state(ctx, chunks, row), row[-1]) for row in rows]


def _state(ctx: BusinessContext, chunks: list[list[int]], row) -> CustomerState:
    cancelled, *masks = row[:-1]
    held = frozenset(
        item for chunk, mask in zip(chunks, masks)
        for bit, item in enumerate(chunk) if int(mask) >> bit & 1
    )
    permitted = ctx.after_cancellation_purposes() if cancelled else frozenset(ctx.purposes)
    return CustomerState(held=held, permitted=permitted)
