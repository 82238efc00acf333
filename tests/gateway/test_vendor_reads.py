"""What the vendor console reads over GraphQL: the list filtered on the server by contract
expiry, assessment and re-entrustment (agreeing with complianceFindings page after page), a
subcontractor's children and assessments, in a number of statements that does not grow with
the page."""

import pytest

from registry.enums import Role
from tests.statements import Statements

FINDINGS = "{ complianceFindings { code subject { __typename id ... on Contract { subcontractor { id } } } } }"
PAGE = """query ($first: Int, $after: String, $filter: SubcontractorFilter) {
  subcontractors(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id parent { id } } } } }"""
CREATE = """mutation ($input: CreateSubcontractorInput!) {
  createSubcontractor(input: $input) { subcontractor { id } errors { code } } }"""
CONTRACT = """mutation ($input: CreateContractInput!) {
  createContract(input: $input) { contract { id version } errors { code } } }"""
TRANSITION = """mutation ($input: TransitionContractInput!) {
  transitionContract(input: $input) { contract { id version status } errors { code } } }"""
CLAUSES = ["CONFIDENTIALITY", "PURPOSE_LIMITATION", "SECURITY_MEASURES", "BREACH_NOTIFICATION", "RETURN_OR_DELETION"]
ASSESS = """mutation ($input: RecordAssessmentInput!) {
  recordAssessment(input: $input) { subcontractor { id } errors { code } } }"""


async def _every_page(api, filter: dict, first: int = 2) -> list[dict]:
    """The nodes a filter selects, read through the cursors `first` at a time; every page's
    totalCount is the number read in the end."""
    nodes, totals, after = [], set(), None
    while True:
        page = (await api.data(PAGE, {"first": first, "after": after, "filter": filter}))["subcontractors"]
        nodes += [edge["node"] for edge in page["edges"]]
        totals.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert totals == {len(nodes)}
    return nodes


async def _flagged(api) -> dict[str, set[str]]:
    flagged: dict[str, set[str]] = {}
    for finding in (await api.data(FINDINGS))["complianceFindings"]:
        subject = finding["subject"] or {}
        sub_id = subject.get("subcontractor", {}).get("id") if subject.get("__typename") == "Contract" else (
            subject.get("id") if subject.get("__typename") == "Subcontractor" else None)
        if sub_id:
            flagged.setdefault(finding["code"], set()).add(sub_id)
    return flagged


async def _create(api, name: str, parent: str | None = None) -> str:
    made = (await api.data(CREATE, {"input": {"name": name, "country": "JP", "parentId": parent}},
                           role=Role.VENDOR_MANAGER))["createSubcontractor"]
    assert made["errors"] == []
    return made["subcontractor"]["id"]


async def _assess(api, sub: str, assessed_on: str, note: str, next_due_on: str | None = None) -> None:
    done = (await api.data(ASSESS, {"input": {"subcontractorId": sub, "result": "ADEQUATE", "assessedOn": assessed_on,
                                              "nextDueOn": next_due_on, "note": note}},
                           role=Role.VENDOR_MANAGER))["recordAssessment"]
    assert done["errors"] == []


async def _contract(api, sub: str, reference: str, expires_on: str, *, active: bool) -> None:
    """A contract with the demo's business, from 2026-01-01; ACTIVE from then when `active`."""
    code = (await api.data("{ businesses { code } }"))["businesses"][0]["code"]
    made = (await api.data(CONTRACT, {"input": {
        "subcontractorId": sub, "businessCode": code, "reference": reference, "effectiveFrom": "2026-01-01",
        "expiresOn": expires_on, "clauses": CLAUSES}}, role=Role.VENDOR_MANAGER))["createContract"]
    assert made["errors"] == []
    contract = made["contract"]
    for to in (["UNDER_REVIEW", "ACTIVE"] if active else []):
        moved = (await api.data(TRANSITION, {"input": {"id": contract["id"], "expectedVersion": contract["version"],
                                                       "to": to, "effectiveOn": "2026-01-01"}},
                                role=Role.VENDOR_MANAGER))["transitionContract"]
        assert moved["errors"] == []
        contract = moved["contract"]


async def test_the_filters_select_the_subcontractors_of_the_findings_over_every_page(api):
    flagged = await _flagged(api)
    for filter, code in [({"contractExpiringWithinDays": 30}, "CONTRACT_EXPIRING_SOON"),
                         ({"assessment": "MISSING"}, "ASSESSMENT_MISSING"),
                         ({"assessment": "OVERDUE"}, "ASSESSMENT_OVERDUE")]:
        assert {node["id"] for node in await _every_page(api, filter)} == flagged.get(code, set()), code
    everyone = await _every_page(api, {}, first=50)
    re_entrusted = await _every_page(api, {"reEntrusted": True})
    assert re_entrusted and {n["id"] for n in re_entrusted} == {n["id"] for n in everyone if n["parent"]}
    by_business = await _every_page(api, {"reEntrusted": False})
    assert len(re_entrusted) + len(by_business) == len(everyone)


async def test_subcontractors_on_a_later_page_are_found_by_the_filters(api):
    first_page = (await api.data(PAGE, {"first": 20}))["subcontractors"]
    ids = [await _create(api, f"Later {n} (fictional)") for n in range(25)]
    assert not {e["node"]["id"] for e in first_page["edges"]} & set(ids)
    overdue, expiring, unassessed = ids[-1], ids[-2], ids[-3]
    await _contract(api, overdue, "LATER-1", "2027-12-31", active=False)
    await _assess(api, overdue, "2025-01-10", "annual", next_due_on="2025-12-31")
    await _assess(api, expiring, "2025-12-10", "annual", next_due_on="2026-12-10")  # activation needs one
    await _contract(api, expiring, "LATER-2", "2026-12-10", active=True)  # 15 days after the test clock's today
    await _contract(api, unassessed, "LATER-3", "2027-12-31", active=False)

    def ids_of(nodes):
        return {n["id"] for n in nodes}

    assert overdue in ids_of(await _every_page(api, {"assessment": "OVERDUE"}, first=20))
    missing = ids_of(await _every_page(api, {"assessment": "MISSING"}, first=20))
    assert unassessed in missing and not {overdue, expiring} & missing
    either = ids_of(await _every_page(api, {"assessment": "MISSING_OR_OVERDUE", "nameContains": "Later"}))
    assert either == {overdue, unassessed}
    assert not set(ids[:-3]) & missing  # never assessed, but under no contract: no finding either
    assert ids_of(await _every_page(api, {"contractExpiringWithinDays": 30, "nameContains": "Later"})) == {expiring}
    assert ids_of(await _every_page(api, {"contractExpiringWithinDays": 14, "nameContains": "Later"})) == set()
    flagged = await _flagged(api)
    assert expiring in flagged["CONTRACT_EXPIRING_SOON"] and overdue in flagged["ASSESSMENT_OVERDUE"]


@pytest.mark.parametrize("filter, field", [
    ({"contractExpiringWithinDays": 367}, "filter.contractExpiringWithinDays"),
    ({"contractExpiringWithinDays": -1}, "filter.contractExpiringWithinDays"),
])
async def test_an_expiry_window_beyond_a_year_is_refused_with_its_field(api, filter, field):
    body = await api.gql(PAGE, {"first": 5, "filter": filter})
    assert body["errors"][0]["extensions"]["field"] == field
    assert body["errors"][0]["extensions"]["code"] in {"INVALID_INPUT", "BAD_USER_INPUT"}


async def test_an_unknown_assessment_state_is_refused_by_the_schema(api):
    body = await api.gql(PAGE, {"first": 5, "filter": {"assessment": "LATE"}})
    assert "errors" in body and body.get("data") is None


CHILDREN = """query ($id: ID!) { subcontractor(id: $id) { name children { id name parent { id } } } }"""


async def test_children_are_the_subcontractors_whose_parent_it_is(api):
    everyone = await _every_page(api, {}, first=50)
    parents = {n["parent"]["id"] for n in everyone if n["parent"]}
    assert parents
    for parent in parents:
        found = (await api.data(CHILDREN, {"id": parent}))["subcontractor"]["children"]
        expected = [n["id"] for n in everyone if n["parent"] and n["parent"]["id"] == parent]
        assert [c["id"] for c in found] == expected
        assert {c["parent"]["id"] for c in found} == {parent}
    leaf = next(n["id"] for n in everyone if n["id"] not in parents)
    assert (await api.data(CHILDREN, {"id": leaf}))["subcontractor"]["children"] == []


ASSESSMENTS = """query ($id: ID!, $first: Int) { subcontractor(id: $id) {
  managementSystem { lastAssessedOn } assessments(first: $first) { result assessedOn nextDueOn note } } }"""


async def test_assessments_are_listed_newest_first_and_bounded(api):
    sub = await _create(api, "Assessed Often (fictional)")
    for day, note in [("2024-03-01", "first"), ("2026-03-01", "third"), ("2025-03-01", "second")]:
        await _assess(api, sub, day, note, next_due_on="2027-03-01")
    read = (await api.data(ASSESSMENTS, {"id": sub}))["subcontractor"]
    assert [a["note"] for a in read["assessments"]] == ["third", "second", "first"]
    assert read["assessments"][0] == {"result": "ADEQUATE", "assessedOn": "2026-03-01", "nextDueOn": "2027-03-01",
                                      "note": "third"}
    assert read["managementSystem"]["lastAssessedOn"] == read["assessments"][0]["assessedOn"]
    two = (await api.data(ASSESSMENTS, {"id": sub, "first": 2}))["subcontractor"]["assessments"]
    assert [a["note"] for a in two] == ["third", "second"]
    body = await api.gql(ASSESSMENTS, {"id": sub, "first": 101})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    fresh = await _create(api, "Never Assessed (fictional)")
    assert (await api.data(ASSESSMENTS, {"id": fresh}))["subcontractor"]["assessments"] == []


CONSOLE_PAGE = """query ($first: Int, $after: String, $filter: SubcontractorFilter) {
  subcontractors(first: $first, after: $after, filter: $filter) { totalCount pageInfo { endCursor } edges { node {
    id name parent { id } children { id name } managementSystem { assessmentResult }
    assessments { result assessedOn } recent: assessments(first: 1) { assessedOn }
    contracts { id reference } } } } }"""


async def test_a_page_of_20_with_children_and_assessments_takes_as_many_statements_as_a_page_of_1(api):
    parent = await _create(api, "Batch root (fictional)")
    for n in range(24):
        sub = await _create(api, f"Batch node {n} (fictional)", parent=parent if n % 2 == 0 else None)
        if n % 3 == 0:
            await _assess(api, sub, "2026-01-10", f"#{n}")
            await _assess(api, sub, "2026-02-10", f"#{n} again")
    root = (await api.data(CONSOLE_PAGE, {"first": 1, "filter": {"nameContains": "Batch "}}))["subcontractors"]
    # the page of 1 is node 0, which has a parent and assessments, so it reads what a page of 20 reads
    pages = {1: {"first": 1, "after": root["pageInfo"]["endCursor"]}, 20: {"first": 20}}
    counts = {}
    for first, variables in pages.items():
        with Statements(api.database.reader, api.database.writer) as statements:
            page = (await api.data(CONSOLE_PAGE, variables | {"filter": {"nameContains": "Batch "}},
                                   role=Role.VENDOR_MANAGER))["subcontractors"]
        assert len(page["edges"]) == first
        counts[first] = statements.count
        if first == 1:
            node = page["edges"][0]["node"]
            assert node["parent"] == {"id": parent} and len(node["assessments"]) == 2
    nodes = [edge["node"] for edge in page["edges"]]
    assert len(nodes[0]["children"]) == 12  # the root re-entrusted to every other one
    assert [a["assessedOn"] for a in nodes[1]["assessments"]] == ["2026-02-10", "2026-01-10"]
    assert nodes[1]["recent"] == [{"assessedOn": "2026-02-10"}]
    assert counts[20] == counts[1]


CONTRACT_MOVES = """{ subcontractors(first: 50) { edges { node { contracts {
  reference status statusHistory { status } allowedTransitions } } } } }"""
TERMINATE = """mutation ($input: TransitionContractInput!) {
  transitionContract(input: $input) { contract { statusHistory { status } allowedTransitions } errors { code } } }"""
LIFECYCLE = ["DRAFT", "UNDER_REVIEW", "ACTIVE", "SUSPENDED", "TERMINATED", "EXPIRED"]


async def test_allowed_transitions_are_what_transition_contract_accepts_from_the_stored_status(api):
    """The console offers a contract's moves from the API; each one offered is accepted and every
    other one is refused as INVALID_TRANSITION, for a contract in each stored status of the demo."""
    contracts = [c for edge in (await api.data(CONTRACT_MOVES))["subcontractors"]["edges"]
                 for c in edge["node"]["contracts"]]
    stored = {(c["statusHistory"][-1]["status"] if c["statusHistory"] else "DRAFT") for c in contracts}
    assert {"DRAFT", "UNDER_REVIEW", "ACTIVE", "SUSPENDED", "TERMINATED"} <= stored
    by_stored = {"DRAFT": ["UNDER_REVIEW", "TERMINATED"], "UNDER_REVIEW": ["ACTIVE", "TERMINATED"],
                 "ACTIVE": ["SUSPENDED", "TERMINATED"], "SUSPENDED": ["ACTIVE", "TERMINATED"], "TERMINATED": []}
    for contract in contracts:
        last = contract["statusHistory"][-1]["status"] if contract["statusHistory"] else "DRAFT"
        assert contract["allowedTransitions"] == by_stored[last], contract["reference"]
    ids = await api.data("""{ subcontractors(first: 50) { edges { node { contracts {
        id reference version allowedTransitions } } } } }""")
    for contract in [c for e in ids["subcontractors"]["edges"] for c in e["node"]["contracts"]]:
        refused = [s for s in LIFECYCLE if s not in contract["allowedTransitions"]]
        for to in refused[:2]:
            payload = (await api.data(TRANSITION, {"input": {"id": contract["id"], "to": to,
                                                             "expectedVersion": contract["version"]}}))[
                "transitionContract"]
            assert [e["code"] for e in payload["errors"]] == ["INVALID_TRANSITION"], (contract["reference"], to, payload)
    for contract in [c for e in ids["subcontractors"]["edges"] for c in e["node"]["contracts"]]:
        if "TERMINATED" in contract["allowedTransitions"]:  # offered from every status but the last
            payload = (await api.data(TERMINATE, {"input": {"id": contract["id"], "to": "TERMINATED",
                                                            "expectedVersion": contract["version"]}}))[
                "transitionContract"]
            assert payload["errors"] == [], payload
            assert payload["contract"]["statusHistory"][-1]["status"] == "TERMINATED"  # an expired one reads EXPIRED
            assert payload["contract"]["allowedTransitions"] == []
