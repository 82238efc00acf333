"""Pagination, and the batched reads the GraphQL DataLoaders depend on."""

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlmodel import select

from registry import businesses, contracts, customers, provisions, requests, subcontractors
from registry.enums import RequestKind
from registry.errors import InvalidInput
from registry.lookup import rows_by_ids
from registry.models import Contract, Customer, Subcontractor
from registry.pages import group_by, paginate
from tests import factories
from tests.conftest import TEST_CLOCK


async def _subs(session, n):
    rows = [
        await factories.subcontractor(session, name=f"S{i}", country="JP" if i % 2 else "US")
        for i in range(n)
    ]
    await session.commit()
    return [r.id for r in rows]


async def test_pages_follow_id_order_after_the_previous_pages_last_id(session):
    ids = await _subs(session, 5)
    stmt = select(Subcontractor)
    first = await paginate(session, stmt, first=2, after_id=None, id_col=Subcontractor.id)
    assert [s.id for s in first.items] == ids[:2]
    assert (first.has_next, first.total) == (True, 5)
    last = await paginate(session, stmt, first=2, after_id=ids[3], id_col=Subcontractor.id)
    assert [s.id for s in last.items] == ids[4:]
    assert (last.has_next, last.total) == (False, 5)


async def test_total_counts_the_whole_filtered_selection(session):
    await _subs(session, 5)
    stmt = select(Subcontractor).where(Subcontractor.country == "JP")
    page = await paginate(session, stmt, first=1, after_id=None, id_col=Subcontractor.id)
    assert (len(page.items), page.has_next, page.total) == (1, True, 2)


async def test_an_empty_page_still_tells_whether_rows_follow(session):
    await _subs(session, 1)
    page = await paginate(session, select(Subcontractor), first=0, after_id=None, id_col=Subcontractor.id)
    assert (page.items, page.has_next, page.total) == ([], True, 1)


@pytest.mark.parametrize("first", [-1, 1001])
async def test_first_outside_0_to_1000_is_invalid_input(session, first):
    with pytest.raises(InvalidInput) as raised:
        await paginate(session, select(Subcontractor), first=first, after_id=None, id_col=Subcontractor.id)
    assert raised.value.field == "first"


def test_grouping_answers_every_key_asked_for():
    assert group_by([1, 2], [(1, "a"), (1, "b")], lambda r: r[0]) == {1: [(1, "a"), (1, "b")], 2: []}


@contextmanager
def counting(db):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.writer.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.writer.sync_engine, "before_cursor_execute", count)


async def _world(session, clock, n):
    """n businesses, each with a subcontractor, contract, entrustment, customer, request, provision."""
    keys = {
        k: [] for k in ("business", "sub", "contract", "entrustment", "customer", "recipient", "provision")
    }
    for _ in range(n):
        biz = await factories.business(session)
        ps, its = await factories.purposes(session, biz), await factories.items(session, biz)
        sub = await factories.subcontractor(session)
        await factories.assessment(session, sub)
        con = await factories.contract(session, biz, sub)
        ent = await factories.entrustment(session, con, [ps["P1"]], [its["name"]])
        cust = await factories.customer(session, biz, [its["name"]])
        await factories.request(session, cust, RequestKind.DISCLOSURE)
        rec = await factories.recipient(session)
        prov = await factories.provision(session, biz, rec, [ps["P5"]], [its["amount"]])
        for key, row in zip(keys, (biz, sub, con, ent, cust, rec, prov)):
            keys[key].append(row.id)
    await session.commit()
    return keys


def _rows_of(model):
    """`rows_by_ids` for one table, as the node DataLoaders call it."""

    async def fetch(session, ids):
        return await rows_by_ids(session, model, ids)

    fetch.__name__ = f"rows_by_ids[{model.__name__}]"
    return fetch


def _on_day(read):
    """A reader that asks about one day (`as_of`), on the day of the tests' clock."""

    async def fetch(session, ids):
        return await read(session, ids, as_of=TEST_CLOCK.today())

    fetch.__name__ = f"{read.__name__}[as_of]"
    return fetch


BATCHED = [
    (businesses.purposes_of, "business"),
    (businesses.data_items_of, "business"),
    (subcontractors.subcontractors_by_ids, "sub"),
    (subcontractors.management_systems, "sub"),
    (contracts.contracts_of_subcontractors, "sub"),
    (_rows_of(Contract), "contract"),
    (contracts.entrustments_of, "contract"),
    (_on_day(contracts.entrustments_of), "contract"),
    (contracts.status_histories, "contract"),
    (contracts.entrustment_links, "entrustment"),
    (_on_day(customers.held_items), "customer"),
    (customers.item_history, "customer"),
    (_rows_of(Customer), "customer"),
    (requests.requests_of, "customer"),
    (provisions.records_of_customers, "customer"),
    (provisions.provisions_of_recipients, "recipient"),
    (provisions.recipients_by_ids, "recipient"),
    (provisions.provision_links, "provision"),
    (provisions.provisions_by_ids, "provision"),
]


@pytest.mark.parametrize("fetch, key", BATCHED, ids=[f.__name__ for f, _ in BATCHED])
async def test_a_batched_read_runs_the_same_queries_for_one_id_as_for_many(db, clock, fetch, key):
    async with db.session(write=True) as session:
        ids = (await _world(session, clock, 4))[key]
    async with db.session(write=True) as session:
        with counting(db) as one:
            await fetch(session, ids[:1])
    async with db.session(write=True) as session:
        with counting(db) as many:
            answer = await fetch(session, ids + [10_000])
    queries = [s for s in many if s.lstrip().upper().startswith("SELECT")]
    assert 1 <= len(queries) <= 4  # links: the pairs, then the distinct targets, per link table
    assert len(queries) == len([s for s in one if s.lstrip().upper().startswith("SELECT")])
    for part in answer if isinstance(answer, tuple) else (answer,):
        assert set(ids) <= set(part)


async def test_current_contract_statuses_batch_and_answer_every_id(db, clock):
    async with db.session(write=True) as session:
        ids = (await _world(session, clock, 3))["sub"]
    async with db.session(write=True) as session:
        with counting(db) as statements:
            statuses = await subcontractors.current_contract_statuses(
                session, ids + [10_000], today=clock.today()
            )
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert statuses[10_000] is None and all(statuses[i] == "ACTIVE" for i in ids)
