"""Handlings of many customers at once (registry/handling.py `resolve_handlings_of`, issue 15).

On a copy of the demo registry (its customers in every state: active, cancelled, stopped,
deleted, with a withdrawn item), one of its hosts moved abroad without an Art. 28 basis a month
ago (so days before it read the parties' history): the batched answer for every
customer equals one built customer by customer from the rules' own parts, on days before,
across and after the registry's history, read afresh or through a business-context cache;
and the statements it sends do not grow with the customers, today and on a past day.
"""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from registry import customers, jurisdictions, subcontractors
from registry.db import Database
from registry.demo import BUSINESS
from registry.handling import (
    BusinessContexts,
    completed_stops,
    customer_state,
    derive_handlings,
    is_cancelled_on,
    is_registered_on,
    load_business_context,
    party_key,
    resolve_handlings_of,
)
from registry.models import Business, Customer, CustomerDataItem, Subcontractor
from registry.periods import in_effect
from tests.conftest import BACKENDS, POSTGRES_URL, demo_registry
from tests.statements import Statements

TODAY = date(2026, 11, 25)  # the demo template's day (tests/conftest.py TEST_CLOCK)
DAYS = [TODAY - timedelta(days=n) for n in (500, 400, 200, 61, 60, 31, 30, 20, 1)] + [TODAY, TODAY + timedelta(days=30)]
UNKNOWN = 424242


MOVED_ON = TODAY - timedelta(days=30)


@pytest.fixture(params=BACKENDS)
async def demo(request, templates, tmp_path):
    """A Database on a copy of the demo registry whose hosting company moved to the US without
    a basis from MOVED_ON."""
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL: set PI_GATEWAY_TEST_POSTGRES_URL to run this test on PostgreSQL")
    async with templates.copy(request.param, demo_registry, tmp_path / "registry.db") as url:
        database = Database.connect(url)
        async with database.session(write=True) as session:
            host = (await session.exec(select(Subcontractor).where(Subcontractor.name.startswith("Kumo")))).one()
            await subcontractors.update_subcontractor(
                session, actor="test", id=host.id, expected_version=host.version, today=TODAY,
                changes={"country": "US", "foreign_transfer_basis": None}, effective_on=MOVED_ON)
        yield database
        await database.dispose()


def comparable(handlings) -> list[tuple]:
    return [(party_key(h.party), h.role, h.excluded, tuple(h.exclusion_reasons), tuple(i.code for i in h.data_items),
             tuple(p.code for p in h.purposes), None if h.contract is None else h.contract.id,
             None if h.provision is None else h.provision.id, tuple(s.id for s in h.chain)) for h in handlings]


async def one_by_one(session, customer_id: int, day: date) -> list[tuple]:
    """The customer's handlings on `day` (excluded ones included) from the rules' parts, every
    fact read for this customer alone: the reference the batch must equal."""
    customer = await session.get(Customer, customer_id)
    ctx = await load_business_context(session, await session.get(Business, customer.business_id))
    held = await session.exec(select(CustomerDataItem.data_item_id).where(
        CustomerDataItem.customer_id == customer_id, in_effect(CustomerDataItem, day)))
    stops = (await completed_stops(session, [customer_id], day)).get(customer_id, [])
    state = customer_state(ctx, day, held=frozenset(held.all()), cancelled=is_cancelled_on(customer, day),
                           registered=is_registered_on(customer, day), stops=stops)
    on_day = None if day >= TODAY else await jurisdictions.on_day(session, ctx.business.id, day)
    return comparable(derive_handlings(ctx, state, day, on_day))


async def customer_ids(database: Database) -> list[int]:
    async with database.session() as session:
        return list((await session.exec(select(Customer.id).order_by(Customer.id))).all())


@pytest.mark.parametrize("cached", [False, True], ids=["afresh", "cached"])
async def test_every_demo_customer_gets_in_a_batch_what_they_get_alone(demo, cached):
    ids = await customer_ids(demo)
    assert len(ids) == 8
    contexts = BusinessContexts() if cached else None
    for day in DAYS:
        async with demo.session() as session:
            expected = {customer_id: await one_by_one(session, customer_id, day) for customer_id in ids}
        async with demo.session() as session:
            found = await resolve_handlings_of(session, [*reversed(ids), UNKNOWN, ids[0]], as_of=day, today=TODAY,
                                               include_excluded=True, contexts=contexts)
        assert list(found) == list(reversed(ids)), "each known customer once, an unknown one left out"
        assert {customer_id: comparable(h) for customer_id, h in found.items()} == expected, day
        async with demo.session() as session:
            included = await resolve_handlings_of(session, ids, as_of=day, today=TODAY, contexts=contexts)
        assert {customer_id: comparable(h) for customer_id, h in included.items()} == {
            customer_id: [h for h in answer if not h[2]] for customer_id, answer in expected.items()}, day


async def test_the_demo_days_tell_customers_apart(demo):
    """The comparison above is worth something: the answers differ between customers and days."""
    ids = await customer_ids(demo)
    async with demo.session() as session:
        answers = {(customer_id, day): tuple(await one_by_one(session, customer_id, day))
                   for customer_id in ids for day in DAYS}
    assert len({answers[customer_id, TODAY] for customer_id in ids}) >= 5
    assert len({answers[ids[0], day] for day in DAYS}) >= 3
    host_abroad = [h for h in answers[ids[0], MOVED_ON] if "FOREIGN_TRANSFER_WITHOUT_BASIS" in h[3]]
    assert host_abroad and not [h for h in answers[ids[0], MOVED_ON - timedelta(days=1)] if h[0] == host_abroad[0][0]
                                and "FOREIGN_TRANSFER_WITHOUT_BASIS" in h[3]]


async def register(database: Database, count: int) -> list[int]:
    """`count` more customers in a few different states (items held, cancelled or not)."""
    item_sets = [["name", "email"], ["name", "email", "phone", "amount", "credit_card_number"], ["name"]]
    made = []
    async with database.session(write=True) as session:
        for n in range(count):
            customer = await customers.register_customer(
                session, actor="test", business_code=BUSINESS, external_ref=f"BATCH-{n:04d}",
                display_name=f"Batched {n} (fictional)", email=None, data_item_codes=item_sets[n % 3],
                registered_on=TODAY - timedelta(days=100 + n), today=TODAY)
            if n % 4 == 3:
                await customers.cancel_customer(session, actor="test", id=customer.id,
                                                cancelled_on=TODAY - timedelta(days=40))
            made.append(customer.id)
    return made


@pytest.mark.parametrize("day", [TODAY, TODAY - timedelta(days=50)], ids=["today", "past"])
async def test_twenty_customers_cost_the_statements_of_one(demo, day):
    ids = (await customer_ids(demo)) + await register(demo, 12)
    assert len(ids) == 20

    async def statements(wanted: list[int], contexts: BusinessContexts | None) -> int:
        async with demo.session() as session:
            with Statements(demo.reader) as sent:
                found = await resolve_handlings_of(session, wanted, as_of=day, today=TODAY, contexts=contexts)
        assert list(found) == wanted
        return sent.count

    afresh = {size: await statements(ids[:size], None) for size in (1, 20)}
    assert afresh[1] == afresh[20], afresh
    contexts = BusinessContexts()
    await statements(ids, contexts)  # the context read and every state derived: cached from here on
    cached = {size: await statements(ids[:size], contexts) for size in (1, 20)}
    assert cached[1] == cached[20] < afresh[1], cached
    # the version, the customers with their business, their held items, their stop requests
    assert cached[20] == 4, cached
