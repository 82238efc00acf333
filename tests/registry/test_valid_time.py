"""The registry is true over time (issue 12, DESIGN.md "Time"): one test per scenario of the
issue's "Why", each through the registry's own writes, asserting the answer for the day asked
and, where a write changed the present, that the past still answers as it did."""

from datetime import date

import pytest
from sqlmodel import func, select

from registry import contracts, customers, provisions, requests
from registry.enums import (
    ContractClause, ContractStatus, CustomerStatus, ExclusionReason as R, HandlingRole, RequestKind, RequestStatus,
)
from registry.errors import InvalidInput, InvalidTransition, ProvisionNotApplicable
from registry.findings import compliance_findings
from registry.handling import resolve_handlings
from registry.models import AuditEvent, ContractStatusChange, Customer, ProvisionRecord
from tests import factories as f

ACTOR = "privacy-officer"
TODAY = date(2026, 11, 25)  # the tests' clock (tests/conftest.py)
LAST_MONTH = date(2026, 10, 25)
REGISTERED = date(2026, 6, 1)
CONSENT = [str(c) for c in f.REQUIRED_CLAUSES] + [ContractClause.SUB_ENTRUSTMENT_CONSENT]


@pytest.fixture
async def world(session):
    """A customer registered on REGISTERED holding name, email, phone and amount; a mailer
    entrusted with name and email for P2 (marketing mail), a payment processor with name and
    amount for P5 (billing), and a provision of name and amount to a bank for P5."""
    biz = await f.business(session)
    ps, its = await f.purposes(session, biz), await f.items(session, biz)
    mail = await f.contract(session, biz, await f.subcontractor(session, name="Mail Co"), reference="MAIL")
    mail_entrustment = await f.entrustment(session, mail, [ps["P2"]], [its["name"], its["email"]])
    pay = await f.contract(session, biz, await f.subcontractor(session, name="Pay Co"), reference="PAY")
    await f.entrustment(session, pay, [ps["P5"]], [its["name"], its["amount"]])
    bank = await f.recipient(session, name="Bank")
    provision = await f.provision(session, biz, bank, [ps["P5"]], [its["name"], its["amount"]])
    await session.commit()
    customer = await customers.register_customer(
        session, actor=ACTOR, business_code=biz.code, external_ref="LIJ-1", display_name="Hanako",
        email="hanako@example.test", data_item_codes=["name", "email", "phone", "amount"],
        registered_on=REGISTERED, today=TODAY,
    )
    return dict(biz=biz, customer=customer, mail=mail, mail_entrustment=mail_entrustment, pay=pay,
                bank=bank, provision=provision, purposes=ps, items=its)


async def handlings(session, customer, as_of):
    await session.commit()
    return await resolve_handlings(session, customer.id, as_of=as_of, include_excluded=True)


def party(found, name):
    [handling] = [h for h in found if h.party.name == name]
    return handling


def codes(rows):
    return [row.code for row in rows]


async def complete(session, clock, customer, kind, **scope):
    request = await requests.submit_request(session, actor=ACTOR, customer_id=customer.id, kind=kind, clock=clock,
                                            **scope)
    for status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
        request = await requests.transition_request(session, actor=ACTOR, id=request.id, to=status, clock=clock)
    return request


async def count(session, model) -> int:
    return (await session.exec(select(func.count()).select_from(model))).one()


# --- the customer's registration and cancellation ----------------------------------------


async def test_before_registration_every_party_is_excluded_as_not_registered(session, world):
    before = await handlings(session, world["customer"], date(2026, 5, 31))
    assert [h.role for h in before] == [HandlingRole.CONTROLLER, HandlingRole.SUBCONTRACTOR,
                                        HandlingRole.SUBCONTRACTOR, HandlingRole.THIRD_PARTY]
    assert all(h.excluded and R.CUSTOMER_NOT_REGISTERED in h.exclusion_reasons for h in before)
    on_the_day = await handlings(session, world["customer"], REGISTERED)
    assert [h.excluded for h in on_the_day] == [False, False, False, False]
    assert not any(R.CUSTOMER_NOT_REGISTERED in h.exclusion_reasons for h in on_the_day)


async def test_a_cancellation_dated_next_month_reads_active_today_and_cancelled_then(session, world):
    customer = await customers.cancel_customer(session, actor=ACTOR, id=world["customer"].id,
                                               cancelled_on=date(2026, 12, 25))
    assert customers.status_on(customer, TODAY) is CustomerStatus.ACTIVE
    assert customers.status_on(customer, date(2026, 12, 24)) is CustomerStatus.ACTIVE
    assert customers.status_on(customer, date(2026, 12, 25)) is CustomerStatus.CANCELLED
    active = await customers.list_customers(session, status=CustomerStatus.ACTIVE, today=TODAY)
    assert [c.id for c in active.items] == [customer.id]
    today = await handlings(session, customer, TODAY)
    assert codes(today[0].purposes) == ["P1", "P2", "P3", "P4", "P5"]
    then = await handlings(session, customer, date(2026, 12, 25))
    assert codes(then[0].purposes) == ["P2", "P3"]  # only those usable after cancellation (seed §5)
    assert party(then, "Pay Co").exclusion_reasons == [R.NO_PERMITTED_PURPOSES]


async def test_a_cancellation_before_registration_is_invalid_input_and_writes_nothing(session, world):
    with pytest.raises(InvalidInput) as raised:
        await customers.cancel_customer(session, actor=ACTOR, id=world["customer"].id, cancelled_on=date(2026, 5, 31))
    assert raised.value.field == "cancelledOn"
    stored = await session.get(Customer, world["customer"].id, populate_existing=True)
    assert (stored.cancelled_on, stored.version) == (None, 1)
    assert (await session.exec(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "customer.cancel"))).one() == 0


async def test_a_customer_cancels_once(session, world):
    await customers.cancel_customer(session, actor=ACTOR, id=world["customer"].id, cancelled_on=date(2026, 12, 25))
    with pytest.raises(InvalidTransition) as raised:
        await customers.cancel_customer(session, actor=ACTOR, id=world["customer"].id, cancelled_on=TODAY)
    assert raised.value.field == "id"
    stored = await session.get(Customer, world["customer"].id, populate_existing=True)
    assert stored.cancelled_on == date(2026, 12, 25)


# --- contract status and entrustments ------------------------------------------------------


async def test_a_suspension_today_leaves_last_months_handling_as_it_was(session, world):
    mail = world["mail"]
    await contracts.transition_contract(session, actor=ACTOR, id=mail.id, expected_version=mail.version,
                                        to=ContractStatus.SUSPENDED, today=TODAY, effective_on=TODAY)
    last_month = party(await handlings(session, world["customer"], LAST_MONTH), "Mail Co")
    assert not last_month.excluded and codes(last_month.data_items) == ["name", "email"]
    assert party(await handlings(session, world["customer"], TODAY), "Mail Co").exclusion_reasons == [
        R.CONTRACT_NOT_ACTIVE]
    history = (await contracts.status_histories(session, [mail.id]))[mail.id]
    assert [(c.status, c.effective_on) for c in history] == [
        (ContractStatus.ACTIVE, date(2026, 1, 1)), (ContractStatus.SUSPENDED, TODAY)]


async def test_a_suspension_dated_in_the_past_takes_effect_from_that_day(session, world):
    mail = world["mail"]
    await contracts.transition_contract(session, actor=ACTOR, id=mail.id, expected_version=mail.version,
                                        to=ContractStatus.SUSPENDED, today=TODAY, effective_on=date(2026, 11, 1))
    assert not party(await handlings(session, world["customer"], date(2026, 10, 31)), "Mail Co").excluded
    assert party(await handlings(session, world["customer"], date(2026, 11, 1)), "Mail Co").exclusion_reasons == [
        R.CONTRACT_NOT_ACTIVE]


@pytest.mark.parametrize("effective_on", [date(2026, 11, 26), date(2025, 12, 31)],
                         ids=["in the future", "before the previous change"])
async def test_a_transition_in_the_future_or_before_the_previous_change_is_invalid_input(session, world,
                                                                                      effective_on):
    mail = world["mail"]  # ACTIVE since 2026-01-01
    with pytest.raises(InvalidInput) as raised:
        await contracts.transition_contract(session, actor=ACTOR, id=mail.id, expected_version=mail.version,
                                            to=ContractStatus.SUSPENDED, today=TODAY, effective_on=effective_on)
    assert raised.value.field == "effectiveOn"
    stored = await session.get(type(mail), mail.id, populate_existing=True)
    assert (stored.status, stored.version) == (ContractStatus.ACTIVE, mail.version)
    assert await count(session, ContractStatusChange) == 2  # the factories' two, nothing more
    assert (await session.exec(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "contract.transition"))).one() == 0


async def test_an_entrustment_removed_today_still_answers_for_last_month(session, world):
    await contracts.remove_entrustment(session, actor=ACTOR, id=world["mail_entrustment"].id, today=TODAY)
    last_month = party(await handlings(session, world["customer"], LAST_MONTH), "Mail Co")
    assert not last_month.excluded
    assert (codes(last_month.data_items), codes(last_month.purposes)) == (["name", "email"], ["P2"])
    today = party(await handlings(session, world["customer"], TODAY), "Mail Co")
    assert today.excluded and (today.data_items, today.purposes) == ([], [])


async def test_an_entrustment_ended_from_next_month_is_handled_until_then_and_not_after(session, world):
    """A future effectiveOn schedules the end (DESIGN.md "Time": removal closes the period)."""
    mail_entrustment = world["mail_entrustment"]
    ended = await contracts.remove_entrustment(session, actor=ACTOR, id=mail_entrustment.id, today=TODAY,
                                               effective_on=date(2026, 12, 25))
    assert ended.effective_until == date(2026, 12, 24)
    for day in (TODAY, date(2026, 12, 24)):
        mail = party(await handlings(session, world["customer"], day), "Mail Co")
        assert not mail.excluded and codes(mail.data_items) == ["name", "email"], day
    found = (await contracts.entrustments_of(session, [world["mail"].id], as_of=TODAY))[world["mail"].id]
    assert [(e.id, e.effective_until) for e in found] == [(ended.id, date(2026, 12, 24))]
    then = party(await handlings(session, world["customer"], date(2026, 12, 25)), "Mail Co")
    assert (then.excluded, then.exclusion_reasons) == (True, [R.NO_ENTRUSTMENT_IN_EFFECT])


async def test_an_end_dated_before_the_entrustment_began_is_invalid_input_and_writes_nothing(session, world):
    mail, mail_entrustment = world["mail"], world["mail_entrustment"]  # entrusted from 2026-01-01
    with pytest.raises(InvalidInput) as raised:
        await contracts.remove_entrustment(session, actor=ACTOR, id=mail_entrustment.id, today=TODAY,
                                           effective_on=date(2025, 12, 31))
    assert raised.value.field == "effectiveOn"
    stored = await session.get(type(mail_entrustment), mail_entrustment.id, populate_existing=True)
    assert stored.effective_until is None
    assert (await session.get(type(mail), mail.id, populate_existing=True)).version == mail.version
    assert (await session.exec(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "entrustment.remove"))).one() == 0
    assert not party(await handlings(session, world["customer"], TODAY), "Mail Co").excluded


# --- the items a customer holds --------------------------------------------------------------


async def test_the_voluntary_phone_withdrawn_and_given_again_has_two_held_periods(session, world):
    customer = world["customer"]
    await customers.change_customer_items(session, actor=ACTOR, id=customer.id, remove_codes=["phone"],
                                          effective_on=date(2026, 9, 1), today=TODAY)
    await customers.change_customer_items(session, actor=ACTOR, id=customer.id, add_codes=["phone"],
                                          effective_on=date(2026, 11, 1), today=TODAY)
    history = (await customers.item_history(session, [customer.id]))[customer.id]
    assert [(period.effective_from, period.effective_until) for period, item in history if item.code == "phone"] == [
        (REGISTERED, date(2026, 8, 31)), (date(2026, 11, 1), None)]
    for day, held in [(date(2026, 8, 31), True), (date(2026, 9, 1), False), (date(2026, 10, 31), False),
                      (date(2026, 11, 1), True)]:
        controller = (await handlings(session, customer, day))[0]
        assert ("phone" in codes(controller.data_items)) is held, day


async def test_a_withdrawal_dated_before_a_later_period_ends_that_one_too(session, world):
    customer = world["customer"]
    await customers.change_customer_items(session, actor=ACTOR, id=customer.id, remove_codes=["phone"],
                                          effective_on=date(2026, 9, 1), today=TODAY)
    await customers.change_customer_items(session, actor=ACTOR, id=customer.id, add_codes=["phone"],
                                          effective_on=date(2026, 11, 1), today=TODAY)
    await customers.change_customer_items(session, actor=ACTOR, id=customer.id, remove_codes=["phone"],
                                          effective_on=date(2026, 10, 1), today=TODAY)
    held = await customers.held_items(session, [customer.id], as_of=TODAY)
    assert "phone" not in codes(held[customer.id])
    await customers.change_customer_items(session, actor=ACTOR, id=customer.id, add_codes=["phone"],
                                          effective_on=date(2026, 10, 1), today=TODAY)
    history = (await customers.item_history(session, [customer.id]))[customer.id]
    assert [(period.effective_from, period.effective_until) for period, item in history if item.code == "phone"] == [
        (REGISTERED, date(2026, 8, 31)), (date(2026, 10, 1), None)]


@pytest.mark.parametrize("change, field", [
    ({"add_codes": ["phone"], "effective_on": TODAY}, "addDataItemCodes"),  # held already: changes nothing
    ({"remove_codes": ["phone"], "effective_on": date(2026, 11, 26)}, "effectiveOn"),
    ({"remove_codes": ["phone"], "effective_on": date(2026, 5, 31)}, "effectiveOn"),
    ({"add_codes": ["phone"], "remove_codes": ["phone"], "effective_on": TODAY}, "removeDataItemCodes"),
])
async def test_a_change_of_items_that_changes_nothing_or_is_misdated_is_invalid_input(session, world, change,
                                                                                      field):
    with pytest.raises(InvalidInput) as raised:
        await customers.change_customer_items(session, actor=ACTOR, id=world["customer"].id, today=TODAY, **change)
    assert raised.value.field == field
    history = (await customers.item_history(session, [world["customer"].id]))[world["customer"].id]
    assert [(p.effective_from, p.effective_until) for p, _ in history] == [(REGISTERED, None)] * 4


async def test_a_completed_deletion_of_the_phone_only_leaves_the_other_items(session, world, clock):
    customer = world["customer"]
    await complete(session, clock, customer, RequestKind.DELETION, data_item_codes=["phone"])
    controller = (await handlings(session, customer, TODAY))[0]
    assert codes(controller.data_items) == ["name", "email", "amount"]
    assert codes((await handlings(session, customer, date(2026, 11, 24)))[0].data_items) == [
        "name", "email", "phone", "amount"]
    stored = await session.get(Customer, customer.id, populate_existing=True)
    assert (stored.display_name, stored.email) == ("Hanako", "hanako@example.test")  # not erased


async def test_a_completed_deletion_naming_nothing_closes_every_item_and_erases_the_name(session, world, clock):
    customer = world["customer"]
    await complete(session, clock, customer, RequestKind.DELETION)
    assert (await handlings(session, customer, TODAY))[0].exclusion_reasons == [R.NO_HELD_DATA_ITEMS]
    assert not (await handlings(session, customer, date(2026, 11, 24)))[0].excluded
    stored = await session.get(Customer, customer.id, populate_existing=True)
    assert (stored.display_name, stored.email) == (None, None)


async def test_a_completed_correction_adds_and_removes_items_from_its_resolution(session, world, clock):
    customer = world["customer"]
    await complete(session, clock, customer, RequestKind.CORRECTION, add_data_item_codes=["bank_account"],
                   remove_data_item_codes=["phone"])
    assert codes((await handlings(session, customer, TODAY))[0].data_items) == [
        "name", "email", "amount", "bank_account"]
    assert codes((await handlings(session, customer, date(2026, 11, 24)))[0].data_items) == [
        "name", "email", "phone", "amount"]


# --- scoped requests ---------------------------------------------------------------------------


async def test_a_stop_use_of_marketing_mail_only_leaves_billing_handled(session, world, clock):
    customer = world["customer"]
    await complete(session, clock, customer, RequestKind.STOP_USE, purpose_codes=["P2"])
    today = await handlings(session, customer, TODAY)
    assert codes(today[0].purposes) == ["P1", "P3", "P4", "P5"]
    assert party(today, "Mail Co").exclusion_reasons == [R.USE_STOPPED]
    for name in ("Pay Co", "Bank"):
        billing = party(today, name)
        assert not billing.excluded and codes(billing.purposes) == ["P5"]
    assert not party(await handlings(session, customer, date(2026, 11, 24)), "Mail Co").excluded


async def test_a_stop_use_naming_no_purpose_stops_them_all(session, world, clock):
    await complete(session, clock, world["customer"], RequestKind.STOP_USE)
    today = await handlings(session, world["customer"], TODAY)
    assert all(R.USE_STOPPED in h.exclusion_reasons for h in today)


async def test_a_stop_of_third_party_provision_to_one_recipient_leaves_the_others(session, world, clock):
    ps, its = world["purposes"], world["items"]
    other = await f.recipient(session, name="Collector")
    await f.provision(session, world["biz"], other, [ps["P5"]], [its["name"]])
    await session.commit()
    await complete(session, clock, world["customer"], RequestKind.STOP_THIRD_PARTY_PROVISION,
                   recipient_ids=[world["bank"].id])
    today = await handlings(session, world["customer"], TODAY)
    assert party(today, "Bank").exclusion_reasons == [R.THIRD_PARTY_PROVISION_STOPPED]
    assert not party(today, "Collector").excluded


# --- re-entrustment ------------------------------------------------------------------------------


async def test_a_re_entrustment_under_a_parent_contract_without_consent_is_not_permitted(session, world):
    biz, ps, its = world["biz"], world["purposes"], world["items"]
    parent = await f.subcontractor(session, name="Survey Co")
    await f.assessment(session, parent)
    await f.entrustment(session, await f.contract(session, biz, parent), [ps["P3"]], [its["name"]])
    child = await f.subcontractor(session, name="Panel Co", parent_id=parent.id)
    await f.assessment(session, child)
    child_contract = await f.contract(session, biz, child)
    await f.entrustment(session, child_contract, [ps["P3"]], [its["name"]])
    today = await handlings(session, world["customer"], TODAY)
    assert not party(today, "Survey Co").excluded
    assert party(today, "Panel Co").exclusion_reasons == [R.SUB_ENTRUSTMENT_NOT_PERMITTED]
    found = await compliance_findings(session, today=TODAY)
    assert [x.subject.id for x in found if x.code == "SUB_ENTRUSTMENT_WITHOUT_CONSENT"] == [child_contract.id]


async def test_a_re_entrustment_under_a_consenting_parent_contract_is_handled(session, world):
    biz, ps, its = world["biz"], world["purposes"], world["items"]
    parent = await f.subcontractor(session, name="Survey Co")
    await f.entrustment(session, await f.contract(session, biz, parent, clauses=CONSENT), [ps["P3"]], [its["name"]])
    child = await f.subcontractor(session, name="Panel Co", parent_id=parent.id)
    await f.entrustment(session, await f.contract(session, biz, child), [ps["P3"]], [its["name"]])
    assert not party(await handlings(session, world["customer"], TODAY), "Panel Co").excluded


# --- provision records (APPI Art. 29) -----------------------------------------------------------


async def record(session, world, provided_on, codes_=("name", "amount")):
    return await provisions.record_provision(
        session, actor=ACTOR, provision_id=world["provision"].id, customer_id=world["customer"].id,
        provided_on=provided_on, data_item_codes=list(codes_), today=TODAY,
    )


async def refused(session, world, provided_on, reason: str | None):
    with pytest.raises(ProvisionNotApplicable) as raised:
        await record(session, world, provided_on)
    assert raised.value.field == "providedOn"
    assert reason is None or reason in raised.value.message
    assert (await count(session, ProvisionRecord),
            (await session.exec(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "provision.record"))).one()) == (0, 0)


async def test_no_record_for_a_cancelled_customer_whose_purposes_no_longer_allow_the_provision(session, world):
    await customers.cancel_customer(session, actor=ACTOR, id=world["customer"].id, cancelled_on=date(2026, 10, 1))
    await refused(session, world, date(2026, 11, 20), "NO_PERMITTED_PURPOSES")
    assert (await record(session, world, date(2026, 9, 30))).provided_on == date(2026, 9, 30)  # still active then


async def test_no_record_after_a_stop_use(session, world, clock):
    await complete(session, clock, world["customer"], RequestKind.STOP_USE)
    await refused(session, world, TODAY, "USE_STOPPED")


async def test_no_record_after_a_deletion(session, world, clock):
    await complete(session, clock, world["customer"], RequestKind.DELETION)
    await refused(session, world, TODAY, "NO_HELD_DATA_ITEMS")


async def test_no_record_before_registration_or_in_the_future(session, world):
    await refused(session, world, date(2026, 5, 31), "CUSTOMER_NOT_REGISTERED")
    await refused(session, world, date(2029, 11, 25), "future")
    await refused(session, world, date(2026, 11, 26), "future")


async def test_no_record_under_a_provision_ended_before_that_day(session, world):
    world["provision"].effective_until = date(2026, 10, 31)
    session.add(world["provision"])
    await session.commit()
    await refused(session, world, date(2026, 11, 1), "not in effect")
    assert (await record(session, world, date(2026, 10, 31))).provided_on == date(2026, 10, 31)
