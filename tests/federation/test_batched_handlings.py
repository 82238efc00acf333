"""Handlings of a page of customers, or of federation's `_entities`, in a constant number of
statements (issue 15): twenty customers cost what one costs, today and on a past day, whether
the app's business context is yet to be read or already cached; each customer's handlings
in a batch are those it gets alone. The apps' fast paths are strict (tests/gateway/conftest.py):
a step aside it does not plan for fails the test."""

from datetime import date, timedelta

import pytest

from registry import customers
from tests.statements import Statements

BUSINESS = "loveinn-japan"
TODAY = date(2026, 11, 25)  # the demo template's day (tests/conftest.py TEST_CLOCK)
DAYS = {"today": TODAY, "past": TODAY - timedelta(days=50)}
REFS = [f"LIJ-{n:04d}" for n in range(1, 9)] + [f"PAGE-{n:04d}" for n in range(12)]  # in the order of their ids
HANDLINGS = """handlings(asOf: $day, includeExcluded: $all) {
  role excluded exclusionReasons party { __typename name } dataItems { code } purposes { code }
  contract { reference } provision { recipient { name } } chain { name } }"""
CUSTOMERS = "query ($n: Int, $day: Date, $all: Boolean) { customers(first: $n) { edges { node { externalRef " \
            + HANDLINGS + " } } } }"
ENTITIES = "query ($representations: [_Any!]!, $day: Date, $all: Boolean) { _entities(representations: " \
           "$representations) { ... on Customer { externalRef " + HANDLINGS + " } } }"


def representation(ref: str) -> dict:
    return {"__typename": "Customer", "business": {"code": BUSINESS}, "externalRef": ref}


@pytest.fixture
async def page(api):
    """The demo's eight customers and twelve more, in a few states (items held, cancelled or not)."""
    item_sets = [["name", "email"], ["name", "email", "phone", "amount", "credit_card_number"], ["name"]]
    async with api.database.session(write=True) as session:
        for n in range(12):
            customer = await customers.register_customer(
                session, actor="test", business_code=BUSINESS, external_ref=f"PAGE-{n:04d}",
                display_name=f"Paged {n} (fictional)", email=None, data_item_codes=item_sets[n % 3],
                registered_on=TODAY - timedelta(days=100 + n), today=TODAY)
            if n % 4 == 3:
                await customers.cancel_customer(session, actor="test", id=customer.id,
                                                cancelled_on=TODAY - timedelta(days=40))
    return api


async def handlings_of(api, kind: str, size: int, day: date, *, everyone: bool = False) -> dict[str, list]:
    """Each customer's handlings (excluded ones too with `everyone`), by reference, through
    `customers(first:)` or `_entities`."""
    if kind == "customers":
        data = await api.data(CUSTOMERS, {"n": size, "day": day.isoformat(), "all": everyone})
        nodes = [edge["node"] for edge in data["customers"]["edges"]]
    else:
        representations = [representation(ref) for ref in REFS[:size]]
        data = await api.data(ENTITIES, {"representations": representations, "day": day.isoformat(), "all": everyone})
        nodes = data["_entities"]
    assert [node["externalRef"] for node in nodes] == REFS[:size]
    return {node["externalRef"]: node["handlings"] for node in nodes}


def app_of(tuned, kind: str):
    return tuned(federation=kind == "entities")


async def counted(api, kind: str, size: int, day: date) -> int:
    with Statements(api.database.reader, api.database.writer) as statements:
        await handlings_of(api, kind, size, day)
    return statements.count


@pytest.mark.parametrize("day", DAYS.values(), ids=DAYS.keys())
@pytest.mark.parametrize("kind", ["customers", "entities"])
async def test_twenty_customers_cost_the_statements_of_one_with_a_context_cached(page, tuned, kind, day):
    async with app_of(tuned, kind) as api:
        # reads the business context and derives every customer's state (asked with the excluded
        # parties: another query, so the response cache answers none of those counted below)
        await handlings_of(api, kind, 20, day, everyone=True)
        counts = {size: await counted(api, kind, size, day) for size in (1, 20)}
    assert counts[1] == counts[20], counts
    # the page (or the customers by reference), the registry version, then the customers with
    # their business, their held items, their stop requests: 5 for _entities, 6 for a page
    assert counts[20] <= 6, counts


@pytest.mark.parametrize("day", DAYS.values(), ids=DAYS.keys())
@pytest.mark.parametrize("kind", ["customers", "entities"])
async def test_twenty_customers_cost_the_statements_of_one_when_the_context_is_read(page, tuned, kind, day):
    counts = {}
    for size in (1, 20):
        async with app_of(tuned, kind) as api:  # a new app: no business context cached yet
            await api.data("{ viewer { name } }")  # the token is looked up once, then cached
            counts[size] = await counted(api, kind, size, day)
    assert counts[1] == counts[20], counts


@pytest.mark.parametrize("day", DAYS.values(), ids=DAYS.keys())
async def test_a_batch_answers_each_customer_as_it_is_answered_alone(page, tuned, day):
    async with tuned(federation=True) as api:
        batch = await handlings_of(api, "entities", 20, day, everyone=True)
        paged = await handlings_of(api, "customers", 20, day, everyone=True)
        assert paged == batch
        for ref in REFS:
            data = await api.data(ENTITIES, {"representations": [representation(ref)], "day": day.isoformat(),
                                             "all": True})
            assert data["_entities"][0]["handlings"] == batch[ref], ref
        without_excluded = await handlings_of(api, "entities", 20, day)
    assert without_excluded == {ref: [h for h in found if not h["excluded"]] for ref, found in batch.items()}
    assert len({repr(found) for found in batch.values()}) >= 6  # the customers' answers differ
