"""Customers: the data subjects of a business, and the data items held for each.

A voluntary item a customer did not give is not held (seed §11), so nobody handles it.
A cancelled customer's data stays usable only for the purposes marked usable after
cancellation (seed §5). Everything here has valid time (DESIGN.md "Time"): a customer exists
from `registered_on`, is CANCELLED from `cancelled_on` (which may be scheduled ahead), and
holds each item for periods (CustomerDataItem) that giving and withdrawing open and close.
"""

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.audit import record, snapshot
from registry.businesses import SHOWN_CODES, get_business, resolve_item_codes
from registry.enums import CustomerStatus
from registry.errors import Duplicate, InvalidInput, InvalidTransition, NotFound
from registry.models import Business, Customer, CustomerDataItem, DataItem
from registry.pages import Page, group_by, paginate
from registry.periods import Period, in_effect, last_day_before
from registry.validation import (
    fetch,
    insert_unique,
    optional_text,
    require_member,
    require_name,
    update_versioned,
)


async def register_customer(
    session: AsyncSession,
    *,
    actor: str,
    business_code: str,
    external_ref: str,
    display_name: str | None = None,
    email: str | None = None,
    data_item_codes: Iterable[str],
    registered_on: date,
    today: date,
) -> Customer:
    """An ACTIVE customer of the business from `registered_on` (not after `today`), known by a
    reference unique within it, holding from then the business's data items named by
    `data_item_codes`."""
    business = await get_business(session, business_code)
    if registered_on > today:
        raise InvalidInput(f"registeredOn {registered_on} lies in the future", field="registeredOn")
    external_ref = require_name(external_ref, field="externalRef", max_length=100)
    email = optional_text(email, field="email", max_length=320)
    if email is not None and "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    codes = list(dict.fromkeys(c.strip() for c in data_item_codes))
    items = await resolve_item_codes(session, business.id, codes, field="dataItemCodes")
    customer = Customer(
        business_id=business.id,
        external_ref=external_ref,
        email=email,
        display_name=optional_text(display_name, field="displayName", max_length=200),
        registered_on=registered_on,
    )
    duplicate = Duplicate(f"customer {external_ref!r} exists in {business.code}", field="externalRef")
    if await find_customer_by_ref(session, business.code, external_ref) is not None:
        raise duplicate
    await insert_unique(session, customer, duplicate)
    session.add_all([CustomerDataItem(customer_id=customer.id, data_item_id=i.id, effective_from=registered_on)
                     for i in items])
    await session.flush()
    after = snapshot(customer, data_item_codes=[i.code for i in items])
    await record(session, actor=actor, action="customer.register", entity=customer, before=None, after=after)
    await session.commit()
    return customer


def status_on(customer: Customer, day: date) -> CustomerStatus:
    """CANCELLED from `cancelled_on` on, ACTIVE before (a scheduled cancellation included)."""
    cancelled = customer.cancelled_on is not None and customer.cancelled_on <= day
    return CustomerStatus.CANCELLED if cancelled else CustomerStatus.ACTIVE


async def cancel_customer(session: AsyncSession, *, actor: str, id: int, cancelled_on: date) -> Customer:
    """The customer cancels: from `cancelled_on` (which may lie ahead: the customer stays
    ACTIVE until then) only the purposes usable after cancellation still apply (seed §5).
    A customer has one cancellation (INVALID_TRANSITION), on or after registration."""
    customer = await get_customer(session, id, lock=True)
    if customer.cancelled_on is not None:
        raise InvalidTransition(f"customer {id} cancels on {customer.cancelled_on} already", field="id")
    if cancelled_on < customer.registered_on:
        raise InvalidInput(f"cancelledOn {cancelled_on} lies before registration on {customer.registered_on}",
                           field="cancelledOn")
    before = snapshot(customer)
    await update_versioned(session, customer, expected_version=customer.version, cancelled_on=cancelled_on)
    await record(
        session,
        actor=actor,
        action="customer.cancel",
        entity=customer,
        before=before,
        after=snapshot(customer),
    )
    await session.commit()
    return customer


async def find_customer(session: AsyncSession, id: int, *, lock: bool = False) -> Customer | None:
    """The customer, or None; `lock` for a write to it (see `validation.fetch`)."""
    return await fetch(session, Customer, id, lock=lock)


async def get_customer(session: AsyncSession, id: int, *, field: str = "id", lock: bool = False) -> Customer:
    customer = await find_customer(session, id, lock=lock)
    if customer is None:
        raise NotFound(f"no customer {id}", field=field)
    return customer


async def find_customer_by_ref(
    session: AsyncSession, business_code: str, external_ref: str
) -> Customer | None:
    stmt = (
        select(Customer)
        .join(Business, Business.id == Customer.business_id)
        .where(Business.code == business_code, Customer.external_ref == external_ref)
    )
    return (await session.exec(stmt)).first()


async def list_customers(
    session: AsyncSession,
    *,
    first: int = 50,
    after_id: int | None = None,
    business_code: str | None = None,
    status: CustomerStatus | None = None,
    today: date | None = None,
) -> Page[Customer]:
    """Customers in id order, optionally of one business and in one status on `today`."""
    stmt = select(Customer)
    if business_code is not None:
        stmt = stmt.where(Customer.business_id.in_(select(Business.id).where(Business.code == business_code)))
    if status is not None:
        if today is None:
            raise ValueError("a status filter needs the day it is read on")
        cancelled = sa.and_(Customer.cancelled_on.is_not(None), Customer.cancelled_on <= today)
        wanted = require_member(status, CustomerStatus, field="status")
        stmt = stmt.where(cancelled if wanted is CustomerStatus.CANCELLED else ~cancelled)
    return await paginate(session, stmt, first=first, after_id=after_id, id_col=Customer.id)


async def held_items(session: AsyncSession, customer_ids: Iterable[int], *, as_of: date
                     ) -> dict[int, list[DataItem]]:
    """The data items held for each customer on `as_of`, by id."""
    ids = list(customer_ids)
    stmt = (
        select(CustomerDataItem.customer_id, DataItem)
        .join(DataItem, DataItem.id == CustomerDataItem.data_item_id)
        .where(CustomerDataItem.customer_id.in_(set(ids)), in_effect(CustomerDataItem, as_of))
        .order_by(DataItem.id)
    )
    grouped = group_by(ids, await session.exec(stmt), lambda row: row[0])
    return {key: [item for _, item in rows] for key, rows in grouped.items()}


async def item_history(session: AsyncSession, customer_ids: Iterable[int]
                       ) -> dict[int, list[tuple[CustomerDataItem, DataItem]]]:
    """Every period in which each customer held an item, oldest first."""
    ids = list(customer_ids)
    stmt = (
        select(CustomerDataItem, DataItem)
        .join(DataItem, DataItem.id == CustomerDataItem.data_item_id)
        .where(CustomerDataItem.customer_id.in_(set(ids)))
        .order_by(CustomerDataItem.effective_from, DataItem.id, CustomerDataItem.id)
    )
    grouped = group_by(ids, await session.exec(stmt), lambda row: row[0].customer_id)
    return {key: [tuple(row) for row in rows] for key, rows in grouped.items()}


async def change_items(session: AsyncSession, customer: Customer, *, add: list[DataItem],
                       remove: list[DataItem], effective_on: date) -> tuple[list[str], list[str]]:
    """Hold each item of `add` from `effective_on` on, and no item of `remove` from that day
    on: a period holding that day closes the day before, one that begins on it or later goes
    (it would hold nothing), and an item given again ahead of a later period joins it, so an
    item's periods never overlap. The codes actually added and removed; audited by the caller."""
    rows = (await session.exec(select(CustomerDataItem).where(
        CustomerDataItem.customer_id == customer.id,
        CustomerDataItem.data_item_id.in_([i.id for i in (*add, *remove)]),
    ).order_by(CustomerDataItem.effective_from, CustomerDataItem.id))).all()
    periods = group_by([i.id for i in (*add, *remove)], rows, lambda row: row.data_item_id)
    added, removed = [], []
    for item in remove:
        changed = False
        for row in periods[item.id]:
            if Period(effective_on).holds_on(row.effective_from):  # begins that day or later
                await session.delete(row)
                changed = True
            elif Period.of(row).holds_on(effective_on):
                row.effective_until = last_day_before(effective_on)
                session.add(row)
                changed = True
        if changed:
            removed.append(item.code)
    for item in add:
        if any(Period.of(row).holds_on(effective_on) for row in periods[item.id]):
            continue
        later = [row for row in periods[item.id] if Period(effective_on).holds_on(row.effective_from)]
        if later:
            later[0].effective_from = effective_on
            session.add(later[0])
        else:
            session.add(CustomerDataItem(customer_id=customer.id, data_item_id=item.id, effective_from=effective_on))
        added.append(item.code)
    await session.flush()
    return added, removed


async def change_customer_items(session: AsyncSession, *, actor: str, id: int, add_codes: Iterable[str] = (),
                                remove_codes: Iterable[str] = (), effective_on: date, today: date) -> Customer:
    """The customer gives items (a voluntary one later, seed §11) or withdraws them, from
    `effective_on` (not in the future, not before registration). An item both added and
    removed, or a change that changes nothing, is INVALID_INPUT."""
    customer = await get_customer(session, id, lock=True)
    if effective_on > today:
        raise InvalidInput(f"effectiveOn {effective_on} lies in the future", field="effectiveOn")
    if effective_on < customer.registered_on:
        raise InvalidInput(f"effectiveOn {effective_on} lies before registration on {customer.registered_on}",
                           field="effectiveOn")
    add_codes, remove_codes = list(dict.fromkeys(add_codes)), list(dict.fromkeys(remove_codes))
    both = sorted(set(add_codes) & set(remove_codes))
    if both:
        more = f" and {len(both) - SHOWN_CODES:,} more" if len(both) > SHOWN_CODES else ""
        raise InvalidInput(f"{', '.join(both[:SHOWN_CODES])}{more} both added and removed", field="removeDataItemCodes")
    add = await resolve_item_codes(session, customer.business_id, add_codes, field="addDataItemCodes")
    remove = await resolve_item_codes(session, customer.business_id, remove_codes, field="removeDataItemCodes")
    before = snapshot(customer, data_item_codes=[i.code for i in (await held_items(
        session, [customer.id], as_of=effective_on))[customer.id]])
    added, removed = await change_items(session, customer, add=add, remove=remove, effective_on=effective_on)
    if not added and not removed:
        raise InvalidInput("the change adds no item not held and removes no item held on that day",
                           field="addDataItemCodes")
    await update_versioned(session, customer, expected_version=customer.version)
    after = snapshot(customer, added=added, removed=removed, effective_on=effective_on.isoformat())
    await record(session, actor=actor, action="customer.change_items", entity=customer, before=before, after=after)
    await session.commit()
    return customer
