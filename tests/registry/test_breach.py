import random
from datetime import date

import pytest
import sqlalchemy as sa

from registry.breach import breach_impact
from registry.enums import (
    BreachCause, ContractStatus, CustomerStatus, RequestKind, RequestScope, RequestStatus, Sensitivity,
)
from registry.errors import NotFound
from registry.handling import handled_by, resolve_handlings
from registry.models import Customer, CustomerDataItem, DataItem, RequestTarget
from tests import factories as f

TODAY = date(2026, 11, 25)


async def _varied_registry(session):
    """A business with a chain, a subcontractor with two contracts, an idle one, a provision,
    and 30 customers in varied states (items, cancellation, requests before and after today)."""
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    parent = await f.subcontractor(session, name="Survey Co")
    child = await f.subcontractor(session, name="Panel Co", parent_id=parent.id)
    support = await f.subcontractor(session, name="Support Co")
    idle = await f.subcontractor(session, name="Idle Co")
    entrust = [
        (parent, {}, ["P3"], ["name", "email"]),
        (child, {}, ["P3", "P4"], ["email", "phone"]),
        (support, {}, ["P1"], ["name"]),
        (support, {}, ["P2"], ["phone"]),
        (support, {"status": ContractStatus.SUSPENDED}, ["P4"], ["email"]),
        (idle, {"expires_on": date(2026, 6, 30)}, ["P1"], ["name"]),
    ]
    for sub, overrides, purpose_codes, item_codes in entrust:
        contract = await f.contract(session, biz, sub, **overrides)
        await f.entrustment(session, contract, [purposes[c] for c in purpose_codes], [items[c] for c in item_codes])
    bank = await f.recipient(session)
    await f.provision(session, biz, bank, [purposes["P5"]],
                      [items[c] for c in ("name", "amount", "credit_card_number", "bank_account")])
    rng = random.Random(7)
    customers = []
    for n in range(30):
        held = [i for i in items.values() if rng.random() < 0.5]
        overrides = {}
        if n % 4 == 1:
            overrides = {"status": CustomerStatus.CANCELLED, "cancelled_on": date(2026, 10, 1)}
        elif n % 4 == 2:
            overrides = {"status": CustomerStatus.CANCELLED, "cancelled_on": date(2026, 12, 1)}
        cust = await f.customer(session, biz, held, **overrides)
        customers.append(cust)
        if n % 5 == 3:
            kind = rng.choice(list(RequestKind))
            resolved_on = rng.choice([date(2026, 11, 1), TODAY, date(2026, 12, 5)])
            status = rng.choice([RequestStatus.COMPLETED, RequestStatus.COMPLETED, RequestStatus.IN_PROGRESS])
            await f.request(session, cust, kind, status=status,
                            resolved_on=resolved_on if status == RequestStatus.COMPLETED else None)
    await session.commit()
    return biz, [parent, child, support, idle, bank], customers


# what each party of `_varied_registry` holds: the items its contracts that were put to use
# gave it (an expired or suspended one included: no data return is recorded), a re-entrusted
# one within its parent's; the recipient what its provision gives; the business everything
HOLDS = {
    "Survey Co": {"name", "email"},
    "Panel Co": {"email"},  # {email, phone} within its parent's {name, email}
    "Support Co": {"name", "phone", "email"},  # the suspended contract's email too
    "Idle Co": {"name"},  # expired in June, never returned
    "Financial institutions": {"name", "amount", "credit_card_number", "bank_account"},
}


async def _expected(session, party, customers, codes=None):
    """(affected, in use, items) computed customer by customer: held from the controller's
    handling (whatever the business holds), in use from handling resolution."""
    affected = in_use = 0
    items: set[str] = set()
    for cust in customers:
        found = await resolve_handlings(session, cust.id, as_of=TODAY, include_excluded=True)
        held = {i.code for h in found if h.party.__class__.__name__ == "Business" for i in h.data_items}
        exposed = {c for c in held & HOLDS.get(party.name, held) if codes is None or c in codes}
        used = {i.code for h in found if not h.excluded and handled_by(h, party) for i in h.data_items
                if codes is None or i.code in codes}
        affected += bool(exposed)
        in_use += bool(used)
        items |= exposed
    return affected, in_use, items


async def test_breach_counts_what_each_party_holds_and_uses_as_resolution_says(session):
    biz, parties, customers = await _varied_registry(session)
    counts = []
    for party in [biz, *parties]:
        for codes in (None, ["name"], ["email", "phone"]):
            impact = await breach_impact(session, party=party, today=TODAY, data_item_codes=codes)
            affected, in_use, items = await _expected(session, party, customers, codes)
            assert (impact.affected_customers, impact.customers_in_use) == (affected, in_use), (party.name, codes)
            assert {i.code for i in impact.data_items} == items, (party.name, codes)
            counts.append((affected, in_use))
    assert len(set(counts)) > 4  # the dataset really varies
    assert any(a > u for a, u in counts)  # and some held data is no longer used


async def test_a_party_whose_contract_never_started_holds_nothing(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    sub = await f.subcontractor(session)
    draft = await f.contract(session, biz, sub, status=ContractStatus.DRAFT)
    await f.entrustment(session, draft, [purposes["P1"]], [items["name"]])
    await f.customer(session, biz, [items["name"]])
    await session.commit()
    impact = await breach_impact(session, party=sub, today=TODAY, cause=BreachCause.MALICIOUS,
                                 discovered_on=TODAY)
    assert (impact.affected_customers, impact.customers_in_use, impact.data_items) == (0, 0, [])
    assert not impact.reportable and impact.reasons == [] and impact.preliminary_report_due_on is None


async def test_an_ended_contract_holds_its_data_until_the_return_is_recorded(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    sub = await f.subcontractor(session)
    ended = await f.contract(session, biz, sub, expires_on=date(2026, 6, 30))
    await f.entrustment(session, ended, [purposes["P1"]], [items["name"]])
    await f.customer(session, biz, [items["name"]])
    await session.commit()
    impact = await breach_impact(session, party=sub, today=TODAY)
    assert (impact.affected_customers, impact.customers_in_use) == (1, 0)
    ended.data_returned_on = date(2026, 7, 10)
    session.add(ended)
    await session.commit()
    assert (await breach_impact(session, party=sub, today=date(2026, 7, 9))).affected_customers == 1
    assert (await breach_impact(session, party=sub, today=TODAY)).affected_customers == 0


async def test_customers_under_stop_use_are_held_but_not_in_use(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    stopped, marketing_only, plain = [await f.customer(session, biz, [items["name"]]) for _ in range(3)]
    await f.request(session, stopped, RequestKind.STOP_USE, status=RequestStatus.COMPLETED,
                    resolved_on=date(2026, 11, 1))
    request = await f.request(session, marketing_only, RequestKind.STOP_USE, status=RequestStatus.COMPLETED,
                              resolved_on=date(2026, 11, 1))
    session.add(RequestTarget(request_id=request.id, scope=RequestScope.PURPOSE, target_id=purposes["P2"].id))
    await session.commit()
    impact = await breach_impact(session, party=biz, today=TODAY)
    assert (impact.affected_customers, impact.customers_in_use) == (3, 2)
    before = await breach_impact(session, party=biz, today=date(2026, 10, 31))
    assert (before.affected_customers, before.customers_in_use) == (3, 3)


async def test_a_card_number_risks_property_damage_and_an_amount_alone_does_not(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    bank = await f.recipient(session)
    await f.provision(session, biz, bank, [purposes["P5"]], [items["amount"], items["credit_card_number"]])
    await f.customer(session, biz, [items["amount"], items["credit_card_number"]])
    await session.commit()
    assert items["amount"].sensitivity == Sensitivity.FINANCIAL
    impact = await breach_impact(session, party=bank, today=TODAY, discovered_on=date(2026, 11, 20))
    assert impact.affected_customers == 1 and impact.reportable
    assert impact.reasons == ["PPC Rules Art. 7(ii): risk of property damage: credit card number"]
    assert (impact.preliminary_report_due_on, impact.final_report_due_on) == (date(2026, 11, 25), date(2026, 12, 20))
    amount = await breach_impact(session, party=bank, today=TODAY, data_item_codes=["amount"],
                                 discovered_on=date(2026, 11, 20))
    assert amount.affected_customers == 1 and not amount.reportable and amount.reasons == []
    assert (amount.preliminary_report_due_on, amount.final_report_due_on) == (None, None)


async def test_a_malicious_cause_is_reportable_whatever_the_items_with_sixty_days_for_the_final_report(session):
    biz = await f.business(session)
    items = await f.items(session, biz)
    await f.customer(session, biz, [items["email"]])
    await session.commit()
    accidental = await breach_impact(session, party=biz, today=TODAY, cause=BreachCause.ACCIDENTAL,
                                     discovered_on=date(2026, 11, 20))
    assert not accidental.reportable and accidental.final_report_due_on is None
    malicious = await breach_impact(session, party=biz, today=TODAY, cause=BreachCause.MALICIOUS,
                                    discovered_on=date(2026, 11, 20))
    assert malicious.reportable and malicious.cause == BreachCause.MALICIOUS
    assert malicious.reasons == ["PPC Rules Art. 7(iii): malicious act (unauthorised access, theft)"]
    assert (malicious.preliminary_report_due_on, malicious.final_report_due_on) == (
        date(2026, 11, 25), date(2027, 1, 19))
    undated = await breach_impact(session, party=biz, today=TODAY, cause=BreachCause.MALICIOUS)
    assert undated.reportable and (undated.preliminary_report_due_on, undated.final_report_due_on) == (None, None)


async def test_special_care_items_make_a_breach_reportable(session):
    biz = await f.business(session)
    health = DataItem(business_id=biz.id, code="health", name="medical history", sensitivity=Sensitivity.SPECIAL_CARE)
    session.add(health)
    await session.flush()
    await f.customer(session, biz, [health])
    await session.commit()
    impact = await breach_impact(session, party=biz, today=TODAY)
    assert impact.reportable
    assert impact.reasons == ["PPC Rules Art. 7(i): special care-required personal information: medical history"]


async def test_customers_registered_later_or_items_no_longer_held_are_not_affected(session):
    biz = await f.business(session)
    items = await f.items(session, biz)
    await f.customer(session, biz, [items["email"]], registered_on=date(2026, 12, 1))
    withdrawn = await f.customer(session, biz, [items["phone"]])
    for period in (await session.exec(sa.select(CustomerDataItem).where(
            CustomerDataItem.customer_id == withdrawn.id))).scalars():
        period.effective_until = date(2026, 11, 1)
        session.add(period)
    await session.commit()
    assert (await breach_impact(session, party=biz, today=TODAY)).affected_customers == 0
    assert (await breach_impact(session, party=biz, today=date(2026, 12, 1))).affected_customers == 1
    assert (await breach_impact(session, party=biz, today=date(2026, 10, 1))).affected_customers == 1


async def test_more_than_a_thousand_people_make_a_breach_reportable(session):
    biz = await f.business(session)
    items = await f.items(session, biz)
    sub = await f.subcontractor(session)
    contract = await f.contract(session, biz, sub)
    await f.entrustment(session, contract, [(await f.purposes(session, biz))["P1"]], [items["email"]])
    for n in (1000, 1):
        start = (await session.exec(sa.select(sa.func.count()).select_from(Customer))).one()[0]
        await session.exec(sa.insert(Customer), params=[
            {"business_id": biz.id, "external_ref": f"BULK-{start + k}", "registered_on": f.SINCE}
            for k in range(n)
        ])
        ids = (await session.exec(sa.select(Customer.id).where(Customer.business_id == biz.id))).all()
        await session.exec(sa.delete(CustomerDataItem))
        await session.exec(sa.insert(CustomerDataItem), params=[
            {"customer_id": row[0], "data_item_id": items["email"].id, "effective_from": f.SINCE} for row in ids
        ])
        await session.commit()
        impact = await breach_impact(session, party=sub, today=TODAY)
        if n == 1000:
            assert impact.affected_customers == 1000 and not impact.reportable
    assert impact.affected_customers == 1001 and impact.reportable
    assert impact.reasons == ["PPC Rules Art. 7(iv): 1,001 people affected (more than 1,000)"]


async def test_unknown_item_code_is_not_found(session):
    biz = await f.business(session)
    await session.commit()
    with pytest.raises(NotFound) as err:
        await breach_impact(session, party=biz, today=TODAY, data_item_codes=["blood_type"])
    assert err.value.field == "dataItemCodes"
