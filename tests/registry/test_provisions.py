import json
from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from registry import provisions
from registry.enums import LegalBasis, RequestKind, RequestStatus
from registry.errors import InvalidInput, NotFound, ProvisionNotApplicable, PurposeOutOfScope
from registry.models import (
    AuditEvent,
    DataItem,
    Provision,
    ProvisionDataItem,
    ProvisionPurpose,
    ProvisionRecord,
    ProvisionRecordDataItem,
    ThirdPartyRecipient,
)
from tests import factories

ACTOR = "privacy-officer"
PROVIDED = date(2026, 11, 20)
TODAY = date(2026, 11, 25)


async def counts(session, *models):
    return [(await session.exec(select(func.count()).select_from(m))).one() for m in models]


async def events(session, action):
    return list((await session.exec(select(AuditEvent).where(AuditEvent.action == action))).all())


# --- recipients and provisions --------------------------------------------------------------


async def test_a_recipient_is_created_with_an_iso_country_and_audited(session):
    rec = await provisions.create_recipient(
        session, actor=ACTOR, name="Financial institutions", country="jp", kind="financial institution"
    )
    assert rec.country == "JP"
    assert [e.entity_id for e in await events(session, "recipient.create")] == [rec.id]
    assert [r.id for r in await provisions.list_recipients(session)] == [rec.id]


@pytest.mark.parametrize(
    "field, overrides", [("name", {"name": ""}), ("country", {"country": "Japan"}), ("kind", {"kind": " "})]
)
async def test_a_malformed_recipient_is_invalid_input(session, field, overrides):
    fields = dict(actor=ACTOR, name="Bank", country="JP", kind="bank")
    with pytest.raises(InvalidInput) as raised:
        await provisions.create_recipient(session, **(fields | overrides))
    assert raised.value.field == field
    assert await counts(session, ThirdPartyRecipient, AuditEvent) == [0, 0]


async def _business_and_recipient(session):
    biz, rec = await factories.business(session), await factories.recipient(session)
    await session.commit()
    return biz, rec


async def _create_provision(session, biz, rec, **overrides):
    fields = dict(
        actor=ACTOR,
        business_code=biz.code,
        recipient_id=rec.id,
        purpose_codes=["P5"],
        data_item_codes=["name", "amount"],
        legal_basis=LegalBasis.CONSENT,
        effective_from=date(2026, 1, 1),
    )
    return await provisions.create_provision(session, **(fields | overrides))


async def test_a_provision_names_the_businesss_purposes_and_items_and_is_audited(session):
    biz, rec = await _business_and_recipient(session)
    prov = await _create_provision(session, biz, rec)
    purposes, items = await provisions.provision_links(session, [prov.id, 404])
    assert [p.code for p in purposes[prov.id]] == ["P5"] and [i.code for i in items[prov.id]] == [
        "name",
        "amount",
    ]
    assert purposes[404] == [] and items[404] == []
    [event] = await events(session, "provision.create")
    assert json.loads(event.after)["data_item_codes"] == ["name", "amount"]
    assert (await provisions.provisions_of_recipients(session, [rec.id]))[rec.id] == [prov]


@pytest.mark.parametrize(
    "error, field, overrides",
    [
        (NotFound, "businessCode", {"business_code": "nope"}),
        (NotFound, "recipientId", {"recipient_id": 404}),
        (InvalidInput, "legalBasis", {"legal_basis": "LEGITIMATE_INTEREST"}),
        (InvalidInput, "purposeCodes", {"purpose_codes": []}),
        (InvalidInput, "dataItemCodes", {"data_item_codes": []}),
        (NotFound, "dataItemCodes", {"data_item_codes": ["shoe_size"]}),
    ],
)
async def test_a_malformed_provision_is_refused_with_the_field_and_nothing_is_written(
    session, error, field, overrides
):
    biz, rec = await _business_and_recipient(session)
    with pytest.raises(error) as raised:
        await _create_provision(session, biz, rec, **overrides)
    assert raised.value.field == field
    assert await counts(session, Provision, ProvisionPurpose, ProvisionDataItem, AuditEvent) == [0, 0, 0, 0]


async def test_a_provision_may_not_name_another_business_items(session):
    biz, rec = await _business_and_recipient(session)
    other = await factories.business(session)
    session.add(DataItem(business_id=other.id, code="loyalty_id", name="Loyalty ID"))
    await session.commit()
    with pytest.raises(PurposeOutOfScope) as raised:
        await _create_provision(session, biz, rec, data_item_codes=["loyalty_id"])
    assert raised.value.field == "dataItemCodes"
    assert await counts(session, Provision, AuditEvent) == [0, 0]


# --- records (APPI Art. 29) -----------------------------------------------------------------


async def _world(session, *, active=True, held=("name", "amount", "email")):
    biz, rec = await factories.business(session), await factories.recipient(session)
    ps, its = await factories.purposes(session, biz), await factories.items(session, biz)
    prov = await factories.provision(
        session, biz, rec, [ps["P5"]], [its["name"], its["amount"]], active=active
    )
    cust = await factories.customer(session, biz, [its[c] for c in held])
    await session.commit()
    return biz, prov, cust


async def _record(session, prov, cust, **overrides):
    fields = dict(
        actor=ACTOR,
        provision_id=prov.id,
        customer_id=cust.id,
        provided_on=PROVIDED,
        data_item_codes=["name", "amount"],
        today=TODAY,
    )
    return await provisions.record_provision(session, **(fields | overrides))


async def test_a_provision_record_is_kept_three_years_and_audited(session):
    _, prov, cust = await _world(session)
    row = await _record(session, prov, cust)
    assert (row.provided_on, row.retain_until) == (PROVIDED, date(2029, 11, 20))
    assert [i.code for i in (await provisions.record_items(session, [row.id]))[row.id]] == ["name", "amount"]
    assert (await provisions.records_of_customers(session, [cust.id, 404])) == {cust.id: [row], 404: []}
    [event] = await events(session, "provision.record")
    assert (event.entity_type, event.entity_id) == ("ProvisionRecord", row.id)
    assert json.loads(event.after)["data_item_codes"] == ["name", "amount"]


async def test_a_record_made_on_29_february_is_kept_until_28_february(session):
    _, prov, cust = await _world(session)
    row = await _record(session, prov, cust, provided_on=date(2028, 2, 29), today=date(2028, 2, 29))
    assert row.retain_until == date(2031, 2, 28)


async def _refused(session, error, field, prov_id, cust_id, **overrides):
    fields = dict(
        actor=ACTOR,
        provision_id=prov_id,
        customer_id=cust_id,
        provided_on=PROVIDED,
        data_item_codes=["name", "amount"],
        today=TODAY,
    )
    with pytest.raises(error) as raised:
        await provisions.record_provision(session, **(fields | overrides))
    assert raised.value.field == field
    assert await counts(session, ProvisionRecord, ProvisionRecordDataItem, AuditEvent) == [0, 0, 0]


async def test_recording_under_an_unknown_provision_or_customer_is_not_found(session):
    _, prov, cust = await _world(session)
    await _refused(session, NotFound, "provisionId", 404, cust.id)
    await _refused(session, NotFound, "customerId", prov.id, 404)
    await _refused(session, NotFound, "dataItemCodes", prov.id, cust.id, data_item_codes=["shoe_size"])


async def test_recording_under_a_provision_not_in_effect_that_day_is_not_applicable(session):
    _, prov, cust = await _world(session, active=False)
    await _refused(session, ProvisionNotApplicable, "providedOn", prov.id, cust.id)


async def test_a_record_needs_at_least_one_item(session):
    _, prov, cust = await _world(session)
    await _refused(session, InvalidInput, "dataItemCodes", prov.id, cust.id, data_item_codes=[])


async def test_a_record_may_only_name_items_the_provision_covers(session):
    _, prov, cust = await _world(session)
    await _refused(
        session, ProvisionNotApplicable, "dataItemCodes", prov.id, cust.id, data_item_codes=["name", "email"]
    )


async def test_a_record_may_only_name_items_held_for_the_customer(session):
    _, prov, cust = await _world(session, held=("name",))
    await _refused(session, ProvisionNotApplicable, "dataItemCodes", prov.id, cust.id)


async def test_a_record_is_for_a_customer_of_the_provisions_business(session):
    _, prov, _ = await _world(session)
    _, _, stranger = await _world(session)
    await _refused(session, InvalidInput, "customerId", prov.id, stranger.id)


@pytest.mark.parametrize("stopped_on", [date(2026, 11, 19), PROVIDED])
async def test_no_provision_after_a_completed_stop_of_third_party_provision(session, stopped_on):
    _, prov, cust = await _world(session)
    await factories.request(
        session,
        cust,
        RequestKind.STOP_THIRD_PARTY_PROVISION,
        status=RequestStatus.COMPLETED,
        resolved_on=stopped_on,
    )
    await session.commit()
    await _refused(session, ProvisionNotApplicable, "providedOn", prov.id, cust.id)


@pytest.mark.parametrize(
    "status, resolved_on",
    [
        (RequestStatus.COMPLETED, date(2026, 11, 21)),
        (RequestStatus.REJECTED, date(2026, 11, 1)),
        (RequestStatus.IN_PROGRESS, None),
    ],
)
async def test_a_stop_request_not_yet_in_effect_does_not_block_a_record(session, status, resolved_on):
    _, prov, cust = await _world(session)
    await factories.request(
        session, cust, RequestKind.STOP_THIRD_PARTY_PROVISION, status=status, resolved_on=resolved_on
    )
    await session.commit()
    assert (await _record(session, prov, cust)).provided_on == PROVIDED


# --- listing records per customer, recipient and period (Art. 29) ----------------------------


async def _records_world(session):
    """Two customers, two recipients; records on 1, 10 and 20 November 2026."""
    biz, prov, alice = await _world(session)
    ps, its = await factories.purposes(session, biz), await factories.items(session, biz)
    other_rec = await factories.recipient(session, name="Collection agency")
    other_prov = await factories.provision(session, biz, other_rec, [ps["P5"]], [its["name"]])
    bob = await factories.customer(session, biz, [its["name"], its["amount"]])
    await session.commit()
    made = {}
    for key, p, c, day, codes in [
        ("alice-1", prov, alice, date(2026, 11, 1), ["name", "amount"]),
        ("bob-10", prov, bob, date(2026, 11, 10), ["name"]),
        ("alice-agency-10", other_prov, alice, date(2026, 11, 10), ["name"]),
        ("alice-20", prov, alice, date(2026, 11, 20), ["amount"]),
    ]:
        made[key] = await _record(session, p, c, provided_on=day, data_item_codes=codes)
    return made, alice, bob, prov.recipient_id, other_rec.id


async def _listed(session, **filters):
    page = await provisions.list_records(session, first=50, **filters)
    return [r.id for r in page.items]


async def test_records_are_listed_in_the_order_they_were_written(session):
    made, *_ = await _records_world(session)
    assert await _listed(session) == [r.id for r in made.values()]


async def test_records_are_listed_per_customer(session):
    made, alice, bob, *_ = await _records_world(session)
    assert await _listed(session, customer_id=bob.id) == [made["bob-10"].id]
    assert await _listed(session, customer_id=alice.id) == [
        made["alice-1"].id, made["alice-agency-10"].id, made["alice-20"].id
    ]


async def test_records_are_listed_per_recipient(session):
    made, _, _, bank, agency = await _records_world(session)
    assert await _listed(session, recipient_id=agency) == [made["alice-agency-10"].id]
    assert await _listed(session, recipient_id=bank) == [
        made["alice-1"].id, made["bob-10"].id, made["alice-20"].id
    ]


async def test_records_are_listed_per_period_with_both_ends_included(session):
    made, alice, *_ = await _records_world(session)
    november_10 = date(2026, 11, 10)
    assert await _listed(session, provided_from=november_10, provided_to=november_10) == [
        made["bob-10"].id, made["alice-agency-10"].id
    ]
    assert await _listed(session, provided_from=date(2026, 11, 2)) == [
        made["bob-10"].id, made["alice-agency-10"].id, made["alice-20"].id
    ]
    assert await _listed(session, provided_to=november_10, customer_id=alice.id) == [
        made["alice-1"].id, made["alice-agency-10"].id
    ]


async def test_records_page_after_the_last_id_with_the_total_of_the_selection(session):
    made, alice, *_ = await _records_world(session)
    first = await provisions.list_records(session, first=2, customer_id=alice.id)
    assert ([r.id for r in first.items], first.has_next, first.total) == (
        [made["alice-1"].id, made["alice-agency-10"].id], True, 3
    )
    rest = await provisions.list_records(session, first=2, after_id=first.items[-1].id, customer_id=alice.id)
    assert ([r.id for r in rest.items], rest.has_next, rest.total) == ([made["alice-20"].id], False, 3)


@pytest.mark.parametrize(
    "error, field, filters",
    [
        (NotFound, "customerId", {"customer_id": 404}),
        (NotFound, "recipientId", {"recipient_id": 404}),
        (InvalidInput, "providedTo", {"provided_from": date(2026, 11, 2), "provided_to": date(2026, 11, 1)}),
        (InvalidInput, "first", {"first": 1001}),
    ],
)
async def test_an_unknown_customer_or_recipient_or_a_reversed_period_is_refused(session, error, field, filters):
    await _records_world(session)
    with pytest.raises(error) as raised:
        await provisions.list_records(session, **({"first": 50} | filters))
    assert raised.value.field == field


# --- purging records past retention ---------------------------------------------------------



async def _aged_records(session):
    """Records whose retention ended the day before today, ends today, ends later."""
    _, prov, cust = await _world(session)
    expired = await _record(session, prov, cust, provided_on=date(2023, 11, 24))
    last_day = await _record(session, prov, cust, provided_on=date(2023, 11, 25))
    recent = await _record(session, prov, cust, provided_on=date(2026, 11, 20), data_item_codes=["amount"])
    return expired, last_day, recent


async def _record_ids(session):
    return list((await session.exec(select(ProvisionRecord.id).order_by(ProvisionRecord.id))).all())


async def _linked_record_ids(session):
    return set((await session.exec(select(ProvisionRecordDataItem.record_id))).all())


async def test_purge_deletes_only_records_whose_retention_ended_before_today_with_their_items(session):
    expired, last_day, recent = await _aged_records(session)
    assert await provisions.purge_expired_records(session, actor=ACTOR, today=TODAY) == 1
    assert await _record_ids(session) == [last_day.id, recent.id]
    assert await _linked_record_ids(session) == {last_day.id, recent.id}


async def test_each_purged_record_leaves_an_audit_event_with_what_it_said(session):
    expired, *_ = await _aged_records(session)
    await provisions.purge_expired_records(session, actor="retention-job", today=TODAY)
    [event] = await events(session, "provision_record.purge")
    assert (event.actor, event.entity_type, event.entity_id, event.after) == (
        "retention-job", "ProvisionRecord", expired.id, None
    )
    before = json.loads(event.before)
    assert (before["id"], before["customer_id"], before["provided_on"], before["retain_until"]) == (
        expired.id, expired.customer_id, "2023-11-24", "2026-11-24"
    )
    assert before["data_item_codes"] == ["name", "amount"]


async def test_purging_twice_deletes_nothing_the_second_time(session):
    await _aged_records(session)
    assert await provisions.purge_expired_records(session, actor=ACTOR, today=TODAY) == 1
    assert await provisions.purge_expired_records(session, actor=ACTOR, today=TODAY) == 0
    assert len(await events(session, "provision_record.purge")) == 1


async def test_purge_works_through_many_records_in_batches(session, monkeypatch):
    monkeypatch.setattr(provisions, "PURGE_BATCH", 3)
    _, prov, cust = await _world(session)
    for day in range(1, 11):
        await _record(session, prov, cust, provided_on=date(2023, 10, day))
    kept = await _record(session, prov, cust, provided_on=date(2026, 10, 1))
    assert await provisions.purge_expired_records(session, actor=ACTOR, today=TODAY) == 10
    assert await _record_ids(session) == [kept.id]
    assert len(await events(session, "provision_record.purge")) == 10


async def test_purge_of_nothing_expired_writes_nothing(session):
    await _world(session)
    before = await counts(session, AuditEvent)
    assert await provisions.purge_expired_records(session, actor=ACTOR, today=TODAY) == 0
    assert await counts(session, AuditEvent) == before


async def test_purging_as_of_a_day_after_today_is_refused_and_deletes_nothing(session):
    from registry.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        await provisions.purge_expired_records(
            session, actor=ACTOR, today=TODAY, as_of=TODAY + timedelta(days=1)
        )
    assert refused.value.field == "asOf"
