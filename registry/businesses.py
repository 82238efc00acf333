"""Businesses and what they own: purposes of use (seed §2) and data items (seed §11).

Purposes and items are named by code within their business; every other write that
names them (entrustments, customers, provisions) resolves the codes here.

The writes a privacy officer makes through the API keep the past as it was (DESIGN.md
"Time"): a purpose begins today or later, and retiring it closes its period no earlier than
yesterday; what resolution reads of a purpose without a date (`usable_after_cancellation`)
changes only until the purpose first takes effect.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.audit import record, snapshot
from registry.enums import LegalBasis, Sensitivity
from registry.errors import (
    Duplicate,
    InvalidInput,
    InvalidTransition,
    NotFound,
    OptOutNotPermitted,
    PurposeOutOfScope,
    RegistryError,
    raise_all,
)
from registry.models import Business, DataItem, Provision, ProvisionDataItem, Purpose
from registry.pages import group_by
from registry.periods import last_day_before, not_ended_by
from registry.validation import (
    fetch,
    insert_unique,
    optional_text,
    require_codes,
    require_country,
    require_member,
    require_name,
)

MAX_TEXTS = 50  # entries of a business's lists (activities, security measures): a notice's paragraphs
CODE_LENGTH = 64  # a business code's most characters (Business.code)


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
    **facts: Any,
) -> Business:
    """A business is a service line run by an operator, known by a unique code; its
    activities are the ones the notice lists first (seed §1). The other facts the notice
    states (`facts`: its address, the Japanese versions of its texts...) are checked as
    `update_business` checks them."""
    business = Business(
        code=require_name(code, field="code", max_length=CODE_LENGTH),
        name=require_name(name, field="name"),
        operator_name=require_name(operator_name, field="operatorName"),
        country=require_country(country),
        activities=[require_name(a, field="activities", max_length=1000) for a in activities],
        contact=optional_text(contact, field="contact", max_length=500),
        **_checked(facts, BUSINESS_FIELDS),
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
    title_ja: str | None = None,
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
        title_ja=optional_text(title_ja, field="titleJa", max_length=500),
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
    name_ja: str | None = None,
) -> DataItem:
    """A kind of personal data the business acquires; `voluntary` items are held only for
    customers who gave them (seed §11)."""
    await _get_business_by_id(session, business_id)
    item = DataItem(
        business_id=business_id,
        code=require_name(code, field="code", max_length=CODE_LENGTH),
        name=require_name(name, field="name"),
        name_ja=optional_text(name_ja, field="nameJa", max_length=200),
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


# --- The writes of the API (issue 13) ------------------------------------------------------------


BUSINESS_FIELDS = {  # registry name -> how it is checked
    "name": lambda v: require_name(v, field="name"),
    "operator_name": lambda v: require_name(v, field="operatorName"),
    "activities": lambda v: _texts(v, field="activities", max_length=1000),
    "address": lambda v: optional_text(v, field="address", max_length=500),
    "representative": lambda v: optional_text(v, field="representative", max_length=200),
    "contact": lambda v: optional_text(v, field="contact", max_length=500),
    "request_procedure": lambda v: optional_text(v, field="requestProcedure", max_length=4000),
    "security_measures": lambda v: _texts(v, field="securityMeasures", max_length=2000),
    # the Japanese versions (issue 13), bounded as their English twins; null or []: the English one stands in
    "name_ja": lambda v: optional_text(v, field="nameJa", max_length=200),
    "operator_name_ja": lambda v: optional_text(v, field="operatorNameJa", max_length=200),
    "activities_ja": lambda v: _texts(v, field="activitiesJa", max_length=1000),
    "address_ja": lambda v: optional_text(v, field="addressJa", max_length=500),
    "representative_ja": lambda v: optional_text(v, field="representativeJa", max_length=200),
    "contact_ja": lambda v: optional_text(v, field="contactJa", max_length=500),
    "request_procedure_ja": lambda v: optional_text(v, field="requestProcedureJa", max_length=4000),
    "security_measures_ja": lambda v: _texts(v, field="securityMeasuresJa", max_length=2000),
}


async def update_business(session: AsyncSession, *, actor: str, code: str, changes: Mapping[str, Any]) -> Business:
    """Change the facts the notice states about the business (APPI Art. 32(1)): its name and
    operator, activities, address and representative, the desk for requests and complaints, the
    request procedure and fee, the security measures, and the Japanese version of each. Absent
    keys stay; null clears an optional text (a name may not be cleared) and an empty list empties a
    list."""
    values = _checked(changes, BUSINESS_FIELDS)
    business = await get_business(session, code, field="code")
    business = await fetch(session, Business, business.id, lock=True)
    return await _update(session, actor, business, values, "business.update")


def _texts(values: Iterable[str] | None, *, field: str, max_length: int) -> list[str]:
    texts = [require_name(v, field=field, max_length=max_length) for v in values or ()]
    if len(texts) > MAX_TEXTS:
        raise InvalidInput(f"{field} holds {len(texts)} entries; at most {MAX_TEXTS} are allowed", field=field)
    return texts


async def create_purpose(
    session: AsyncSession,
    *,
    actor: str,
    business_code: str,
    code: str,
    title: str,
    today: date,
    effective_from: date | None = None,
    **fields: Any,
) -> Purpose:
    """A new purpose of use, numbered after the business's last one, from `effective_from`
    (default today; never before today: the purposes of a day already past stay as they were).
    Its code is unique in the business (DUPLICATE)."""
    business = await get_business(session, business_code)
    business = await fetch(session, Business, business.id, lock=True)  # purposes are numbered one at a time
    effective_from = today if effective_from is None else effective_from
    if effective_from < today:
        raise InvalidInput(f"effectiveFrom {effective_from} lies before today ({today}): a new purpose would "
                           "rewrite what was permitted on days already past", field="effectiveFrom")
    last = (await session.exec(select(sa.func.max(Purpose.ordinal)).where(Purpose.business_id == business.id))).one()
    return await add_purpose(session, actor=actor, business_id=business.id, code=code, ordinal=(last or 0) + 1,
                             title=title, effective_from=effective_from, **fields)


PURPOSE_FIELDS = {
    "title": lambda v: require_name(v, field="title", max_length=500),
    "title_ja": lambda v: optional_text(v, field="titleJa", max_length=500),
    "description": lambda v: optional_text(v, field="description", max_length=2000),
    "usable_after_cancellation": lambda v: _flag(v, field="usableAfterCancellation"),
    "data_use": lambda v: optional_text(v, field="dataUse", max_length=200),
}


async def update_purpose(session: AsyncSession, *, actor: str, id: int, changes: Mapping[str, Any],
                         today: date) -> Purpose:
    """Change a purpose's wording or taxonomy key. Whether it applies after cancellation (seed
    §5) changes only until it first takes effect: handlings of days already past read it, so a
    purpose that applied differently is retired and a new one created."""
    values = _checked(changes, PURPOSE_FIELDS)
    purpose = await get_purpose(session, id, lock=True)
    changed = values.get("usable_after_cancellation", purpose.usable_after_cancellation)
    if changed != purpose.usable_after_cancellation and purpose.effective_from < today:
        raise InvalidInput(
            f"purpose {purpose.code} has permitted use since {purpose.effective_from}: whether it applies after "
            "cancellation cannot change for those days; retire it and create a new purpose",
            field="usableAfterCancellation")
    return await _update(session, actor, purpose, values, "purpose.update")


async def retire_purpose(session: AsyncSession, *, actor: str, id: int, retired_on: date, today: date) -> Purpose:
    """Retire a purpose: it permits nothing after `retired_on` (its last day, never before
    yesterday, so the past stays as it was; a later day schedules it). The row stays, so
    handlings of earlier days still name it. Retiring it again is INVALID_TRANSITION."""
    purpose = await get_purpose(session, id, lock=True)
    if purpose.effective_until is not None:
        raise InvalidTransition(f"purpose {purpose.code} is retired on {purpose.effective_until} already", field="id")
    check_end(retired_on, start=purpose.effective_from, today=today, field="retiredOn")
    return await _update(session, actor, purpose, {"effective_until": retired_on}, "purpose.retire")


def check_end(last_day: date, *, start: date, today: date, field: str) -> None:
    """The last day of a period being closed: not before yesterday (an end dated earlier
    would rewrite days already answered) nor before the day before it began (then it never
    held)."""
    if last_day < last_day_before(today):
        raise InvalidInput(f"{field} {last_day} lies before yesterday: ending it then would rewrite what "
                           "was answered for the days since", field=field)
    if last_day < last_day_before(start):
        raise InvalidInput(f"{field} {last_day} lies before it began on {start}", field=field)


async def create_data_item(session: AsyncSession, *, actor: str, business_code: str, **fields: Any) -> DataItem:
    """A new kind of personal data of the business; its code is unique in it (DUPLICATE)."""
    business = await get_business(session, business_code)
    return await add_data_item(session, actor=actor, business_id=business.id, **fields)


DATA_ITEM_FIELDS = {
    "name": lambda v: require_name(v, field="name"),
    "name_ja": lambda v: optional_text(v, field="nameJa", max_length=200),
    "category": lambda v: optional_text(v, field="category", max_length=200),
    "sensitivity": lambda v: require_member(v, Sensitivity, field="sensitivity"),
    "voluntary": lambda v: _flag(v, field="voluntary"),
    "property_damage_risk": lambda v: _flag(v, field="propertyDamageRisk"),
}


async def update_data_item(session: AsyncSession, *, actor: str, id: int, changes: Mapping[str, Any],
                           today: date) -> DataItem:
    """Change a data item. It may not become SPECIAL_CARE while an opt-out provision not ended
    by today provides it (APPI Art. 27(2) proviso: OPT_OUT_NOT_PERMITTED)."""
    values = _checked(changes, DATA_ITEM_FIELDS)
    item = await fetch(session, DataItem, id, lock=True)
    if item is None:
        raise NotFound(f"no data item {id}", field="id")
    if values.get("sensitivity") is Sensitivity.SPECIAL_CARE and item.sensitivity != Sensitivity.SPECIAL_CARE:
        opt_out = (await session.exec(
            select(Provision.id).join(ProvisionDataItem, ProvisionDataItem.provision_id == Provision.id)
            .where(ProvisionDataItem.data_item_id == item.id, Provision.legal_basis == LegalBasis.OPT_OUT,
                   not_ended_by(Provision, today)))).all()
        if opt_out:
            raise OptOutNotPermitted(
                f"{item.code} is provided by opt-out (provision {', '.join(map(str, opt_out))}): special care-"
                "required data may not be (APPI Art. 27(2)); end those provisions first", field="sensitivity")
    return await _update(session, actor, item, values, "dataitem.update")


def _flag(value: Any, *, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} is true or false", field=field)
    return value


def _checked(changes: Mapping[str, Any], checks: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - checks.keys())
    if unknown:
        raise InvalidInput(f"cannot change {unknown}", field=unknown[0])
    return {key: checks[key](value) for key, value in changes.items()}


async def _update(session: AsyncSession, actor: str, row, values: dict[str, Any], action: str):
    before = snapshot(row)
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)
    await session.flush()
    await record(session, actor=actor, action=action, entity=row, before=before, after=snapshot(row))
    await session.commit()
    return row


async def get_purpose(session: AsyncSession, id: int, *, field: str = "id", lock: bool = False) -> Purpose:
    purpose = await fetch(session, Purpose, id, lock=lock)
    if purpose is None:
        raise NotFound(f"no purpose {id}", field=field)
    return purpose


async def find_business(session: AsyncSession, code: str) -> Business | None:
    if len(code) > CODE_LENGTH:  # no business has it: not worth a query
        return None
    return (await session.exec(select(Business).where(Business.code == code))).first()


async def get_business(session: AsyncSession, code: str, *, field: str = "businessCode") -> Business:
    """The business with `code`; NotFound naming at most CODE_LENGTH characters of it."""
    business = await find_business(session, code)
    if business is None:
        raise NotFound(f"no business with code {code[:CODE_LENGTH]!r}", field=field)
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


async def resolve_purposes_and_items(
    session: AsyncSession, business_id: int, purpose_codes: Iterable[str], data_item_codes: Iterable[str]
) -> tuple[list[Purpose], list[DataItem]]:
    """The business's purposes and items an input names (`purposeCodes`, `dataItemCodes`: at
    least one of each, scoped to the business), every problem of both raised together."""
    results, problems = [], []
    for codes, resolve, field in [
        (purpose_codes, resolve_purpose_codes, "purposeCodes"),
        (data_item_codes, resolve_item_codes, "dataItemCodes"),
    ]:
        try:
            wanted = require_codes(codes, field=field)
            results.append(await resolve(session, business_id, wanted, field=field, scoped=True))
        except RegistryError as problem:
            problems.append(problem)
    raise_all(problems)
    return results[0], results[1]


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
