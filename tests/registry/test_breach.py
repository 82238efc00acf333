import random
from datetime import date

import pytest
import sqlalchemy as sa

from registry.breach import breach_impact
from registry.enums import ContractStatus, CustomerStatus, RequestKind, RequestStatus, Sensitivity
from registry.errors import NotFound
from registry.handling import handled_by, resolve_handlings
from registry.models import Customer, CustomerDataItem, DataItem
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


async def _expected(session, party, customers, codes=None):
    affected, items = 0, set()
    for cust in customers:
        handled = {
            i.code for h in await resolve_handlings(session, cust.id, as_of=TODAY)
            if handled_by(h, party) for i in h.data_items if codes is None or i.code in codes
        }
        affected += bool(handled)
        items |= handled
    return affected, items


async def test_breach_count_matches_handling_resolution_for_every_party(session):
    biz, parties, customers = await _varied_registry(session)
    counts = []
    for party in [biz, *parties]:
        for codes in (None, ["name"], ["email", "phone"]):
            impact = await breach_impact(session, party=party, today=TODAY, data_item_codes=codes)
            expected_count, expected_items = await _expected(session, party, customers, codes)
            assert impact.affected_customers == expected_count, (party.name, codes)
            assert {i.code for i in impact.data_items} == expected_items, (party.name, codes)
            counts.append(expected_count)
    assert len(set(counts)) > 4  # the dataset really varies


async def test_party_handling_nothing_today_affects_nobody(session):
    biz, (_, _, _, idle, _), _ = await _varied_registry(session)
    impact = await breach_impact(session, party=idle, today=TODAY)
    assert impact.affected_customers == 0 and impact.data_items == []
    assert not impact.reportable and impact.reasons == []


async def test_financial_items_make_a_breach_reportable(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    bank = await f.recipient(session)
    await f.provision(session, biz, bank, [purposes["P5"]], [items["name"], items["credit_card_number"]])
    await f.customer(session, biz, [items["name"], items["credit_card_number"]])
    await session.commit()
    impact = await breach_impact(session, party=bank, today=TODAY)
    assert impact.affected_customers == 1 and impact.reportable
    assert impact.reasons == [
        "FINANCIAL items: credit card number (risk of property damage, APPI Art. 26 / Rules Art. 7(ii))"
    ]
    limited = await breach_impact(session, party=bank, today=TODAY, data_item_codes=["name"])
    assert limited.affected_customers == 1 and not limited.reportable and limited.reasons == []


async def test_special_care_items_make_a_breach_reportable(session):
    biz = await f.business(session)
    health = DataItem(business_id=biz.id, code="health", name="medical history", sensitivity=Sensitivity.SPECIAL_CARE)
    session.add(health)
    await session.flush()
    await f.customer(session, biz, [health])
    await session.commit()
    impact = await breach_impact(session, party=biz, today=TODAY)
    assert impact.reportable and len(impact.reasons) == 1
    assert impact.reasons[0].startswith("SPECIAL_CARE items: medical history")


async def test_more_than_a_thousand_people_make_a_breach_reportable(session):
    biz = await f.business(session)
    items = await f.items(session, biz)
    sub = await f.subcontractor(session)
    contract = await f.contract(session, biz, sub)
    await f.entrustment(session, contract, [(await f.purposes(session, biz))["P1"]], [items["email"]])
    for n in (1000, 1):
        start = (await session.exec(sa.select(sa.func.count()).select_from(Customer))).one()[0]
        await session.exec(sa.insert(Customer), params=[
            {"business_id": biz.id, "external_ref": f"BULK-{start + k}", "status": CustomerStatus.ACTIVE}
            for k in range(n)
        ])
        ids = (await session.exec(sa.select(Customer.id).where(Customer.business_id == biz.id))).all()
        await session.exec(sa.delete(CustomerDataItem))
        await session.exec(sa.insert(CustomerDataItem), params=[
            {"customer_id": row[0], "data_item_id": items["email"].id} for row in ids
        ])
        await session.commit()
        impact = await breach_impact(session, party=sub, today=TODAY)
        if n == 1000:
            assert impact.affected_customers == 1000 and not impact.reportable
    assert impact.affected_customers == 1001 and impact.reportable
    assert impact.reasons == ["1,001 people affected (more than 1,000, APPI Art. 26 / Rules Art. 7(iv))"]


async def test_unknown_item_code_is_not_found(session):
    biz = await f.business(session)
    await session.commit()
    with pytest.raises(NotFound) as err:
        await breach_impact(session, party=biz, today=TODAY, data_item_codes=["blood_type"])
    assert err.value.field == "dataItemCodes"
