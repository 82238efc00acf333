import json

import pytest
from sqlmodel import func, select

from registry import businesses
from registry.enums import Sensitivity
from registry.errors import Duplicate, InvalidInput, NotFound, PurposeOutOfScope
from registry.models import AuditEvent, Business, DataItem, Purpose
from tests import factories
from tests.factories import SINCE

ACTOR = "tester"


async def counts(session, *models):
    return [(await session.exec(select(func.count()).select_from(m))).one() for m in models]


async def events(session, action):
    return list((await session.exec(select(AuditEvent).where(AuditEvent.action == action))).all())


async def _create(session, **overrides):
    fields = dict(
        actor=ACTOR,
        code="loveinn-japan",
        name="Loveinn Japan",
        operator_name="ALMEX Inc.",
        country="jp",
        activities=["Provision and operation of Loveinn Japan"],
    )
    return await businesses.create_business(session, **(fields | overrides))


async def test_creating_a_business_records_one_audit_event(session):
    biz = await _create(session)
    assert (biz.code, biz.country) == ("loveinn-japan", "JP")
    [event] = await events(session, "business.create")
    assert (event.actor, event.entity_type, event.entity_id, event.before) == (
        ACTOR,
        "Business",
        biz.id,
        None,
    )
    assert json.loads(event.after)["operator_name"] == "ALMEX Inc."


@pytest.mark.parametrize(
    "field, overrides",
    [
        ("code", {"code": " "}),
        ("name", {"name": ""}),
        ("name", {"name": "x" * 201}),
        ("operatorName", {"operator_name": ""}),
        ("country", {"country": "JPN"}),
        ("activities", {"activities": [""]}),
        ("addressJa", {"address_ja": "所" * 501}),  # the other facts are checked as update_business checks them
        ("securityMeasuresJa", {"security_measures_ja": ["措置"] * 51}),
    ],
)
async def test_a_malformed_business_is_invalid_input_and_nothing_is_written(session, field, overrides):
    with pytest.raises(InvalidInput) as raised:
        await _create(session, **overrides)
    assert raised.value.field == field
    assert await counts(session, Business, AuditEvent) == [0, 0]


async def test_a_business_code_is_unique(session):
    await _create(session)
    with pytest.raises(Duplicate) as raised:
        await _create(session, name="Other")
    assert raised.value.field == "code"
    assert await counts(session, Business, AuditEvent) == [1, 1]


async def test_adding_a_purpose_and_a_data_item_is_audited(session):
    biz = await _create(session)
    purpose = await businesses.add_purpose(
        session,
        actor=ACTOR,
        business_id=biz.id,
        code="P2",
        ordinal=2,
        title="Billing",
        usable_after_cancellation=True,
        data_use="essential.service.payment_processing",
        effective_from=SINCE,
    )
    item = await businesses.add_data_item(
        session,
        actor=ACTOR,
        business_id=biz.id,
        code="credit_card_number",
        name="Credit card number",
        category="user.financial.credit_card",
        sensitivity=Sensitivity.FINANCIAL,
    )
    assert purpose.usable_after_cancellation and item.sensitivity is Sensitivity.FINANCIAL
    assert (purpose.effective_from, purpose.effective_until) == (SINCE, None)  # in effect from then, not retired
    assert [e.entity_id for e in await events(session, "purpose.add")] == [purpose.id]
    assert [e.entity_id for e in await events(session, "dataitem.add")] == [item.id]


async def test_a_purpose_code_is_unique_within_its_business(session):
    biz = await factories.business(session)
    await session.commit()
    with pytest.raises(Duplicate) as raised:
        await businesses.add_purpose(
            session, actor=ACTOR, business_id=biz.id, code="P1", ordinal=9, title="x", effective_from=SINCE
        )
    assert raised.value.field == "code"
    assert await counts(session, Purpose, AuditEvent) == [5, 0]


async def test_a_data_item_code_is_unique_within_its_business(session):
    biz = await factories.business(session)
    await session.commit()
    with pytest.raises(Duplicate) as raised:
        await businesses.add_data_item(session, actor=ACTOR, business_id=biz.id, code="email", name="E-mail")
    assert raised.value.field == "code"
    assert await counts(session, DataItem, AuditEvent) == [6, 0]


async def test_a_purpose_or_item_of_an_unknown_business_is_not_found(session):
    with pytest.raises(NotFound) as raised:
        await businesses.add_purpose(session, actor=ACTOR, business_id=404, code="P1", ordinal=1, title="x",
                                    effective_from=SINCE)
    assert raised.value.field == "businessId"
    with pytest.raises(NotFound) as raised:
        await businesses.add_data_item(session, actor=ACTOR, business_id=404, code="name", name="Name")
    assert raised.value.field == "businessId"
    assert await counts(session, Purpose, DataItem, AuditEvent) == [0, 0, 0]


async def test_a_purpose_ordinal_starts_at_one(session):
    biz = await _create(session)
    with pytest.raises(InvalidInput) as raised:
        await businesses.add_purpose(
            session, actor=ACTOR, business_id=biz.id, code="P0", ordinal=0, title="x", effective_from=SINCE
        )
    assert raised.value.field == "ordinal"


async def test_get_business_names_the_field_find_business_returns_none(session):
    assert await businesses.find_business(session, "nope") is None
    with pytest.raises(NotFound) as raised:
        await businesses.get_business(session, "nope")
    assert raised.value.field == "businessCode"


async def test_purposes_come_by_ordinal_and_every_business_gets_an_entry(session):
    biz = await factories.business(session)
    await session.commit()
    purposes = await businesses.purposes_of(session, [biz.id, 404])
    assert [p.ordinal for p in purposes[biz.id]] == [1, 2, 3, 4, 5]
    assert purposes[404] == []
    items = await businesses.data_items_of(session, [biz.id])
    assert [i.code for i in items[biz.id]][:2] == ["name", "email"]


async def test_codes_resolve_in_the_order_given(session):
    biz = await factories.business(session)
    await session.commit()
    found = await businesses.resolve_purpose_codes(session, biz.id, ["P3", "P1"], field="purposeCodes")
    assert [p.code for p in found] == ["P3", "P1"]


async def test_an_unknown_code_is_not_found_naming_the_code(session):
    biz = await factories.business(session)
    await session.commit()
    with pytest.raises(NotFound) as raised:
        await businesses.resolve_item_codes(session, biz.id, ["name", "shoe_size"], field="dataItemCodes")
    assert raised.value.field == "dataItemCodes" and "shoe_size" in raised.value.message


async def test_a_code_of_another_business_is_out_of_scope_when_scoped(session):
    mine, other = await factories.business(session), await factories.business(session)
    await session.commit()
    await businesses.add_purpose(session, actor=ACTOR, business_id=other.id, code="P9", ordinal=9, title="x",
                                 effective_from=SINCE)
    with pytest.raises(PurposeOutOfScope) as raised:
        await businesses.resolve_purpose_codes(session, mine.id, ["P9"], field="purposeCodes", scoped=True)
    assert raised.value.field == "purposeCodes"
    with pytest.raises(NotFound):
        await businesses.resolve_purpose_codes(session, mine.id, ["P9"], field="purposeCodes")


async def test_businesses_are_listed_in_creation_order(session):
    a, b = await _create(session, code="a"), await _create(session, code="b")
    assert [x.id for x in await businesses.list_businesses(session)] == [a.id, b.id]
