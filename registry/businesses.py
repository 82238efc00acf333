"""Businesses and what they own: purposes of use (seed §2) and data items (seed §11).

Purposes and items are named by code within their business; every other write that
names them (entrustments, customers, provisions) resolves the codes here.
"""

from collections.abc import Iterable
from datetime import date

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.audit import record, snapshot
from registry.enums import Sensitivity
from registry.errors import Duplicate, InvalidInput, NotFound, PurposeOutOfScope
from registry.models import Business, DataItem, Purpose
from registry.pages import group_by
from registry.periods import not_ended_by
from registry.validation import (
    insert_unique,
    optional_text,
    require_country,
    require_member,
    require_name,
)


async def create_business(
    session: AsyncSession,
    *,
    actor: str,
    code: str,
    name: str,
    operator_name: str,
    country: str,
    activities: list[str],
    contact: str | None = None,
) -> Business:
    """A business is a service line run by an operator, known by a unique code; its
    activities are the ones the notice lists first (seed §1)."""
    business = Business(
        code=require_name(code, field="code", max_length=64),
        name=require_name(name, field="name"),
        operator_name=require_name(operator_name, field="operatorName"),
        country=require_country(country),
        activities=[require_name(a, field="activities", max_length=1000) for a in activities],
        contact=optional_text(contact, field="contact", max_length=500),
    )
    if await find_business(session, business.code) is not None:
        raise Duplicate(f"a business with code {business.code!r} exists", field="code")
    await insert_unique(session, business, Duplicate(f"business {business.code!r} exists", field="code"))
    await record(
        session,
        actor=actor,
        action="business.create",
        entity=business,
        before=None,
        after=snapshot(business),
    )
    await session.commit()
    return business


async def add_purpose(
    session: AsyncSession,
    *,
    actor: str,
    business_id: int,
    code: str,
    ordinal: int,
    title: str,
    effective_from: date,
    description: str | None = None,
    usable_after_cancellation: bool = False,
    data_use: str | None = None,
) -> Purpose:
    """A numbered purpose of use (seed §2) from `effective_from`; `usable_after_cancellation`
    marks those that still apply once a customer cancels (seed §5)."""
    await _get_business_by_id(session, business_id)
    if ordinal < 1:
        raise InvalidInput("a purpose's ordinal starts at 1", field="ordinal")
    purpose = Purpose(
        business_id=business_id,
        code=require_name(code, field="code", max_length=32),
        ordinal=ordinal,
        title=require_name(title, field="title", max_length=500),
        description=optional_text(description, field="description", max_length=2000),
        usable_after_cancellation=usable_after_cancellation,
        data_use=optional_text(data_use, field="dataUse", max_length=200),
        effective_from=effective_from,
    )
    taken = await _codes_of(session, Purpose, business_id, [purpose.code])
    duplicate = Duplicate(f"purpose {purpose.code!r} exists in this business", field="code")
    if taken:
        raise duplicate
    await insert_unique(session, purpose, duplicate)
    await record(
        session, actor=actor, action="purpose.add", entity=purpose, before=None, after=snapshot(purpose)
    )
    await session.commit()
    return purpose


async def add_data_item(
    session: AsyncSession,
    *,
    actor: str,
    business_id: int,
    code: str,
    name: str,
    category: str | None = None,
    sensitivity: Sensitivity = Sensitivity.ORDINARY,
    voluntary: bool = False,
    property_damage_risk: bool = False,
) -> DataItem:
    """A kind of personal data the business acquires; `voluntary` items are held only for
    customers who gave them (seed §11)."""
    await _get_business_by_id(session, business_id)
    item = DataItem(
        business_id=business_id,
        code=require_name(code, field="code", max_length=64),
        name=require_name(name, field="name"),
        category=optional_text(category, field="category", max_length=200),
        sensitivity=require_member(sensitivity, Sensitivity, field="sensitivity"),
        voluntary=voluntary,
        property_damage_risk=property_damage_risk,
    )
    duplicate = Duplicate(f"data item {item.code!r} exists in this business", field="code")
    if await _codes_of(session, DataItem, business_id, [item.code]):
        raise duplicate
    await insert_unique(session, item, duplicate)
    await record(session, actor=actor, action="dataitem.add", entity=item, before=None, after=snapshot(item))
    await session.commit()
    return item


async def find_business(session: AsyncSession, code: str) -> Business | None:
    return (await session.exec(select(Business).where(Business.code == code))).first()


async def get_business(session: AsyncSession, code: str, *, field: str = "businessCode") -> Business:
    business = await find_business(session, code)
    if business is None:
        raise NotFound(f"no business with code {code!r}", field=field)
    return business


async def list_businesses(session: AsyncSession) -> list[Business]:
    return list((await session.exec(select(Business).order_by(Business.id))).all())


async def purposes_of(session: AsyncSession, business_ids: list[int], *, not_retired_by: date | None = None
                      ) -> dict[int, list[Purpose]]:
    """Each business's purposes in the order of the notice (by ordinal); with `not_retired_by`,
    only those not retired before that day."""
    stmt = select(Purpose).where(Purpose.business_id.in_(set(business_ids)))
    if not_retired_by is not None:
        stmt = stmt.where(not_ended_by(Purpose, not_retired_by))
    rows = await session.exec(stmt.order_by(Purpose.ordinal, Purpose.id))
    return group_by(business_ids, rows, lambda p: p.business_id)


async def data_items_of(session: AsyncSession, business_ids: list[int]) -> dict[int, list[DataItem]]:
    stmt = select(DataItem).where(DataItem.business_id.in_(set(business_ids)))
    rows = await session.exec(stmt.order_by(DataItem.id))
    return group_by(business_ids, rows, lambda i: i.business_id)


async def resolve_purpose_codes(
    session: AsyncSession, business_id: int, codes: Iterable[str], *, field: str, scoped: bool = False
) -> list[Purpose]:
    """The business's purposes named by `codes`, in the order given. An unknown code is
    NOT_FOUND; with `scoped`, a code that names only another business's purpose is
    PURPOSE_OUT_OF_SCOPE (an entrustment stays within its contract's business)."""
    return await _resolve(session, Purpose, business_id, codes, field=field, scoped=scoped)


async def resolve_item_codes(
    session: AsyncSession, business_id: int, codes: Iterable[str], *, field: str, scoped: bool = False
) -> list[DataItem]:
    """The business's data items named by `codes`; errors as for `resolve_purpose_codes`."""
    return await _resolve(session, DataItem, business_id, codes, field=field, scoped=scoped)


MAX_CODES = 200  # codes one input may name: a business has tens of purposes and items, not thousands
SHOWN_CODES = 10  # unknown codes a message names; the rest are counted


async def _resolve(session, model, business_id, codes, *, field, scoped):
    wanted = list(dict.fromkeys(codes))
    kind = "purpose" if model is Purpose else "data item"
    if len(wanted) > MAX_CODES:
        raise InvalidInput(f"{field} names {len(wanted):,} {kind} codes; at most {MAX_CODES} are allowed", field=field)
    found = {row.code: row for row in await _codes_of(session, model, business_id, wanted)}
    missing = [c for c in wanted if c not in found]
    if not missing:
        return [found[c] for c in wanted]
    if scoped:
        elsewhere = (await session.exec(select(model.code).where(model.code.in_(missing)))).all()
        if elsewhere:
            raise PurposeOutOfScope(
                f"{kind} codes {sorted(set(elsewhere))} belong to another business", field=field
            )
    more = f" and {len(missing) - SHOWN_CODES:,} more" if len(missing) > SHOWN_CODES else ""
    raise NotFound(f"unknown {kind} codes: {', '.join(missing[:SHOWN_CODES])}{more}", field=field)


async def _codes_of(session, model, business_id: int, codes: list[str]) -> list:
    stmt = select(model).where(model.business_id == business_id, model.code.in_(codes))
    return list((await session.exec(stmt)).all())


async def _get_business_by_id(session: AsyncSession, business_id: int) -> Business:
    business = await session.get(Business, business_id)
    if business is None:
        raise NotFound(f"no business {business_id}", field="businessId")
    return business
