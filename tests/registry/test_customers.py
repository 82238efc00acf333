import json
from datetime import date

import pytest
from sqlmodel import func, select

from registry import customers
from registry.enums import CustomerStatus
from registry.errors import Duplicate, InvalidInput, InvalidTransition, NotFound
from registry.models import AuditEvent, Customer, CustomerDataItem, DataItem
from tests import factories

ACTOR = "privacy-officer"
TODAY = date(2026, 11, 25)
REGISTERED = date(2026, 11, 1)


async def counts(session, *models):
    return [(await session.exec(select(func.count()).select_from(m))).one() for m in models]


async def events(session, action):
    return list((await session.exec(select(AuditEvent).where(AuditEvent.action == action))).all())


async def _business(session):
    biz = await factories.business(session)
    await session.commit()
    return biz


async def _register(session, biz, **overrides):
    fields = dict(
        actor=ACTOR,
        business_code=biz.code,
        external_ref="LJ-0001",
        display_name="Hanako Yamada",
        email="hanako@example.test",
        data_item_codes=["name", "email", "credit_card_number"],
        registered_on=REGISTERED,
        today=TODAY,
    )
    return await customers.register_customer(session, **(fields | overrides))


async def test_a_registered_customer_is_active_holds_the_items_named_and_is_audited(session):
    biz = await _business(session)
    cust = await _register(session, biz)
    assert (customers.status_on(cust, TODAY), cust.version, cust.business_id) == (CustomerStatus.ACTIVE, 1, biz.id)
    assert cust.registered_on == REGISTERED
    held = await customers.held_items(session, [cust.id, 404], as_of=REGISTERED)
    assert [i.code for i in held[cust.id]] == ["name", "email", "credit_card_number"] and held[404] == []
    before = await customers.held_items(session, [cust.id], as_of=date(2026, 10, 31))
    assert before[cust.id] == []  # nothing was held before the registration
    [event] = await events(session, "customer.register")
    assert (event.entity_type, event.entity_id) == ("Customer", cust.id)
    assert json.loads(event.after)["data_item_codes"] == ["name", "email", "credit_card_number"]


async def test_a_customer_ref_is_unique_within_its_business(session):
    biz, other = await _business(session), await _business(session)
    await _register(session, biz)
    with pytest.raises(Duplicate) as raised:
        await _register(session, biz, display_name="Someone else")
    assert raised.value.field == "externalRef"
    assert await counts(session, Customer, CustomerDataItem, AuditEvent) == [1, 3, 1]
    await _register(session, other)  # the same reference at another business is another person
    assert await counts(session, Customer) == [2]


@pytest.mark.parametrize(
    "error, field, overrides",
    [
        (NotFound, "businessCode", {"business_code": "nope"}),
        (InvalidInput, "externalRef", {"external_ref": " "}),
        (InvalidInput, "externalRef", {"external_ref": "R" * 101}),
        (InvalidInput, "email", {"email": "not-an-address"}),
        (InvalidInput, "displayName", {"display_name": "N" * 201}),
        (NotFound, "dataItemCodes", {"data_item_codes": ["name", "shoe_size"]}),
        (InvalidInput, "registeredOn", {"registered_on": date(2026, 11, 26)}),
    ],
)
async def test_a_malformed_registration_is_refused_with_the_field_and_nothing_is_written(
    session, error, field, overrides
):
    biz = await _business(session)
    with pytest.raises(error) as raised:
        await _register(session, biz, **overrides)
    assert raised.value.field == field
    assert await counts(session, Customer, CustomerDataItem, AuditEvent) == [0, 0, 0]


async def test_a_customer_cannot_hold_an_item_of_another_business(session):
    biz, other = await _business(session), await _business(session)
    session.add(DataItem(business_id=other.id, code="loyalty_id", name="Loyalty ID"))
    await session.commit()
    with pytest.raises(NotFound) as raised:
        await _register(session, biz, data_item_codes=["loyalty_id"])
    assert raised.value.field == "dataItemCodes"
    assert await counts(session, Customer, AuditEvent) == [0, 0]


async def test_cancelling_a_customer_records_the_date_bumps_the_version_and_is_audited(session):
    cust = await _register(session, await _business(session))
    cancelled = await customers.cancel_customer(
        session, actor=ACTOR, id=cust.id, cancelled_on=date(2026, 11, 20)
    )
    assert (customers.status_on(cancelled, TODAY), cancelled.cancelled_on, cancelled.version) == (
        CustomerStatus.CANCELLED,
        date(2026, 11, 20),
        2,
    )
    assert customers.status_on(cancelled, date(2026, 11, 19)) is CustomerStatus.ACTIVE
    [event] = await events(session, "customer.cancel")
    assert json.loads(event.before)["cancelled_on"] is None and json.loads(event.after)["cancelled_on"] == "2026-11-20"


async def test_only_an_active_customer_can_cancel(session):
    biz = await factories.business(session)
    cust = await factories.customer(
        session, biz, status=CustomerStatus.CANCELLED, cancelled_on=date(2026, 1, 1)
    )
    await session.commit()
    with pytest.raises(InvalidTransition) as raised:
        await customers.cancel_customer(session, actor=ACTOR, id=cust.id, cancelled_on=date(2026, 11, 20))
    assert raised.value.field == "id"
    stored = await session.get(Customer, cust.id, populate_existing=True)
    assert (stored.cancelled_on, stored.version, await counts(session, AuditEvent)) == (
        date(2026, 1, 1),
        1,
        [0],
    )


async def test_cancelling_an_unknown_customer_is_not_found(session):
    with pytest.raises(NotFound) as raised:
        await customers.cancel_customer(session, actor=ACTOR, id=404, cancelled_on=date(2026, 11, 20))
    assert raised.value.field == "id"


async def test_a_customer_is_found_by_business_and_reference(session):
    biz = await _business(session)
    cust = await _register(session, biz)
    assert (await customers.find_customer_by_ref(session, biz.code, "LJ-0001")).id == cust.id
    assert await customers.find_customer_by_ref(session, "other", "LJ-0001") is None
    assert await customers.find_customer(session, 404) is None
    with pytest.raises(NotFound):
        await customers.get_customer(session, 404)


async def test_customers_are_listed_by_business_and_status(session):
    biz, other = await factories.business(session), await factories.business(session)
    a = await factories.customer(session, biz)
    b = await factories.customer(session, biz, status=CustomerStatus.CANCELLED)
    c = await factories.customer(session, other)
    await session.commit()
    page = await customers.list_customers(session)
    assert ([x.id for x in page.items], page.total) == ([a.id, b.id, c.id], 3)
    page = await customers.list_customers(session, business_code=biz.code, status=CustomerStatus.ACTIVE,
                                          today=TODAY)
    assert [x.id for x in page.items] == [a.id]
    page = await customers.list_customers(session, status=CustomerStatus.CANCELLED, today=TODAY)
    assert [x.id for x in page.items] == [b.id]
    page = await customers.list_customers(session, first=1, after_id=a.id, business_code=biz.code)
    assert ([x.id for x in page.items], page.has_next, page.total) == ([b.id], False, 2)
    assert (await customers.list_customers(session, business_code="nope")).total == 0
    with pytest.raises(InvalidInput):
        await customers.list_customers(session, first=-1)
