"""A party's country and APPI Art. 28 basis are facts with a period (DESIGN.md "Time"), through
HTTP on the demo registry (today is 2026-11-25): moving a subcontractor or recipient abroad, or
clearing its basis, changes who handles from the day it takes effect, never the answer for a
day before it, unless effectiveOn corrects the past on purpose."""

import json

from registry.enums import Role
from tests.gateway.test_valid_time import LAST_MONTH, LATEST_EVENT, handling, handlings, subcontractor, write

KUMO, PANEL, BANKS = "Kumo Hosting K.K.", "Panelist Hub Pte. Ltd.", "Financial institutions"
WITHOUT_BASIS = "FOREIGN_TRANSFER_WITHOUT_BASIS"

MOVE_SUBCONTRACTOR = """
mutation ($id: ID!, $v: Int!, $country: String, $basis: ForeignTransferBasis, $on: Date) {
  updateSubcontractor(input: {id: $id, expectedVersion: $v, country: $country, foreignTransferBasis: $basis,
                              effectiveOn: $on}) {
    subcontractor { version country foreignTransferBasis } errors { code field message }
  }
}"""
CLEAR_SUBCONTRACTOR_BASIS = """
mutation ($id: ID!, $v: Int!) {
  updateSubcontractor(input: {id: $id, expectedVersion: $v, foreignTransferBasis: null}) {
    subcontractor { version foreignTransferBasis } errors { code field message }
  }
}"""
MOVE_RECIPIENT = """
mutation ($id: ID!, $country: String, $basis: ForeignTransferBasis, $on: Date) {
  updateRecipient(input: {id: $id, country: $country, foreignTransferBasis: $basis, effectiveOn: $on}) {
    recipient { country foreignTransferBasis } errors { code field message }
  }
}"""
HISTORY = """
query ($id: ID!) {
  node(id: $id) { ... on Subcontractor { history(first: 5) { edges { node { action before after } } } } }
}
"""


async def recipient_id(api) -> str:
    [banks] = (await api.data("{ thirdPartyRecipients { id name } }"))["thirdPartyRecipients"]
    return banks["id"]


def reasons(found: dict, party: str) -> list[str]:
    return found[party]["exclusionReasons"]


async def test_a_subcontractor_moved_abroad_today_without_a_basis_still_handled_last_month(api):
    then = await handlings(api, "LIJ-0001", LAST_MONTH)
    kumo = await subcontractor(api, "Kumo")
    moved = await write(api, MOVE_SUBCONTRACTOR, {"id": kumo["id"], "v": kumo["version"], "country": "US"},
                        "updateSubcontractor")
    assert moved["subcontractor"] == {"version": kumo["version"] + 1, "country": "US", "foreignTransferBasis": None}
    assert await handlings(api, "LIJ-0001", LAST_MONTH) == then
    assert KUMO in handling(then)
    assert reasons(await handlings(api, "LIJ-0001"), KUMO) == [WITHOUT_BASIS]


async def test_a_basis_cleared_today_leaves_last_months_re_entrusted_panel_provider_handling(api):
    then = await handlings(api, "LIJ-0001", LAST_MONTH)
    panel = await subcontractor(api, "Panelist")
    await write(api, CLEAR_SUBCONTRACTOR_BASIS, {"id": panel["id"], "v": panel["version"]}, "updateSubcontractor")
    assert await handlings(api, "LIJ-0001", LAST_MONTH) == then
    assert PANEL in handling(then)
    assert reasons(await handlings(api, "LIJ-0001"), PANEL) == [WITHOUT_BASIS]


async def test_a_recipient_moved_abroad_today_without_a_basis_still_received_last_month(api):
    then = await handlings(api, "LIJ-0001", LAST_MONTH)
    moved = await write(api, MOVE_RECIPIENT, {"id": await recipient_id(api), "country": "US", "basis": None},
                        "updateRecipient", Role.PRIVACY_OFFICER)
    assert moved["recipient"] == {"country": "US", "foreignTransferBasis": None}
    assert await handlings(api, "LIJ-0001", LAST_MONTH) == then
    assert BANKS in handling(then)
    assert reasons(await handlings(api, "LIJ-0001"), BANKS) == [WITHOUT_BASIS]


async def test_a_move_corrected_back_to_last_month_changes_the_past_on_purpose(api):
    """effectiveOn before today says the party was abroad from then: the answers from that day on
    change, those before it do not."""
    before_it = await handlings(api, "LIJ-0001", "2026-10-09")
    kumo = await subcontractor(api, "Kumo")
    await write(api, MOVE_SUBCONTRACTOR, {"id": kumo["id"], "v": kumo["version"], "country": "US", "on": "2026-10-10"},
                "updateSubcontractor")
    for day in ("2026-10-10", LAST_MONTH, None):
        assert reasons(await handlings(api, "LIJ-0001", day), KUMO) == [WITHOUT_BASIS], day
    assert await handlings(api, "LIJ-0001", "2026-10-09") == before_it
    assert KUMO in handling(before_it)


async def test_a_basis_recorded_later_leaves_the_days_without_it_excluded(api):
    """Moved abroad from 2026-10-10 without a basis, which is recorded from 2026-11-01: excluded
    on the days between, handling before and after."""
    banks = await recipient_id(api)
    officer = Role.PRIVACY_OFFICER
    await write(api, MOVE_RECIPIENT, {"id": banks, "country": "SG", "on": "2026-10-10"}, "updateRecipient", officer)
    await write(api, MOVE_RECIPIENT, {"id": banks, "basis": "CONSENT_WITH_INFORMATION", "on": "2026-11-01"},
                "updateRecipient", officer)
    assert BANKS in handling(await handlings(api, "LIJ-0001", "2026-10-09"))
    assert reasons(await handlings(api, "LIJ-0001", LAST_MONTH), BANKS) == [WITHOUT_BASIS]
    assert BANKS in handling(await handlings(api, "LIJ-0001", "2026-11-01"))
    assert BANKS in handling(await handlings(api, "LIJ-0001"))


async def test_an_effective_on_in_the_future_before_the_current_values_or_without_a_move_is_refused(api):
    kumo = await subcontractor(api, "Kumo")
    moved = await write(api, MOVE_SUBCONTRACTOR, {"id": kumo["id"], "v": kumo["version"], "country": "US",
                                                  "basis": "EQUIVALENT_MEASURES", "on": "2026-11-20"},
                        "updateSubcontractor")
    version = moved["subcontractor"]["version"]
    latest, then = await api.data(LATEST_EVENT), await handlings(api, "LIJ-0001", LAST_MONTH)
    refusals = [
        {"country": "SG", "on": "2026-11-26"},  # in the future
        {"basis": None, "on": "2026-11-19"},  # before the current country and basis took effect
        {"country": "JP", "on": "2026-11-01"},
    ]
    for refused in refusals:
        variables = {"id": kumo["id"], "v": version, **refused}
        answer = (await api.data(MOVE_SUBCONTRACTOR, variables))["updateSubcontractor"]
        assert answer["subcontractor"] is None
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [("INVALID_INPUT", "effectiveOn")], refused
    renamed = """mutation ($id: ID!, $v: Int!) { updateSubcontractor(input: {id: $id, expectedVersion: $v,
        name: "Kumo Cloud K.K. (fictional)", effectiveOn: "2026-11-24"}) {
        subcontractor { name } errors { code field } } }"""
    answer = (await api.data(renamed, {"id": kumo["id"], "v": version}))["updateSubcontractor"]
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("INVALID_INPUT", "effectiveOn")]
    recipient = (await api.data(MOVE_RECIPIENT, {"id": await recipient_id(api), "country": "US", "on": "2026-12-01"},
                                role=Role.PRIVACY_OFFICER))["updateRecipient"]
    assert [(e["code"], e["field"]) for e in recipient["errors"]] == [("INVALID_INPUT", "effectiveOn")]
    assert await api.data(LATEST_EVENT) == latest
    assert await subcontractor(api, "Kumo") == {**kumo, "version": version}
    assert await handlings(api, "LIJ-0001", LAST_MONTH) == then
    assert (await api.data("{ thirdPartyRecipients { country } }"))["thirdPartyRecipients"] == [{"country": "JP"}]


async def test_the_subcontractors_history_shows_the_move_and_the_periods_it_wrote(api):
    kumo = await subcontractor(api, "Kumo")
    await write(api, MOVE_SUBCONTRACTOR, {"id": kumo["id"], "v": kumo["version"], "country": "US"},
                "updateSubcontractor", Role.VENDOR_MANAGER)
    [latest, *_] = (await api.data(HISTORY, {"id": kumo["id"]}, role=Role.VENDOR_MANAGER))["node"]["history"]["edges"]
    event = latest["node"]
    before, after = json.loads(event["before"]), json.loads(event["after"])
    assert event["action"] == "subcontractor.update"
    assert (before["country"], after["country"], after["foreign_transfer_basis"]) == ("JP", "US", None)
    assert [(p["country"], p["effective_from"], p["effective_until"]) for p in after["jurisdictions"]] == [
        ("JP", "1900-01-01", "2026-11-24"), ("US", "2026-11-25", None)]
