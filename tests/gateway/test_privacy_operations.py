"""Privacy operations through HTTP on the demo registry: requests that change handlings,
the disclosure answer, the Art. 29 records, breach impact (seed sections 7, 8, 10; APPI
Art. 26, 29, 33, 35)."""

import pytest

from registry.access import Capability, can
from registry.enums import Role

CUSTOMER = 'query ($ref: String!) { customerByRef(businessCode: "loveinn-japan", externalRef: $ref) { id } }'
HANDLINGS = """query ($ref: String!) { customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
  handlings(includeExcluded: true) { party { name } excluded exclusionReasons dataItems { code } } } }"""
SUBMIT = """mutation ($c: ID!, $kind: RequestKind!) { submitRequest(input: {customerId: $c, kind: $kind})
  { request { id status } errors { code field message } } }"""
MOVE = """mutation ($id: ID!, $to: RequestStatus!) { transitionRequest(input: {id: $id, to: $to})
  { request { status } errors { code field message } } }"""
RECORD = """mutation ($p: ID!, $c: ID!, $on: Date!, $items: [String!]!) {
  recordProvision(input: {provisionId: $p, customerId: $c, providedOn: $on, dataItemCodes: $items})
  { record { id retainUntil } errors { code field message } } }"""
RECORDS = """query ($first: Int, $after: String, $filter: ProvisionRecordFilter) {
  provisionRecords(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { providedOn retainUntil dataItems { code }
      customer { externalRef displayName } provision { recipient { name } } } } } }"""


async def customer_id(api, ref: str) -> str:
    return (await api.data(CUSTOMER, {"ref": ref}))["customerByRef"]["id"]


async def handlings(api, ref: str) -> dict[str, dict]:
    data = await api.data(HANDLINGS, {"ref": ref})
    return {h["party"]["name"].split(" (")[0]: h for h in data["customerByRef"]["handlings"]}


def handling_now(found: dict[str, dict]) -> set[str]:
    return {name for name, h in found.items() if not h["excluded"]}


async def complete(api, ref: str, kind: str) -> None:
    """File a request through GraphQL and walk it to COMPLETED, as a privacy officer would."""
    submitted = await api.data(SUBMIT, {"c": await customer_id(api, ref), "kind": kind}, role=Role.PRIVACY_OFFICER)
    request = submitted["submitRequest"]["request"]
    assert request["status"] == "RECEIVED"
    for status in ("IN_PROGRESS", "COMPLETED"):
        moved = await api.data(MOVE, {"id": request["id"], "to": status}, role=Role.PRIVACY_OFFICER)
        assert moved["transitionRequest"] == {"request": {"status": status}, "errors": []}


async def billing_provision_id(api) -> str:
    data = await api.data("{ thirdPartyRecipients { name provisions { id } } }")
    [bank] = [r for r in data["thirdPartyRecipients"] if r["name"] == "Financial institutions"]
    return bank["provisions"][0]["id"]


# --- requests that change handlings (seed section 8, DESIGN.md handling resolution) --------


async def test_a_completed_deletion_filed_through_the_api_leaves_nobody_handling_the_data(api):
    assert "Sakura Payment Services K.K." in handling_now(await handlings(api, "LIJ-0002"))
    await complete(api, "LIJ-0002", "DELETION")
    found = await handlings(api, "LIJ-0002")
    assert handling_now(found) == set()
    assert all(h["dataItems"] == [] for h in found.values())
    # contracts that begin next month entrust nothing yet: they are not in effect, whatever is held
    not_begun = {"Aozora Analytics Inc.", "Minato Data Labs K.K."}
    assert all("CONTRACT_NOT_IN_EFFECT" in found[name]["exclusionReasons"] for name in not_begun)
    assert all("NO_HELD_DATA_ITEMS" in h["exclusionReasons"] for name, h in found.items() if name not in not_begun)


async def test_a_completed_stop_of_third_party_provision_excludes_only_the_recipient(api):
    before = handling_now(await handlings(api, "LIJ-0001"))
    assert "Financial institutions" in before
    await complete(api, "LIJ-0001", "STOP_THIRD_PARTY_PROVISION")
    found = await handlings(api, "LIJ-0001")
    assert handling_now(found) == before - {"Financial institutions"}
    assert found["Financial institutions"]["exclusionReasons"] == ["THIRD_PARTY_PROVISION_STOPPED"]


async def test_record_provision_is_refused_after_a_completed_stop_of_third_party_provision(api):
    variables = {"p": await billing_provision_id(api), "c": await customer_id(api, "LIJ-0001"),
                 "on": "2026-11-25", "items": ["name", "amount"]}
    total = (await api.data(RECORDS))["provisionRecords"]["totalCount"]
    await complete(api, "LIJ-0001", "STOP_THIRD_PARTY_PROVISION")
    refused = (await api.data(RECORD, variables, role=Role.PRIVACY_OFFICER))["recordProvision"]
    assert refused["record"] is None
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("PROVISION_NOT_APPLICABLE", "providedOn")
    assert "on 2026-11-25" in error["message"] and "THIRD_PARTY_PROVISION_STOPPED" in error["message"]
    assert (await api.data(RECORDS))["provisionRecords"]["totalCount"] == total


async def test_record_provision_before_the_stop_takes_effect_is_accepted(api):
    variables = {"p": await billing_provision_id(api), "c": await customer_id(api, "LIJ-0001"),
                 "on": "2026-11-25", "items": ["name", "amount"]}
    accepted = (await api.data(RECORD, variables, role=Role.PRIVACY_OFFICER))["recordProvision"]
    assert accepted["errors"] == [] and accepted["record"]["retainUntil"] == "2029-11-25"


# --- the disclosure answer (seed section 10, APPI Art. 33) -----------------------------------

DISCLOSURE = """query ($ref: String!, $format: NoticeFormat) {
  customerByRef(businessCode: "loveinn-japan", externalRef: $ref) { disclosure(format: $format) } }"""


async def test_the_disclosure_states_what_is_held_who_handles_it_and_the_provisions(api):
    text = (await api.data(DISCLOSURE, {"ref": "LIJ-0001"}))["customerByRef"]["disclosure"]
    assert "Customer reference: LIJ-0001" in text and "Hanako Yamada (fictional)" in text
    assert "Items held on 2026-11-25: Name, Email address, Telephone number, Amount billed, Credit card number" in text
    for party in ("### Sakura Payment Services K.K. (fictional)", "### Panelist Hub Pte. Ltd. (fictional)",
                  "### Financial institutions", "contract LIJ-PAY-001",
                  "Re-entrusted by (nearest first): Tsubame Research Inc. (fictional)"):
        assert party in text
    assert "Nami Mailing" not in text  # suspended: it does not handle the data
    assert "| 2026-11-20 | Financial institutions | JP | Name, Amount billed, Credit card number | 2029-11-20 |" in text
    assert "| Disclosure | Received | 2026-12-09 |" in text


async def test_the_disclosure_comes_as_html_too(api):
    text = (await api.data(DISCLOSURE, {"ref": "LIJ-0001", "format": "HTML"}))["customerByRef"]["disclosure"]
    assert text.startswith("<!doctype html>") and "<td>Financial institutions</td>" in text


@pytest.mark.parametrize("role", list(Role))
async def test_the_disclosure_reads_null_for_roles_that_may_not_see_personal_data(api, role):
    text = (await api.data(DISCLOSURE, {"ref": "LIJ-0001"}, role=role))["customerByRef"]["disclosure"]
    if can(role, Capability.READ_PERSONAL_DATA):
        assert "Hanako Yamada" in text
    else:
        assert text is None


# --- provision records (APPI Art. 29) --------------------------------------------------------


async def records(api, filter=None, *, role=Role.ADMIN, **page) -> dict:
    return (await api.data(RECORDS, {"filter": filter, **page}, role=role))["provisionRecords"]


async def test_the_demo_records_are_listed_per_customer_recipient_and_period(api):
    everything = await records(api)
    assert everything["totalCount"] == 2
    assert [e["node"]["customer"]["externalRef"] for e in everything["edges"]] == ["LIJ-0001", "LIJ-0002"]
    first = await records(api, {"customerId": await customer_id(api, "LIJ-0002")})
    [edge] = first["edges"]
    assert edge["node"]["providedOn"] == "2026-11-20" and edge["node"]["retainUntil"] == "2029-11-20"
    assert [i["code"] for i in edge["node"]["dataItems"]] == ["name", "amount", "bank_account"]
    recipients = (await api.data("{ thirdPartyRecipients { id } }"))["thirdPartyRecipients"]
    assert (await records(api, {"recipientId": recipients[0]["id"]}))["totalCount"] == 2
    assert (await records(api, {"providedFrom": "2026-11-20", "providedTo": "2026-11-20"}))["totalCount"] == 2
    assert (await records(api, {"providedFrom": "2026-11-21"}))["totalCount"] == 0


async def test_records_page_with_cursors(api):
    first = await records(api, first=1)
    assert first["pageInfo"]["hasNextPage"] and len(first["edges"]) == 1
    rest = await records(api, first=1, after=first["pageInfo"]["endCursor"])
    assert not rest["pageInfo"]["hasNextPage"]
    assert rest["edges"][0]["node"]["customer"]["externalRef"] == "LIJ-0002"


async def test_a_viewer_lists_records_without_the_customers_personal_data(api):
    listed = await records(api, role=Role.VIEWER)
    assert listed["totalCount"] == 2
    assert {e["node"]["customer"]["displayName"] for e in listed["edges"]} == {None}


@pytest.mark.parametrize("filter, field", [
    ({"customerId": "not-an-id"}, "customerId"),
    ({"recipientId": "Q3VzdG9tZXI6MQ"}, "recipientId"),  # a Customer's ID where a recipient's belongs
    ({"customerId": "Q3VzdG9tZXI6OTk5"}, "customerId"),  # Customer:999, which does not exist
    ({"providedFrom": "2026-11-21", "providedTo": "2026-11-20"}, "providedTo"),
])
async def test_a_forged_or_unknown_id_or_a_reversed_period_in_the_filter_is_a_clear_error(api, filter, field):
    body = await api.gql(RECORDS, {"filter": filter})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert body["data"] is None


# --- breach impact (APPI Art. 26) ------------------------------------------------------------


async def test_a_breach_at_the_demo_payment_subcontractor_is_reportable_with_reasons(api):
    subs = await api.data('{ subcontractors(filter: {nameContains: "Sakura"}) { edges { node { id } } } }')
    impact = (await api.data(
        "query ($p: ID!) { breachImpact(partyId: $p) { party { name } affectedCustomers customersInUse reportable "
        "reasons dataItems { code sensitivity } } }", {"p": subs["subcontractors"]["edges"][0]["node"]["id"]},
    ))["breachImpact"]
    assert impact["party"]["name"] == "Sakura Payment Services K.K. (fictional)"
    # every customer but LIJ-0006 (deleted) holds payment data it was given; LIJ-0003
    # (cancelled: no billing) and LIJ-0005 (STOP_USE) are held but no longer used
    assert (impact["affectedCustomers"], impact["customersInUse"]) == (7, 5)
    assert [i["code"] for i in impact["dataItems"]] == ["name", "amount", "credit_card_number", "bank_account"]
    assert impact["reportable"] is True
    # the amount billed is FINANCIAL but risks no property damage on its own
    assert impact["reasons"] == ["PPC Rules Art. 7(ii): risk of property damage: Credit card number, Bank account"]
