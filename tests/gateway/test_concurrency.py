"""Optimistic concurrency under real concurrency: racing writers through HTTP on a running server.

Many vendor managers send a write carrying the same expectedVersion at the same moment;
exactly one wins, every other gets VERSION_CONFLICT with nothing written, the version goes
up by exactly one and the audit trail holds exactly one event for the winning write
(DESIGN.md "Rules"; issue 3). Runs on SQLite and, when configured, on PostgreSQL.
"""

import asyncio

import httpx
import pytest

from registry.enums import Role
from tests.gateway.live import live_database_url, live_server  # noqa: F401  (fixtures)

WRITERS = 24
REQUEST_TIMEOUT = 120.0

CREATE_SUB = """
mutation ($name: String!) {
  createSubcontractor(input: {name: $name, country: "JP"}) { subcontractor { id version } errors { code } }
}"""
UPDATE_SUB = """
mutation ($id: ID!, $v: Int!, $name: String!) {
  updateSubcontractor(input: {id: $id, expectedVersion: $v, name: $name}) {
    subcontractor { version name } errors { code field message }
  }
}"""
CREATE_CONTRACT = """
mutation ($sub: ID!) {
  createContract(input: {subcontractorId: $sub, businessCode: "loveinn-japan", reference: "RACE-1",
    effectiveFrom: "2020-01-01", expiresOn: "2099-12-31", clauses: []}) {
    contract { id version status } errors { code field message }
  }
}"""
TRANSITION = """
mutation ($id: ID!, $v: Int!) {
  transitionContract(input: {id: $id, expectedVersion: $v, to: UNDER_REVIEW}) {
    contract { version status } errors { code field message }
  }
}"""
SUB_STATE = """
query ($id: ID!) {
  subcontractor(id: $id) {
    version name
    history(first: 100) { totalCount edges { node { action actor } } }
    contracts { id version status }
  }
}"""


@pytest.fixture
async def client(live_server):
    token = live_server.create_token(Role.ADMIN, name="racer")
    async with httpx.AsyncClient(
        base_url=live_server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_TIMEOUT,
        limits=httpx.Limits(max_connections=WRITERS),
    ) as client:
        yield client


async def post(client, query, variables) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def new_subcontractor(client) -> str:
    data = await post(client, CREATE_SUB, {"name": "Racing Co"})
    assert data["createSubcontractor"]["errors"] == []
    return data["createSubcontractor"]["subcontractor"]["id"]


def outcomes(results: list[dict], field: str) -> tuple[list[dict], list[dict]]:
    """The winners (an object returned, no errors) and the losers (errors, no object)."""
    payloads = [r[field] for r in results]
    winners = [p for p in payloads if not p["errors"]]
    losers = [p for p in payloads if p["errors"]]
    return winners, losers


async def test_racing_updates_from_one_version_have_one_winner_and_one_audit_event(client):
    sub_id = await new_subcontractor(client)
    results = await asyncio.gather(*(
        post(client, UPDATE_SUB, {"id": sub_id, "v": 1, "name": f"Writer {n}"}) for n in range(WRITERS)
    ))
    winners, losers = outcomes(results, "updateSubcontractor")
    assert len(winners) == 1, winners
    assert len(losers) == WRITERS - 1
    assert all(p["subcontractor"] is None for p in losers)
    assert {(e["code"], e["field"]) for p in losers for e in p["errors"]} == {("VERSION_CONFLICT", "expectedVersion")}
    assert winners[0]["subcontractor"]["version"] == 2

    state = (await post(client, SUB_STATE, {"id": sub_id}))["subcontractor"]
    assert (state["version"], state["name"]) == (2, winners[0]["subcontractor"]["name"])
    actions = [edge["node"]["action"] for edge in state["history"]["edges"]]
    assert actions == ["subcontractor.update", "subcontractor.create"]
    assert state["history"]["totalCount"] == 2


async def test_racing_contract_transitions_from_one_version_have_one_winner_and_one_audit_event(
    client, live_server
):
    live_server.seed_demo()  # the demo business "loveinn-japan"; contracts need a business
    sub_id = await new_subcontractor(client)
    created = await post(client, CREATE_CONTRACT, {"sub": sub_id})
    assert created["createContract"]["errors"] == []
    contract = created["createContract"]["contract"]
    assert (contract["version"], contract["status"]) == (1, "DRAFT")

    results = await asyncio.gather(*(
        post(client, TRANSITION, {"id": contract["id"], "v": 1}) for _ in range(WRITERS)
    ))
    winners, losers = outcomes(results, "transitionContract")
    assert len(winners) == 1, winners
    assert len(losers) == WRITERS - 1
    assert {(e["code"], e["field"]) for p in losers for e in p["errors"]} == {("VERSION_CONFLICT", "expectedVersion")}
    assert winners[0]["contract"] == {"version": 2, "status": "UNDER_REVIEW"}

    [stored] = (await post(client, SUB_STATE, {"id": sub_id}))["subcontractor"]["contracts"]
    assert (stored["version"], stored["status"]) == (2, "UNDER_REVIEW")
    events = await contract_events(client, contract["id"])
    assert sorted(events) == ["contract.create", "contract.transition"], events


async def audit_actions(client, entity_type: str, entity_ids: set[str]) -> list[str]:
    """The actions of the audit events on the given entities (auditEvents, all pages)."""
    query = """
    query ($after: String) {
      auditEvents(first: 500, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { action entityType entityId } }
      }
    }"""
    found, after = [], None
    for _ in range(20):  # bounded: the demo plus one test write a few hundred events at most
        page = (await post(client, query, {"after": after}))["auditEvents"]
        found += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return [e["action"] for e in found if e["entityType"] == entity_type and e["entityId"] in entity_ids]


async def contract_events(client, contract_id: str) -> list[str]:
    """The actions of the audit events on one contract."""
    return await audit_actions(client, "Contract", {contract_id})