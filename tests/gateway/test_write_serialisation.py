"""Writes to one aggregate take turns: racing writers through HTTP on a running server.

A write that carries no expectedVersion (adding or removing an entrustment, recording an
assessment, cancelling a customer) never fails with VERSION_CONFLICT because another writer
got to the same contract, subcontractor or customer first: it waits its turn and applies to
what that writer left. A write that carries expectedVersion still conflicts when the version
it read is no longer current (DESIGN.md "Rules"; issue 10). Runs on SQLite and, when
configured, on PostgreSQL. The last two tests show the mechanism on a session: a write
locks its aggregate's row (registry/validation.py `fetch`), a read never does.
"""

import asyncio

from registry import contracts
from registry.validation import update_versioned
from tests import factories
from tests.gateway.live import live_database_url, live_server  # noqa: F401  (fixtures)
from tests.gateway.test_concurrency import (  # noqa: F401  (client is a fixture)
    audit_actions,
    CREATE_CONTRACT,
    TRANSITION,
    client,
    new_subcontractor,
    outcomes,
    post,
)

WRITERS = 10
PATIENCE = 0.5  # seconds: a read answers well within it; a queued writer is still waiting after it

ADD_ENTRUSTMENT = """
mutation ($contract: ID!, $n: String!) {
  addEntrustment(input: {contractId: $contract, purposeCodes: ["P1"], dataItemCodes: ["name"], description: $n}) {
    entrustment { id } errors { code field message }
  }
}"""
REMOVE_ENTRUSTMENT = """
mutation ($id: ID!) {
  removeEntrustment(input: {id: $id}) { entrustment { id } errors { code field message } }
}"""
RECORD_ASSESSMENT = """
mutation ($sub: ID!, $on: Date!) {
  recordAssessment(input: {subcontractorId: $sub, result: ADEQUATE, assessedOn: $on}) {
    subcontractor { id } errors { code field message }
  }
}"""
REGISTER_CUSTOMER = """
mutation {
  registerCustomer(input: {businessCode: "loveinn-japan", externalRef: "RACE-C", dataItemCodes: ["name"],
    registeredOn: "2026-10-01"}) {
    customer { id } errors { code field message }
  }
}"""
CANCEL_CUSTOMER = """
mutation ($id: ID!) {
  cancelCustomer(input: {id: $id, cancelledOn: "2026-11-01"}) {
    customer { status } errors { code field message }
  }
}"""
CONTRACT_STATE = """
query ($id: ID!) { node(id: $id) { ... on Contract { version status entrustments { id } } } }"""
SUB_HISTORY = """
query ($id: ID!) {
  subcontractor(id: $id) { version history(first: 100) { totalCount edges { node { action } } } }
}"""
CUSTOMER_STATE = "query ($id: ID!) { customer(id: $id) { status cancelledOn } }"


async def new_contract(client, live_server) -> str:
    """A DRAFT contract (version 1) of the demo business with a new subcontractor."""
    live_server.seed_demo()  # the business "loveinn-japan", its purposes and items
    created = await post(client, CREATE_CONTRACT, {"sub": await new_subcontractor(client)})
    assert created["createContract"]["errors"] == []
    assert created["createContract"]["contract"]["version"] == 1
    return created["createContract"]["contract"]["id"]


async def race(client, query: str, variables: list[dict], field: str) -> tuple[list[dict], list[dict]]:
    """Send every write at once; the winners and the losers."""
    results = await asyncio.gather(*(post(client, query, v) for v in variables))
    return outcomes(results, field)


async def test_racing_entrustment_writes_on_one_contract_all_succeed_each_bumping_its_version_once(
    client, live_server
):
    contract_id = await new_contract(client, live_server)

    added, refused = await race(
        client, ADD_ENTRUSTMENT, [{"contract": contract_id, "n": f"E{n}"} for n in range(WRITERS)], "addEntrustment"
    )
    assert refused == []
    state = (await post(client, CONTRACT_STATE, {"id": contract_id}))["node"]
    ids = {p["entrustment"]["id"] for p in added}
    assert (state["version"], {e["id"] for e in state["entrustments"]}) == (1 + WRITERS, ids)
    assert await audit_actions(client, "Entrustment", ids) == ["entrustment.add"] * WRITERS

    removed, refused = await race(client, REMOVE_ENTRUSTMENT, [{"id": i} for i in ids], "removeEntrustment")
    assert refused == []
    assert {p["entrustment"]["id"] for p in removed} == ids
    state = (await post(client, CONTRACT_STATE, {"id": contract_id}))["node"]
    assert (state["version"], state["entrustments"]) == (1 + 2 * WRITERS, [])
    assert sorted(await audit_actions(client, "Entrustment", ids)) == sorted(
        ["entrustment.add", "entrustment.remove"] * WRITERS)


async def test_racing_assessments_of_one_subcontractor_all_succeed_each_bumping_its_version_once(client):
    sub_id = await new_subcontractor(client)

    _, refused = await race(
        client, RECORD_ASSESSMENT, [{"sub": sub_id, "on": f"2026-10-{n + 1:02d}"} for n in range(WRITERS)],
        "recordAssessment",
    )
    assert refused == []
    state = (await post(client, SUB_HISTORY, {"id": sub_id}))["subcontractor"]
    assert state["version"] == 1 + WRITERS
    actions = [edge["node"]["action"] for edge in state["history"]["edges"]]
    assert sorted(actions) == sorted(["subcontractor.assess"] * WRITERS + ["subcontractor.create"])


async def test_racing_cancellations_of_one_customer_have_one_winner_and_no_version_conflict(client, live_server):
    live_server.seed_demo()
    registered = (await post(client, REGISTER_CUSTOMER, {}))["registerCustomer"]
    assert registered["errors"] == []
    customer_id = registered["customer"]["id"]

    winners, losers = await race(client, CANCEL_CUSTOMER, [{"id": customer_id}] * WRITERS, "cancelCustomer")
    assert len(winners) == 1, winners
    # the others see the winner's cancellation: cancelling twice is the refusal, not a conflict
    assert {(e["code"], e["field"]) for p in losers for e in p["errors"]} == {("INVALID_TRANSITION", "id")}
    state = (await post(client, CUSTOMER_STATE, {"id": customer_id}))["customer"]
    assert state == {"status": "CANCELLED", "cancelledOn": "2026-11-01"}
    assert await audit_actions(client, "Customer", {customer_id}) == ["customer.cancel", "customer.register"]


async def test_racing_transitions_from_one_version_still_conflict_while_entrustments_queue(
    client, live_server
):
    contract_id = await new_contract(client, live_server)
    writes = [post(client, TRANSITION, {"id": contract_id, "v": 1}) for _ in range(2)] + [
        post(client, ADD_ENTRUSTMENT, {"contract": contract_id, "n": f"E{n}"}) for n in range(WRITERS)
    ]
    results = await asyncio.gather(*writes)

    won, lost = outcomes(results[:2], "transitionContract")
    added, refused = outcomes(results[2:], "addEntrustment")
    assert refused == []
    # an entrustment added first moves the contract past version 1: then neither transition wins
    assert len(won) <= 1, won
    assert {(e["code"], e["field"]) for p in lost for e in p["errors"]} == {("VERSION_CONFLICT", "expectedVersion")}
    state = (await post(client, CONTRACT_STATE, {"id": contract_id}))["node"]
    assert state["version"] == 1 + WRITERS + len(won)
    assert state["status"] == ("UNDER_REVIEW" if won else "DRAFT")
    assert len(state["entrustments"]) == WRITERS


async def test_two_racing_transitions_from_one_version_have_exactly_one_winner(client, live_server):
    contract_id = await new_contract(client, live_server)

    won, lost = await race(client, TRANSITION, [{"id": contract_id, "v": 1}] * 2, "transitionContract")
    assert len(won) == 1 and len(lost) == 1
    assert [(e["code"], e["field"]) for e in lost[0]["errors"]] == [("VERSION_CONFLICT", "expectedVersion")]
    assert won[0]["contract"] == {"version": 2, "status": "UNDER_REVIEW"}


async def contract_in(db):
    async with db.session(write=True) as session:
        business = await factories.business(session)
        contract = await factories.contract(session, business, await factories.subcontractor(session))
        await session.commit()
    return contract.id


async def test_a_second_writer_of_a_contract_waits_for_the_first_and_sees_what_it_committed(db):
    contract_id = await contract_in(db)
    async with db.session(write=True) as first, db.session(write=True) as second:
        held = await contracts.get_contract(first, contract_id, lock=True)
        queued = asyncio.create_task(contracts.get_contract(second, contract_id, lock=True))
        await asyncio.sleep(PATIENCE)
        assert not queued.done()
        await update_versioned(first, held, expected_version=1)
        await first.commit()
        assert (await asyncio.wait_for(queued, timeout=30)).version == 2


async def test_a_read_is_not_held_up_by_a_write_holding_the_contract(db):
    contract_id = await contract_in(db)
    async with db.session(write=True) as writer, db.session() as reader:
        await contracts.get_contract(writer, contract_id, lock=True)
        read = await asyncio.wait_for(contracts.get_contract(reader, contract_id), timeout=PATIENCE)
        assert read.version == 1
