"""Every ErrorCode of the contract, provoked through the API as a user would: it comes back in
the payload's `errors` with the input field named and a message, the payload's object is
null, and nothing was written (no row, no audit event).

Each case first builds what it needs through the API (or, for a second business, which
the API cannot create, through the registry), then counts every table, sends the refused
write, and counts again.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from registry import businesses
from registry.models import metadata
from schema import ids

ALL_CLAUSES = [
    "CONFIDENTIALITY", "PURPOSE_LIMITATION", "SECURITY_MEASURES", "SUB_ENTRUSTMENT_CONSENT",
    "AUDIT_RIGHTS", "BREACH_NOTIFICATION", "RETURN_OR_DELETION",
]


@dataclass(frozen=True)
class Refusal:
    payload: str  # the mutation's field, e.g. "updateSubcontractor"
    query: str
    variables: dict
    field: str


# --- building blocks, through the API ------------------------------------------------------


async def write(api, query: str, variables: dict, payload: str) -> dict:
    result = (await api.data(query, variables))[payload]
    assert result["errors"] == [], result["errors"]
    return next(v for k, v in result.items() if k != "errors")


async def new_subcontractor(api, *, parent_id: str | None = None, assessed: bool = True, name="Case Co") -> str:
    sub = await write(api, """
        mutation ($parent: ID, $name: String!) {
          createSubcontractor(input: {name: $name, country: "JP", parentId: $parent}) {
            subcontractor { id } errors { code }
          }
        }""", {"parent": parent_id, "name": name}, "createSubcontractor")
    if assessed:
        await write(api, """
            mutation ($id: ID!) {
              recordAssessment(input: {subcontractorId: $id, result: ADEQUATE, assessedOn: "2026-10-01"}) {
                subcontractor { id } errors { code }
              }
            }""", {"id": sub["id"]}, "recordAssessment")
    return sub["id"]


async def new_contract(api, sub_id: str, *, reference: str, clauses=ALL_CLAUSES, to=("UNDER_REVIEW",)) -> str:
    contract = await write(api, """
        mutation ($sub: ID!, $ref: String!, $clauses: [ContractClause!]!) {
          createContract(input: {subcontractorId: $sub, businessCode: "loveinn-japan", reference: $ref,
            effectiveFrom: "2026-01-01", expiresOn: "2028-12-31", clauses: $clauses}) {
            contract { id version } errors { code }
          }
        }""", {"sub": sub_id, "ref": reference, "clauses": clauses}, "createContract")
    for version, status in enumerate(to, start=1):
        await write(api, TRANSITION, {"id": contract["id"], "v": version, "to": status}, "transitionContract")
    return contract["id"]


TRANSITION = """
mutation ($id: ID!, $v: Int!, $to: ContractStatus!) {
  transitionContract(input: {id: $id, expectedVersion: $v, to: $to}) {
    contract { id status } errors { code field message }
  }
}"""
UPDATE_SUB = """
mutation ($id: ID!, $v: Int!, $name: String, $parent: ID) {
  updateSubcontractor(input: {id: $id, expectedVersion: $v, name: $name, parentId: $parent}) {
    subcontractor { id version parent { id } } errors { code field message }
  }
}"""
CREATE_SUB = """
mutation ($country: String!) {
  createSubcontractor(input: {name: "Bad Co", country: $country}) { subcontractor { id } errors { code field message } }
}"""
REGISTER = """
mutation ($ref: String!) {
  registerCustomer(input: {businessCode: "loveinn-japan", externalRef: $ref, dataItemCodes: ["name"]}) {
    customer { id } errors { code field message }
  }
}"""
ENTRUST = """
mutation ($contract: ID!, $purposes: [String!]!) {
  addEntrustment(input: {contractId: $contract, purposeCodes: $purposes, dataItemCodes: ["name"]}) {
    entrustment { id } errors { code field message }
  }
}"""


# --- one way to provoke each ErrorCode ------------------------------------------------------


async def not_found(api) -> Refusal:
    return Refusal("updateSubcontractor", UPDATE_SUB, {"id": ids.encode("Subcontractor", 999_999), "v": 1,
                                                      "name": "Ghost"}, "id")


async def invalid_input(api) -> Refusal:
    return Refusal("createSubcontractor", CREATE_SUB, {"country": "Japan"}, "country")


async def duplicate(api) -> Refusal:
    return Refusal("registerCustomer", REGISTER, {"ref": "LIJ-0001"}, "externalRef")


async def version_conflict(api) -> Refusal:
    sub_id = await new_subcontractor(api, assessed=False)
    await write(api, UPDATE_SUB, {"id": sub_id, "v": 1, "name": "First"}, "updateSubcontractor")
    return Refusal("updateSubcontractor", UPDATE_SUB, {"id": sub_id, "v": 1, "name": "Stale"}, "expectedVersion")


async def invalid_transition(api) -> Refusal:
    contract_id = await new_contract(api, await new_subcontractor(api), reference="CASE-TRANS", to=())
    return Refusal("transitionContract", TRANSITION, {"id": contract_id, "v": 1, "to": "SUSPENDED"}, "to")


async def purpose_out_of_scope(api) -> Refusal:
    async with api.database.session(write=True) as session:  # the API has no createBusiness
        other = await businesses.create_business(
            session, actor="test", code="other-biz", name="Other", operator_name="Other Inc.", country="JP",
            activities=["Something else"],
        )
        await businesses.add_purpose(session, actor="test", business_id=other.id, code="X9", ordinal=1,
                                     title="Another business's purpose", effective_from=date(2026, 1, 1))
    contract_id = await new_contract(api, await new_subcontractor(api), reference="CASE-SCOPE", to=())
    return Refusal("addEntrustment", ENTRUST, {"contract": contract_id, "purposes": ["X9"]}, "purposeCodes")


async def management_system_inadequate(api) -> Refusal:
    contract_id = await new_contract(api, await new_subcontractor(api, assessed=False), reference="CASE-MS")
    return Refusal("transitionContract", TRANSITION, {"id": contract_id, "v": 2, "to": "ACTIVE"}, "to")


async def missing_contract_clauses(api) -> Refusal:
    contract_id = await new_contract(api, await new_subcontractor(api), reference="CASE-CL",
                                     clauses=["CONFIDENTIALITY"])
    return Refusal("transitionContract", TRANSITION, {"id": contract_id, "v": 2, "to": "ACTIVE"}, "to")


async def sub_entrustment_not_permitted(api) -> Refusal:
    parent = await new_subcontractor(api)
    without_consent = [c for c in ALL_CLAUSES if c != "SUB_ENTRUSTMENT_CONSENT"]
    await new_contract(api, parent, reference="CASE-PARENT", clauses=without_consent, to=("UNDER_REVIEW", "ACTIVE"))
    contract_id = await new_contract(api, await new_subcontractor(api, parent_id=parent), reference="CASE-CHILD")
    return Refusal("transitionContract", TRANSITION, {"id": contract_id, "v": 2, "to": "ACTIVE"}, "to")


RECORD_PROVISION = """
mutation ($provision: ID!, $customer: ID!) {
  recordProvision(input: {provisionId: $provision, customerId: $customer, providedOn: "2026-11-20",
    dataItemCodes: ["name"]}) {
    record { id } errors { code field message }
  }
}"""


async def provision_not_applicable(api) -> Refusal:
    """Billing data for LIJ-0003, cancelled in September: billing (P5) does not outlive a
    cancellation, so the provision handles nothing of theirs any more (DESIGN.md "Time")."""
    data = await api.data('{ thirdPartyRecipients { provisions { id } } '
                          'customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0003") { id } }')
    [recipient] = data["thirdPartyRecipients"]
    [provision] = recipient["provisions"]
    return Refusal("recordProvision", RECORD_PROVISION,
                   {"provision": provision["id"], "customer": data["customerByRef"]["id"]}, "providedOn")


CREATE_PROVISION = """
mutation ($recipient: ID!) {
  createProvision(input: {businessCode: "loveinn-japan", recipientId: $recipient, legalBasis: OPT_OUT,
    purposeCodes: ["P5"], dataItemCodes: ["name"]}) {
    provision { id } errors { code field message }
  }
}"""


async def opt_out_not_permitted(api) -> Refusal:
    """An opt-out provision before the PPC was notified (APPI Art. 27(2))."""
    [recipient] = (await api.data("{ thirdPartyRecipients { id } }"))["thirdPartyRecipients"]
    return Refusal("createProvision", CREATE_PROVISION, {"recipient": recipient["id"]}, "ppcNotifiedOn")


CASES: dict[str, Callable[..., Awaitable[Refusal]]] = {
    "NOT_FOUND": not_found,
    "INVALID_INPUT": invalid_input,
    "DUPLICATE": duplicate,
    "VERSION_CONFLICT": version_conflict,
    "INVALID_TRANSITION": invalid_transition,
    "PURPOSE_OUT_OF_SCOPE": purpose_out_of_scope,
    "MANAGEMENT_SYSTEM_INADEQUATE": management_system_inadequate,
    "MISSING_CONTRACT_CLAUSES": missing_contract_clauses,
    "SUB_ENTRUSTMENT_NOT_PERMITTED": sub_entrustment_not_permitted,
    "PROVISION_NOT_APPLICABLE": provision_not_applicable,
    "OPT_OUT_NOT_PERMITTED": opt_out_not_permitted,
}


async def row_counts(api) -> dict[str, int]:
    """Rows in every registry table (tokens aside: authentication may touch them)."""
    async with api.database.reader.connect() as conn:
        return {
            name: (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            for name, table in metadata.tables.items() if name != "api_token"
        }


def test_every_error_code_of_the_contract_has_a_case():
    from schema.enums import ErrorCode

    assert sorted(CASES) == sorted(code.name for code in ErrorCode)


@pytest.mark.parametrize("code", CASES)
async def test_each_error_code_comes_back_in_errors_with_its_field_and_nothing_written(api, code):
    refusal = await CASES[code](api)
    before = await row_counts(api)
    result = (await api.data(refusal.query, refusal.variables))[refusal.payload]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, refusal.field)], result["errors"]
    assert all(len(e["message"]) > 10 for e in result["errors"])
    assert next(v for k, v in result.items() if k != "errors") is None
    after = await row_counts(api)
    assert after["audit_event"] == before["audit_event"]
    assert after == before


# --- re-entrustment through the API ---------------------------------------------------------


async def test_a_subcontractor_is_moved_under_a_parent_and_back_through_the_api(api):
    parent, child = await new_subcontractor(api, assessed=False), await new_subcontractor(api, assessed=False)
    moved = await write(api, UPDATE_SUB, {"id": child, "v": 1, "parent": parent}, "updateSubcontractor")
    assert (moved["version"], moved["parent"]) == (2, {"id": parent})
    cleared = await api.data("""
        mutation ($id: ID!) {
          updateSubcontractor(input: {id: $id, expectedVersion: 2, parentId: null}) {
            subcontractor { version parent { id } } errors { code }
          }
        }""", {"id": child})
    assert cleared["updateSubcontractor"] == {"subcontractor": {"version": 3, "parent": None}, "errors": []}


async def test_a_parent_that_would_make_a_re_entrustment_cycle_is_refused_through_the_api(api):
    top = await new_subcontractor(api, assessed=False, name="Survey Co")
    below = await new_subcontractor(api, parent_id=top, assessed=False, name="Panel Co")
    before = await row_counts(api)
    result = (await api.data(UPDATE_SUB, {"id": top, "v": 1, "parent": below}))["updateSubcontractor"]
    [error] = result["errors"]
    assert (error["code"], error["field"], result["subcontractor"]) == ("INVALID_INPUT", "parentId", None)
    assert "re-entrustment cycle (Survey Co -> Panel Co -> Survey Co)" in error["message"]
    assert await row_counts(api) == before


@pytest.mark.parametrize("parent", [ids.encode("Subcontractor", 999_999), ids.encode("Contract", 1), "garbage"])
async def test_a_parent_id_naming_no_subcontractor_is_not_found_through_the_api(api, parent):
    sub = await new_subcontractor(api, assessed=False)
    result = (await api.data(UPDATE_SUB, {"id": sub, "v": 1, "parent": parent}))["updateSubcontractor"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("NOT_FOUND", "parentId")]
