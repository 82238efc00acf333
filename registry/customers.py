"""Customers: the data subjects of a business, and the data items held for each.

A voluntary item a customer did not give is not held (seed §11), so nobody handles it.
A cancelled customer's data stays usable only for the purposes marked usable after
cancellation (seed §5).
"""

from collections.abc import Iterable
from datetime import date

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.audit import record, snapshot
from registry.businesses import get_business, resolve_item_codes
from registry.enums import CustomerStatus
from registry.errors import Duplicate, InvalidInput, InvalidTransition, NotFound
from registry.models import Business, Customer, CustomerDataItem, DataItem
from registry.pages import Page, group_by, paginate
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
) -> Customer:
    """An ACTIVE customer of the business, known by a reference unique within it, holding
    the business's data items named by `data_item_codes`."""
    business = await get_business(session, business_code)
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
    )
    duplicate = Duplicate(f"customer {external_ref!r} exists in {business.code}", field="externalRef")
    if await find_customer_by_ref(session, business.code, external_ref) is not None:
        raise duplicate
    await insert_unique(session, customer, duplicate)
    session.add_all([CustomerDataItem(customer_id=customer.id, data_item_id=i.id) for i in items])
    await session.flush()
    after = snapshot(customer, data_item_codes=[i.code for i in items])
    await record(session, actor=actor, action="customer.register", entity=customer, before=None, after=after)
    await session.commit()
    return customer


async def cancel_customer(session: AsyncSession, *, actor: str, id: int, cancelled_on: date) -> Customer:
    """An ACTIVE customer cancels: from `cancelled_on` only the purposes usable after
    cancellation still apply (seed §5). Cancelling twice is an invalid transition."""
    customer = await get_customer(session, id, lock=True)
    if customer.status is not CustomerStatus.ACTIVE:
        raise InvalidTransition(f"customer {id} is already {customer.status}", field="id")
    before = snapshot(customer)
    await update_versioned(
        session,
        customer,
        expected_version=customer.version,
        status=CustomerStatus.CANCELLED,
        cancelled_on=cancelled_on,
    )
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
) -> Page[Customer]:
    """Customers in id order, optionally of one business and in one status."""
    stmt = select(Customer)
    if business_code is not None:
        stmt = stmt.where(Customer.business_id.in_(select(Business.id).where(Business.code == business_code)))
    if status is not None:
        stmt = stmt.where(Customer.status == require_member(status, CustomerStatus, field="status"))
    return await paginate(session, stmt, first=first, after_id=after_id, id_col=Customer.id)


async def held_items(session: AsyncSession, customer_ids: Iterable[int]) -> dict[int, list[DataItem]]:
    """The data items held for each customer, by id."""
    ids = list(customer_ids)
    stmt = (
        select(CustomerDataItem.customer_id, DataItem)
        .join(DataItem, DataItem.id == CustomerDataItem.data_item_id)
        .where(CustomerDataItem.customer_id.in_(set(ids)))
        .order_by(DataItem.id)
    )
    grouped = group_by(ids, await session.exec(stmt), lambda row: row[0])
    return {key: [item for _, item in rows] for key, rows in grouped.items()}
