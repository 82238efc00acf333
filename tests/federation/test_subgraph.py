"""pi-gateway as an Apollo Federation v2 subgraph, in process (schema/federation.py).

The subgraph app is the real app with `federation` on, over HTTP, on a copy of the demo
registry, its fast path strict: `_service { sdl }` declares the entities' keys, `_entities`
answers each representation in place (null for a key that names nothing) with the same few
statements for fifty representations as for one, and keeps the role matrix."""

from datetime import timedelta

import pytest

from registry import customers
from registry.enums import Role
from schema import build_schema
from schema.execution import unplanned_fields
from tests.statements import Statements

BUSINESS = "loveinn-japan"
ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Customer { id externalRef displayName email status business { code } requests { kind } dataItems { code } }
    ... on Business { id code name }
    ... on Subcontractor { id name corporateNumber }
    ... on Contract { id reference subcontractor { name } }
  }
}
"""


def customer(ref: str, business: str = BUSINESS) -> dict:
    return {"__typename": "Customer", "business": {"code": business}, "externalRef": ref}


@pytest.fixture
async def subgraph(tuned):
    async with tuned(federation=True) as api:
        yield api


async def entities(api, representations: list, *, role: Role = Role.ADMIN) -> list:
    return (await api.data(ENTITIES, {"representations": representations}, role=role))["_entities"]


async def test_service_sdl_declares_the_entity_keys(subgraph):
    sdl = (await subgraph.data("{ _service { sdl } }"))["_service"]["sdl"]
    assert 'schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])' in sdl
    assert 'type Customer implements Node @key(fields: "business { code } externalRef", resolvable: true)' in sdl
    assert 'type Business implements Node & Party @key(fields: "code", resolvable: true)' in sdl
    assert ('type Subcontractor implements Node & Party @key(fields: "id", resolvable: true) '
            '@key(fields: "corporateNumber", resolvable: true)') in sdl
    assert 'type Contract implements Node @key(fields: "id", resolvable: true)' in sdl


async def test_the_served_schema_stays_as_it_was(api, subgraph):
    with open("schema.graphql", encoding="utf-8") as committed:
        assert build_schema().as_str().strip() == committed.read().strip()  # built after a subgraph: no @key leaked
    body = await api.gql("{ _service { sdl } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert unplanned_fields(build_schema(federation=True)) == {}  # the fast path plans _service and _entities


async def test_entities_answer_each_key_as_the_served_schema_does(subgraph):
    direct = await subgraph.data("""{
      customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0003") { id externalRef displayName status }
      subcontractors(first: 50) { edges { node { id name corporateNumber contracts { id reference } } } }
    }""")
    subs = [edge["node"] for edge in direct["subcontractors"]["edges"]]
    numbered = next(sub for sub in subs if sub["corporateNumber"])
    contract = next(c for sub in subs for c in sub["contracts"])
    found = await entities(subgraph, [
        customer("LIJ-0003"), {"__typename": "Business", "code": BUSINESS},
        {"__typename": "Subcontractor", "id": subs[0]["id"]},
        {"__typename": "Subcontractor", "corporateNumber": numbered["corporateNumber"]},
        {"__typename": "Contract", "id": contract["id"]},
    ])
    want = direct["customerByRef"]
    assert {key: found[0][key] for key in want} == want and found[0]["status"] == "CANCELLED"
    assert found[0]["business"] == {"code": BUSINESS}
    assert found[1]["code"] == BUSINESS and found[1]["__typename"] == "Business"
    assert (found[2]["id"], found[2]["name"]) == (subs[0]["id"], subs[0]["name"])
    assert found[3]["id"] == numbered["id"]
    assert (found[4]["id"], found[4]["reference"]) == (contract["id"], contract["reference"])


async def test_a_key_that_names_nothing_answers_null_in_its_place(subgraph):
    customer_id = (await subgraph.data('{ customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0001") '
                                       '{ id } }'))["customerByRef"]["id"]
    found = await entities(subgraph, [
        customer("LIJ-0001"), customer("NO-SUCH-REF"), customer("LIJ-0001", business="no-such-business"),
        {"__typename": "Customer", "business": {"code": BUSINESS}, "externalRef": 42},
        {"__typename": "Customer", "externalRef": "LIJ-0001"},
        {"__typename": "Subcontractor", "id": customer_id},  # a customer's global ID names no subcontractor
        {"__typename": "Subcontractor", "id": "not an id"}, {"__typename": "Contract", "id": "x" * 10_000},
        {"__typename": "Subcontractor", "corporateNumber": "0000000000000"}, customer("LIJ-0002"),
    ])
    assert [entity and entity["externalRef"] for entity in (found[0], found[-1])] == ["LIJ-0001", "LIJ-0002"]
    assert found[1:-1] == [None] * 8


async def test_a_representation_of_no_entity_is_the_callers_error(subgraph):
    for representation in ({"__typename": "Purpose", "id": "x"}, {"code": BUSINESS}, "LIJ-0001"):
        body = await subgraph.gql(ENTITIES, {"representations": [customer("LIJ-0001"), representation]})
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    body = await subgraph.gql(ENTITIES, {"representations": [customer("LIJ-0001")] * 1_001})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_viewer_sees_no_personal_data_through_entities(subgraph):
    [admin] = await entities(subgraph, [customer("LIJ-0001")])
    assert admin["displayName"] == "Hanako Yamada (fictional)" and admin["email"] == "lij-0001@example.test"
    for role in (Role.VIEWER, Role.VENDOR_MANAGER):
        [seen] = await entities(subgraph, [customer("LIJ-0001")], role=role)
        assert (seen["displayName"], seen["email"]) == (None, None)
        assert {key: seen[key] for key in ("id", "externalRef", "status")} == {
            key: admin[key] for key in ("id", "externalRef", "status")}


async def test_entities_cost_the_same_statements_for_fifty_customers_as_for_one(subgraph, clock):
    today = clock.today()
    async with subgraph.database.session(write=True) as session:
        for n in range(50):
            await customers.register_customer(
                session, actor="test", business_code=BUSINESS, external_ref=f"FED-{n:04d}",
                display_name=f"Federated {n} (fictional)", email=None, data_item_codes=["name", "email"],
                registered_on=today - timedelta(days=10), today=today)
    await entities(subgraph, [customer("LIJ-0001")])  # the token is looked up once, then cached
    counts = {}
    for size in (1, 50):
        wanted = [customer(f"FED-{n:04d}") for n in range(size)]
        with Statements(subgraph.database.reader, subgraph.database.writer) as statements:
            found = await entities(subgraph, wanted)
        assert [entity["externalRef"] for entity in found] == [f"FED-{n:04d}" for n in range(size)]
        counts[size] = statements.count
    assert counts[1] == counts[50], counts
    assert counts[50] <= 8, counts
