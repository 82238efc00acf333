"""Breach impact: whose data a leak at one party touches, and whether APPI Art. 26 makes it
reportable to the Personal Information Protection Commission (DESIGN.md "Breach impact").

A leak exposes what the party *holds*, not only what it may still use: a customer's held
items that the party was given, whatever the use limits (data under a STOP_USE is still
held). The business holds every item its customers hold; a subcontractor holds what the
entrustments of a contract that has been ACTIVE gave it, until the contract's data return
is recorded (`data_returned_on`): a contract that ended without one, or an entrustment that
was removed, still left the data there; a re-entrusted one holds at most what its parent
holds. A recipient holds what the provisions in effect give it. Of the affected customers,
`customers_in_use` are those the party still handles by the rules of handling resolution
(registry/handling.py).

The counting happens in the database: customers are grouped by their profile (which of the
party's relevant items they hold, whether they are cancelled); the few with a completed
STOP_USE or STOP_THIRD_PARTY_PROVISION are read one by one, with what their requests named.
The rules then run once per distinct state, never once per customer, so a million customers
cost two queries.

Reportability follows the PPC Rules, Art. 7, each reason naming its rule: (i) a SPECIAL_CARE
item; (ii) an item whose leak risks property damage (`property_damage_risk`, not every
FINANCIAL item: an amount alone is not); (iii) a malicious cause; (iv) more than 1,000 people.
Given the day the breach was discovered, the report dates follow (Rules Art. 8): the
preliminary report promptly, within 5 days; the final one within 30 days, 60 under (iii).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.enums import BreachCause, ContractStatus, RequestKind, RequestStatus, Sensitivity
from registry.businesses import MAX_CODES, SHOWN_CODES
from registry.errors import InvalidInput, NotFound
from registry.handling import (
    BusinessContext, BusinessContexts, CustomerState, completed_stops, customer_state, derive_handlings, handled_by,
    load_business_context,
)
from registry.models import (
    Business, Contract, Customer, CustomerDataItem, DataItem, DataSubjectRequest, Provision, Subcontractor, ThirdPartyRecipient,
)
from registry.periods import in_effect

REPORTABLE_HEADCOUNT = 1000  # PPC Rules Art. 7(iv): more than 1,000 people
PRELIMINARY_REPORT_DAYS = 5  # PPC Rules Art. 8(1): "promptly", in practice within 3 to 5 days
FINAL_REPORT_DAYS = 30  # PPC Rules Art. 8(2)
FINAL_REPORT_DAYS_MALICIOUS = 60  # PPC Rules Art. 8(2), for a case under Art. 7(iii)
_BITS_PER_MASK = 30  # a mask stays a 32-bit integer on every backend
_STOPS = (RequestKind.STOP_USE, RequestKind.STOP_THIRD_PARTY_PROVISION)


@dataclass(frozen=True)
class BreachImpact:
    party: Business | Subcontractor | ThirdPartyRecipient
    data_items: list[DataItem]  # the items it holds for at least one affected customer
    affected_customers: int  # customers whose items it holds
    customers_in_use: int  # of those, the ones whose data it still handles
    reportable: bool
    reasons: list[str]
    cause: BreachCause = BreachCause.UNKNOWN
    discovered_on: date | None = None
    preliminary_report_due_on: date | None = None
    final_report_due_on: date | None = None


async def breach_impact(session: AsyncSession, *, party: Business | Subcontractor | ThirdPartyRecipient,
                        today: date, data_item_codes: list[str] | None = None,
                        cause: BreachCause = BreachCause.UNKNOWN, discovered_on: date | None = None,
                        contexts: BusinessContexts | None = None) -> BreachImpact:
    """The customers whose items `party` holds today (optionally only these items), how many
    of them it still uses, and whether a leak there must be reported under APPI Art. 26."""
    found = [await load_business_context(session, b, contexts) for b in await _businesses_of(session, party)]
    _check_codes(found, data_item_codes)
    affected = in_use = 0
    items: dict[int, DataItem] = {}
    for ctx in found:
        restrict = _restriction(ctx, data_item_codes)
        holds = _held_by_party(ctx, party, today) & restrict
        derived: dict[CustomerState, bool] = {}
        for state, count in await _states(session, ctx, party, today, holds):
            exposed = state.held & holds
            if not exposed:
                continue
            affected += count
            items.update({i: ctx.items[i] for i in exposed})
            if state not in derived:
                derived[state] = bool(_handled_items(ctx, party, state, today) & restrict)
            in_use += count if derived[state] else 0
    data_items = [items[i] for i in sorted(items)]
    reasons = reportable_reasons(data_items, affected, cause)
    preliminary, final = report_due_dates(reasons, cause, discovered_on)
    return BreachImpact(party, data_items, affected, in_use, bool(reasons), reasons, cause, discovered_on,
                        preliminary, final)


def reportable_reasons(data_items: list[DataItem], affected: int,
                       cause: BreachCause = BreachCause.UNKNOWN) -> list[str]:
    """Why APPI Art. 26 and PPC Rules Art. 7 require a report, each naming its rule; empty
    when they do not. A leak that touches nobody's data is no leak of personal data."""
    if not affected:
        return []
    reasons = []
    special = [i.name for i in data_items if i.sensitivity == Sensitivity.SPECIAL_CARE]
    damaging = [i.name for i in data_items if i.property_damage_risk]
    if special:
        reasons.append(f"PPC Rules Art. 7(i): special care-required personal information: {', '.join(special)}")
    if damaging:
        reasons.append(f"PPC Rules Art. 7(ii): risk of property damage: {', '.join(damaging)}")
    if cause == BreachCause.MALICIOUS:
        reasons.append("PPC Rules Art. 7(iii): malicious act (unauthorised access, theft)")
    if affected > REPORTABLE_HEADCOUNT:
        reasons.append(f"PPC Rules Art. 7(iv): {affected:,} people affected (more than {REPORTABLE_HEADCOUNT:,})")
    return reasons


def report_due_dates(reasons: list[str], cause: BreachCause,
                     discovered_on: date | None) -> tuple[date | None, date | None]:
    """The preliminary and final report dates, counted from the discovery; none when the
    breach is not reportable or the discovery date is unknown."""
    if not reasons or discovered_on is None:
        return None, None
    final = FINAL_REPORT_DAYS_MALICIOUS if cause == BreachCause.MALICIOUS else FINAL_REPORT_DAYS
    return discovered_on + timedelta(days=PRELIMINARY_REPORT_DAYS), discovered_on + timedelta(days=final)


async def _businesses_of(session: AsyncSession, party) -> list[Business]:
    """The businesses on whose behalf the party may hold personal data."""
    if isinstance(party, Business):
        return [party]
    if isinstance(party, Subcontractor):
        ids = select(Contract.business_id).where(Contract.subcontractor_id == party.id)
    else:
        ids = select(Provision.business_id).where(Provision.recipient_id == party.id)
    return list((await session.exec(select(Business).where(Business.id.in_(ids)).order_by(Business.id))).all())


def _check_codes(contexts: list[BusinessContext], codes: list[str] | None) -> None:
    if not codes or not contexts:
        return
    if len(set(codes)) > MAX_CODES:
        raise InvalidInput(f"dataItemCodes names {len(set(codes)):,} codes; at most {MAX_CODES} are allowed",
                           field="dataItemCodes")
    known = {i.code for ctx in contexts for i in ctx.items.values()}
    unknown = sorted(set(codes) - known)
    if unknown:
        more = f" and {len(unknown) - SHOWN_CODES:,} more" if len(unknown) > SHOWN_CODES else ""
        raise NotFound(f"Unknown data item codes: {', '.join(unknown[:SHOWN_CODES])}{more}", field="dataItemCodes")


def _restriction(ctx: BusinessContext, codes: list[str] | None) -> frozenset[int]:
    return frozenset(i.id for i in ctx.items.values() if codes is None or i.code in codes)


# --- What the party holds --------------------------------------------------------------


def _held_by_party(ctx: BusinessContext, party, day: date) -> frozenset[int]:
    """The items the party holds on `day` for whichever customer holds them."""
    if isinstance(party, Business):
        return frozenset(ctx.items)
    if isinstance(party, Subcontractor):
        return _held_by_subcontractor(ctx, party.id, day, frozenset())
    return frozenset().union(*(ctx.provision_items.get(p.id, frozenset()) for p in ctx.provisions_on(day)
                               if p.recipient_id == party.id))


def _held_by_subcontractor(ctx: BusinessContext, sub_id: int, day: date, seen: frozenset[int]) -> frozenset[int]:
    """What the subcontractor's contracts gave it and it has not returned; a re-entrusted one
    got its data through its parent, so at most what the parent holds."""
    held = frozenset().union(*(_held_under(ctx, c, day) for c in ctx.contracts if c.subcontractor_id == sub_id))
    sub = ctx.subcontractors.get(sub_id)
    parent_id = sub.parent_id if sub is not None else None
    if parent_id is None:
        return held
    if parent_id in seen or parent_id not in ctx.subcontractors:  # a cycle or a parent without contract
        return frozenset()
    return held & _held_by_subcontractor(ctx, parent_id, day, seen | {sub_id})


_IN_USE_ONCE = (ContractStatus.ACTIVE, ContractStatus.SUSPENDED)  # a suspended contract was active before


def _held_under(ctx: BusinessContext, contract: Contract, day: date) -> frozenset[int]:
    """The items a contract's entrustments begun by `day` gave, once the contract was in use
    (ACTIVE, or SUSPENDED: active before) on or before `day`, until the data's return is
    recorded; a contract never put to use gave nothing."""
    if contract.data_returned_on is not None and contract.data_returned_on <= day:
        return frozenset()
    changes = ctx.history.get(contract.id, [])
    if not any(c.status in _IN_USE_ONCE and c.effective_on <= day for c in changes):
        return frozenset()
    given = [e.items for e in ctx.entrusted.get(contract.id, ()) if e.period.start <= day]
    return frozenset().union(*given)


def _handled_items(ctx: BusinessContext, party, state: CustomerState, today: date) -> frozenset[int]:
    return frozenset(
        item.id for h in derive_handlings(ctx, state, today)
        if not h.excluded and handled_by(h, party) for item in h.data_items
    )


# --- The customers, grouped ----------------------------------------------------------------


def _relevant_items(ctx: BusinessContext, party, holds: frozenset[int]) -> list[int]:
    """The items whose holding can change what the party holds or handles (the items of its
    parents' entrustments included: they decide whether a chain handles)."""
    if isinstance(party, Subcontractor):
        return sorted(holds.union(*(e.items for entrusted in ctx.entrusted.values() for e in entrusted)))
    return sorted(holds)


def _has_stop(day: date):
    return sa.exists().where(
        DataSubjectRequest.customer_id == Customer.id, DataSubjectRequest.kind.in_(_STOPS),
        DataSubjectRequest.status == RequestStatus.COMPLETED, DataSubjectRequest.resolved_on <= day,
    )


async def _states(session: AsyncSession, ctx: BusinessContext, party, day: date,
                  holds: frozenset[int]) -> list[tuple[CustomerState, int]]:
    """Each distinct state of the business's customers registered by `day` that hold one of
    the party's items, with how many customers share it: those without a completed stop
    request grouped in the database, the others one by one with what their requests named."""
    ids = _relevant_items(ctx, party, holds) if holds else []
    if not ids:
        return []
    chunks = [ids[n:n + _BITS_PER_MASK] for n in range(0, len(ids), _BITS_PER_MASK)]
    masks = [
        sa.func.sum(sa.case({item: 1 << bit for bit, item in enumerate(chunk)},
                            value=CustomerDataItem.data_item_id, else_=0)).label(f"m{n}")
        for n, chunk in enumerate(chunks)
    ]
    cancelled = sa.and_(Customer.cancelled_on.is_not(None), Customer.cancelled_on <= day)
    stopped = sa.case((_has_stop(day), Customer.id), else_=None).label("stopped")
    per_customer = (
        select(sa.case((cancelled, 1), else_=0).label("cancelled"), stopped, *masks)
        .select_from(Customer).join(CustomerDataItem, CustomerDataItem.customer_id == Customer.id)
        .where(Customer.business_id == ctx.business.id, CustomerDataItem.data_item_id.in_(ids),
               in_effect(CustomerDataItem, day), Customer.registered_on <= day)
        .group_by(Customer.id, Customer.cancelled_on)
    ).subquery()
    columns = [per_customer.c.cancelled, per_customer.c.stopped,
               *(per_customer.c[f"m{n}"] for n in range(len(chunks)))]
    rows = (await session.exec(select(*columns, sa.func.count()).group_by(*columns))).all()
    stops = await completed_stops(session, [row[1] for row in rows if row[1] is not None], day)
    return [(_state(ctx, chunks, row, day, stops.get(row[1], [])), row[-1]) for row in rows]


def _state(ctx: BusinessContext, chunks: list[list[int]], row, day: date, stops: list[tuple]) -> CustomerState:
    cancelled, _, *masks = row[:-1]
    held = frozenset(
        item for chunk, mask in zip(chunks, masks)
        for bit, item in enumerate(chunk) if int(mask) >> bit & 1
    )
    return customer_state(ctx, day, held=held, cancelled=bool(cancelled), stops=stops)
