"""The role matrix of DESIGN.md, walked through HTTP for every role.

Every Mutation field of the served schema must have a row in MUTATIONS, and every field
guarded by a capability that not every role holds must have a row in RESTRICTED: a new
field without a decision fails here. A refused write is a FORBIDDEN GraphQL error and
writes nothing; personal data reads null for roles that may not see it.
"""

import json

import pytest
import sqlalchemy as sa
from graphql import build_schema as parse_sdl

from registry.access import MATRIX, Capability, can
from registry.enums import Role
from registry.models import metadata
from schema import build_schema
from schema.ids import encode

ROLES = list(Role)
SUB, CONTRACT, CUSTOMER = encode("Subcontractor", 1), encode("Contract", 1), encode("Customer", 1)

# mutation -> (capability it needs, its input)
MUTATIONS: dict[str, tuple[Capability, dict]] = {
    "createSubcontractor": (Capability.WRITE_VENDORS, {"name": "Role Matrix K.K.", "country": "JP"}),
    "updateSubcontractor": (Capability.WRITE_VENDORS, {"id": SUB, "expectedVersion": 1, "name": "Renamed K.K."}),
    "recordAssessment": (Capability.WRITE_VENDORS,
                         {"subcontractorId": SUB, "result": "ADEQUATE", "assessedOn": "2026-11-01"}),
    "createContract": (Capability.WRITE_VENDORS, {
        "subcontractorId": SUB, "businessCode": "loveinn-japan", "reference": "RM-1",
        "effectiveFrom": "2026-12-01", "expiresOn": "2027-12-01", "clauses": ["CONFIDENTIALITY"]}),
    "transitionContract": (Capability.WRITE_VENDORS, {"id": CONTRACT, "expectedVersion": 1, "to": "UNDER_REVIEW"}),
    "addEntrustment": (Capability.WRITE_VENDORS,
                       {"contractId": CONTRACT, "purposeCodes": ["P1"], "dataItemCodes": ["name"]}),
    "removeEntrustment": (Capability.WRITE_VENDORS, {"id": encode("Entrustment", 1)}),
    "registerCustomer": (Capability.WRITE_PRIVACY,
                         {"businessCode": "loveinn-japan", "externalRef": "RM-9", "dataItemCodes": ["name"]}),
    "cancelCustomer": (Capability.WRITE_PRIVACY, {"id": CUSTOMER, "cancelledOn": "2026-11-20"}),
    "submitRequest": (Capability.WRITE_PRIVACY, {"customerId": CUSTOMER, "kind": "DISCLOSURE"}),
    "transitionRequest": (Capability.WRITE_PRIVACY, {"id": encode("DataSubjectRequest", 1), "to": "IN_PROGRESS"}),
    "recordProvision": (Capability.WRITE_PRIVACY, {
        "provisionId": encode("Provision", 1), "customerId": CUSTOMER, "providedOn": "2026-11-20",
        "dataItemCodes": ["name"]}),
    "recordDataReturn": (Capability.WRITE_VENDORS,
                         {"contractId": CONTRACT, "expectedVersion": 1, "returnedOn": "2026-11-20"}),
    "changeCustomerItems": (Capability.WRITE_PRIVACY, {"id": CUSTOMER, "removeDataItemCodes": ["phone"]}),
    "updateBusiness": (Capability.WRITE_REGISTRY, {"code": "loveinn-japan", "representative": "Role Matrix"}),
    "createPurpose": (Capability.WRITE_REGISTRY, {"businessCode": "loveinn-japan", "code": "P9", "title": "Role"}),
    "updatePurpose": (Capability.WRITE_REGISTRY, {"id": encode("Purpose", 1), "title": "Renamed"}),
    "retirePurpose": (Capability.WRITE_REGISTRY, {"id": encode("Purpose", 4), "retiredOn": "2026-12-31"}),
    "createDataItem": (Capability.WRITE_REGISTRY,
                       {"businessCode": "loveinn-japan", "code": "rm", "name": "Role", "sensitivity": "ORDINARY"}),
    "updateDataItem": (Capability.WRITE_REGISTRY, {"id": encode("DataItem", 1), "name": "Full name"}),
    "createRecipient": (Capability.WRITE_REGISTRY, {"name": "Role Matrix Bank", "country": "JP", "kind": "bank"}),
    "updateRecipient": (Capability.WRITE_REGISTRY, {"id": encode("ThirdPartyRecipient", 1), "kind": "bank"}),
    "createProvision": (Capability.WRITE_REGISTRY, {
        "businessCode": "loveinn-japan", "recipientId": encode("ThirdPartyRecipient", 1), "legalBasis": "CONSENT",
        "purposeCodes": ["P5"], "dataItemCodes": ["name"]}),
    "endProvision": (Capability.WRITE_REGISTRY, {"id": encode("Provision", 1), "effectiveUntil": "2026-12-31"}),
    "createJointUse": (Capability.WRITE_REGISTRY, {
        "businessCode": "loveinn-japan", "users": "ALMEX group companies", "purposeCodes": ["P1"],
        "dataItemCodes": ["name"], "responsible": "ALMEX Inc."}),
    "endJointUse": (Capability.WRITE_REGISTRY, {"id": encode("JointUse", 1), "effectiveUntil": "2026-12-31"}),
    "publishNotice": (Capability.WRITE_REGISTRY, {"businessCode": "loveinn-japan"}),
    "importCustomers": (Capability.WRITE_REGISTRY,
                        {"rows": [{"externalRef": "RM-10", "registeredOn": "2026-11-01", "items": ["name"]}]}),
}

# field guarded by a capability some role lacks -> that capability
RESTRICTED: dict[str, Capability] = {
    "Customer.displayName": Capability.READ_PERSONAL_DATA,
    "Customer.email": Capability.READ_PERSONAL_DATA,
    "Customer.disclosure": Capability.READ_PERSONAL_DATA,
    "DataSubjectRequest.note": Capability.READ_PERSONAL_DATA,
    "Subcontractor.history": Capability.READ_HISTORY,
    "Query.auditEvents": Capability.READ_AUDIT,
}


def directive_of(capability: Capability) -> str:
    return "requires" + capability.name.title().replace("_", "")


def guarded_fields() -> dict[str, str]:
    """Each field of the served SDL carrying a permission directive -> the directive's name."""
    sdl = parse_sdl(build_schema().as_str())
    found = {}
    for type_name, graphql_type in sdl.type_map.items():
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            node = field.ast_node
            for directive in getattr(node, "directives", None) or ():
                if directive.name.value.startswith("requires"):
                    found[f"{type_name}.{field_name}"] = directive.name.value
    return found


async def row_count(api) -> int:
    async with api.database.session() as session:
        counts = [await session.scalar(sa.select(sa.func.count()).select_from(t)) for t in metadata.sorted_tables]
    return sum(counts)


def codes(body: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def test_every_served_mutation_has_a_decision(api):
    body = await api.data("{ __schema { mutationType { fields { name } } } }")
    served = {f["name"] for f in body["__schema"]["mutationType"]["fields"]}
    assert served == set(MUTATIONS), f"no decision for {served - set(MUTATIONS)}; stale rows {set(MUTATIONS) - served}"


def test_every_field_some_role_may_not_use_has_a_decision():
    held_by_all = {c for c in Capability if all(can(role, c) for role in Role)}
    restricted = {
        field: directive for field, directive in guarded_fields().items()
        if not field.startswith("Mutation.") and directive not in {directive_of(c) for c in held_by_all}
    }
    assert restricted == {field: directive_of(c) for field, c in RESTRICTED.items()}


def test_every_mutation_is_guarded_by_the_capability_in_the_table():
    guarded = guarded_fields()
    assert {f"Mutation.{name}": directive_of(c) for name, (c, _) in MUTATIONS.items()} == {
        field: directive for field, directive in guarded.items() if field.startswith("Mutation.")
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
async def test_mutation_is_allowed_exactly_for_roles_with_its_capability(api, mutation, role):
    capability, arguments = MUTATIONS[mutation]
    before = await row_count(api)
    body = await api.gql(f"mutation ($input: {mutation[0].upper()}{mutation[1:]}Input!) "
                         f"{{ {mutation}(input: $input) {{ errors {{ code }} }} }}", {"input": arguments}, role=role)
    if can(role, capability):
        assert "errors" not in body, body
        assert body["data"][mutation] is not None
    else:
        assert codes(body) == ["FORBIDDEN"]
        assert body["data"] is None
        assert await row_count(api) == before


CUSTOMER_PERSONAL = ('{ customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0001") '
                     "{ displayName email disclosure } }")


@pytest.mark.parametrize("role", ROLES)
async def test_customer_personal_data_reads_null_without_the_capability(api, role):
    customer = (await api.data(CUSTOMER_PERSONAL, role=role))["customerByRef"]
    if can(role, Capability.READ_PERSONAL_DATA):
        assert customer["displayName"] and "@" in customer["email"] and customer["email"] in customer["disclosure"]
    else:
        assert customer == {"displayName": None, "email": None, "disclosure": None}


@pytest.mark.parametrize("role", ROLES)
async def test_subcontractor_history_needs_read_history(api, role):
    body = await api.gql(
        "{ subcontractors(first: 1) { edges { node { history { edges { node { action before after } } } } } } }",
        role=role,
    )
    if can(role, Capability.READ_HISTORY):
        events = body["data"]["subcontractors"]["edges"][0]["node"]["history"]["edges"]
        assert events and json.loads(events[-1]["node"]["after"])
    else:
        assert codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize("role", ROLES)
async def test_audit_events_need_read_audit(api, role):
    body = await api.gql("{ auditEvents(first: 5) { totalCount } }", role=role)
    if can(role, Capability.READ_AUDIT):
        assert body["data"]["auditEvents"]["totalCount"] > 0
    else:
        assert codes(body) == ["FORBIDDEN"]
        assert body["data"] is None


async def customer_audit_event(api) -> dict:
    """A customer's registration event, whose `after` holds the name and email given."""
    events = (await api.data("{ auditEvents(first: 200) { edges { node { id action after } } } }"))
    return next(e["node"] for e in events["auditEvents"]["edges"] if e["node"]["action"] == "customer.register")


@pytest.mark.parametrize("role", ROLES)
async def test_node_of_an_audit_event_is_null_without_read_audit(api, role):
    event = await customer_audit_event(api)
    body = await api.data("query ($id: ID!) { node(id: $id) { ... on AuditEvent { id after } } }",
                          {"id": event["id"]}, role=role)
    if can(role, Capability.READ_AUDIT):
        assert body["node"]["id"] == event["id"]
    else:
        assert body["node"] is None


@pytest.mark.parametrize("role", [r for r in ROLES if can(r, Capability.READ_AUDIT)])
async def test_audit_event_before_and_after_show_personal_data_only_with_the_capability(api, role):
    event = await customer_audit_event(api)
    after = json.loads(event["after"])
    shown = any(after.get(k) for k in ("display_name", "email"))
    assert shown == can(role, Capability.READ_PERSONAL_DATA)


def test_the_matrix_gives_every_role_a_row():
    assert set(MATRIX) == set(Role)
