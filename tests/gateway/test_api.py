"""The API through HTTP, on a migrated database holding the demo registry."""

import sqlalchemy as sa

from registry.enums import Role

HANDLINGS = """
query ($ref: String!, $asOf: Date, $all: Boolean) {
  customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
    handlings(asOf: $asOf, includeExcluded: $all) {
      party { __typename name country }
      role excluded exclusionReasons
      dataItems { code } purposes { code }
      contract { reference status }
      provision { legalBasis }
      chain { name }
    }
  }
}
"""


async def handlings(api, ref, *, as_of=None, include_excluded=False) -> dict[str, dict]:
    data = await api.data(HANDLINGS, {"ref": ref, "asOf": as_of, "all": include_excluded})
    return {h["party"]["name"].split(" (")[0]: h for h in data["customerByRef"]["handlings"]}


def codes(handling, key):
    return sorted(x["code"] for x in handling[key])


async def test_graphql_without_a_token_is_401(api):
    response = await api.client.post("/graphql", json={"query": "{ viewer { name } }"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_graphql_with_an_unknown_token_is_401(api):
    response = await api.client.post(
        "/graphql", json={"query": "{ viewer { name } }"}, headers={"Authorization": "Bearer pigw_forged"}
    )
    assert response.status_code == 401
    assert "unknown" in response.json()["errors"][0]["message"]


async def test_graphiql_page_needs_no_token(api):
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_health_and_readiness(api):
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_query_by_get_works(api):
    response = await api.client.get(
        "/graphql", params={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {api.tokens[Role.VIEWER]}"},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"role": "VIEWER"}}}


async def test_viewer_is_the_token_name_and_role(api):
    data = await api.data("{ viewer { name role } }", role=Role.VENDOR_MANAGER)
    assert data["viewer"] == {"name": "test-vendor_manager", "role": "VENDOR_MANAGER"}


async def test_active_customer_is_handled_by_every_active_party_in_effect(api):
    found = await handlings(api, "LIJ-0001")
    assert sorted(found) == [
        "Financial institutions", "Hikari Support Center Co., Ltd.", "Kumo Hosting K.K.", "Loveinn Japan",
        "Panelist Hub Pte. Ltd.", "Sakura Payment Services K.K.", "Tsubame Research Inc.",
    ]
    controller = found["Loveinn Japan"]
    assert controller["role"] == "CONTROLLER"
    assert codes(controller, "dataItems") == ["amount", "credit_card_number", "email", "name", "phone"]
    assert codes(controller, "purposes") == ["P1", "P2", "P3", "P4", "P5"]
    payment = found["Sakura Payment Services K.K."]
    assert payment["role"] == "SUBCONTRACTOR" and payment["contract"] == {"reference": "LIJ-PAY-001", "status": "ACTIVE"}
    # bank_account is entrusted but not held for this customer
    assert codes(payment, "dataItems") == ["amount", "credit_card_number", "name"]
    third = found["Financial institutions"]
    assert third["role"] == "THIRD_PARTY" and third["provision"] == {"legalBasis": "CONSENT"}
    assert codes(third, "purposes") == ["P5"]


async def test_re_entrusted_panel_provider_handles_within_its_parent_with_its_chain(api):
    panel = (await handlings(api, "LIJ-0001"))["Panelist Hub Pte. Ltd."]
    assert panel["chain"] == [{"name": "Tsubame Research Inc. (fictional)"}]
    assert panel["party"]["country"] == "SG"
    assert codes(panel, "dataItems") == ["email"] and codes(panel, "purposes") == ["P3"]


async def test_inactive_and_expired_contracts_are_excluded_with_reasons(api):
    found = await handlings(api, "LIJ-0001", include_excluded=True)
    assert "CONTRACT_NOT_ACTIVE" in found["Nami Mailing Services G.K."]["exclusionReasons"]
    assert "CONTRACT_NOT_ACTIVE" in found["Old Print Works K.K."]["exclusionReasons"]
    legacy = found["Legacy Call Center Co., Ltd."]
    assert legacy["excluded"] and "CONTRACT_NOT_IN_EFFECT" in legacy["exclusionReasons"]
    assert legacy["contract"]["status"] == "EXPIRED"
    assert all(not h["excluded"] for name, h in found.items() if name in ("Loveinn Japan", "Tsubame Research Inc."))


async def test_cancelled_customer_keeps_only_after_cancellation_purposes(api):
    found = await handlings(api, "LIJ-0003", include_excluded=True)
    assert codes(found["Loveinn Japan"], "purposes") == ["P2", "P3"]
    assert not found["Hikari Support Center Co., Ltd."]["excluded"]
    assert found["Sakura Payment Services K.K."]["exclusionReasons"] == ["NO_PERMITTED_PURPOSES"]
    assert found["Financial institutions"]["exclusionReasons"] == ["NO_PERMITTED_PURPOSES"]


async def test_as_of_before_cancellation_restores_every_purpose(api):
    found = await handlings(api, "LIJ-0003", as_of="2026-08-01")
    assert codes(found["Loveinn Japan"], "purposes") == ["P1", "P2", "P3", "P4", "P5"]
    assert "Sakura Payment Services K.K." in found


async def test_completed_stop_third_party_provision_excludes_the_recipient(api):
    found = await handlings(api, "LIJ-0004", include_excluded=True)
    assert found["Financial institutions"]["exclusionReasons"] == ["THIRD_PARTY_PROVISION_STOPPED"]
    assert not found["Sakura Payment Services K.K."]["excluded"]


async def test_completed_stop_use_excludes_everyone(api):
    found = await handlings(api, "LIJ-0005", include_excluded=True)
    assert all(h["excluded"] for h in found.values())
    # contracts that begin next month entrust nothing yet, so no use of theirs was stopped
    not_begun = {"Aozora Analytics Inc.", "Minato Data Labs K.K."}
    assert all("CONTRACT_NOT_IN_EFFECT" in found[name]["exclusionReasons"] for name in not_begun)
    assert all("USE_STOPPED" in h["exclusionReasons"] for name, h in found.items() if name not in not_begun)
    assert await handlings(api, "LIJ-0005") == {}


async def test_completed_deletion_leaves_no_held_items(api):
    found = await handlings(api, "LIJ-0006", include_excluded=True)
    # contracts that begin next month entrust nothing yet: the customer's items are not in question
    not_begun = {"Aozora Analytics Inc.", "Minato Data Labs K.K."}
    assert all("CONTRACT_NOT_IN_EFFECT" in found[name]["exclusionReasons"] for name in not_begun)
    assert all("NO_HELD_DATA_ITEMS" in h["exclusionReasons"] for name, h in found.items() if name not in not_begun)


async def test_personal_data_reads_null_for_roles_that_may_not_see_it(api):
    query = '{ customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0002") { displayName email } }'
    assert (await api.data(query, role=Role.VIEWER))["customerByRef"] == {"displayName": None, "email": None}
    assert (await api.data(query, role=Role.VENDOR_MANAGER))["customerByRef"]["email"] is None
    seen = (await api.data(query, role=Role.PRIVACY_OFFICER))["customerByRef"]
    assert seen == {"displayName": "Taro Suzuki (fictional)", "email": "lij-0002@example.test"}


async def test_subcontractors_page_with_cursors_and_total(api):
    query = "query ($after: String) { subcontractors(first: 4, after: $after) { totalCount " \
            "pageInfo { hasNextPage endCursor } edges { cursor node { name } } } }"
    names, after, pages = [], None, 0
    while True:
        page = (await api.data(query, {"after": after}))["subcontractors"]
        assert page["totalCount"] == 10
        names += [e["node"]["name"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3 and len(names) == len(set(names)) == 10


async def test_subcontractor_filters(api):
    query = "query ($f: SubcontractorFilter) { subcontractors(filter: $f) { totalCount edges { node { name } } } }"

    async def names(f):
        page = (await api.data(query, {"f": f}))["subcontractors"]
        return sorted(e["node"]["name"].split(" (")[0] for e in page["edges"])

    assert await names({"country": "SG"}) == ["Panelist Hub Pte. Ltd."]
    assert await names({"contractStatus": "SUSPENDED"}) == ["Nami Mailing Services G.K."]
    assert await names({"contractStatus": "EXPIRED"}) == ["Legacy Call Center Co., Ltd."]
    assert await names({"dataItemCode": "credit_card_number"}) == ["Sakura Payment Services K.K."]
    assert "Hikari Support Center Co., Ltd." in await names({"purposeCode": "P3"})
    assert await names({"nameContains": "kumo"}) == ["Kumo Hosting K.K."]


async def test_a_bad_cursor_or_page_size_is_a_clear_error(api):
    body = await api.gql('{ subcontractors(after: "nonsense!") { totalCount } }')
    assert body["errors"][0]["extensions"]["field"] == "after"
    body = await api.gql("{ subcontractors(first: 5000) { totalCount } }")
    assert "first must be between 0 and 1000" in body["errors"][0]["message"]


async def test_node_fetches_any_object_by_global_id_and_ignores_forged_ones(api):
    data = await api.data('{ business(code: "loveinn-japan") { id purposes { id code } } }')
    purpose = data["business"]["purposes"][0]
    found = await api.data("query ($id: ID!) { node(id: $id) { __typename id ... on Purpose { code } } }",
                           {"id": purpose["id"]})
    assert found["node"] == {"__typename": "Purpose", "id": purpose["id"], "code": "P1"}
    for forged in ["", "bm9wZQ", "Q3VzdG9tZXI6OTk5OTk", "' OR 1=1 --"]:
        assert (await api.data("query ($id: ID!) { node(id: $id) { id } }", {"id": forged}))["node"] is None


async def test_audit_events_through_node_need_the_audit_role(api):
    events = await api.data("{ auditEvents(first: 1) { edges { node { id } } } }")
    event_id = events["auditEvents"]["edges"][0]["node"]["id"]
    query = "query ($id: ID!) { node(id: $id) { id } }"
    assert (await api.data(query, {"id": event_id}, role=Role.VIEWER))["node"] is None
    assert (await api.data(query, {"id": event_id}, role=Role.ADMIN))["node"] == {"id": event_id}


async def test_audit_events_are_forbidden_to_viewers(api):
    body = await api.gql("{ auditEvents { totalCount } }", role=Role.VIEWER)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None


async def test_writes_are_forbidden_to_viewers_and_nothing_is_written(api):
    mutation = 'mutation { createSubcontractor(input: {name: "Nope", country: "JP"}) { subcontractor { id } } }'
    body = await api.gql(mutation, role=Role.VIEWER)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    total = await api.data("{ subcontractors { totalCount } }")
    assert total["subcontractors"]["totalCount"] == 10


async def test_vendor_manager_creates_and_updates_a_subcontractor(api):
    created = await api.data(
        'mutation { createSubcontractor(input: {name: "Fuji Cloud K.K.", country: "jp", '
        'corporateNumber: "7000012050002", certifications: [ISO_27001]}) '
        "{ subcontractor { id name country version managementSystem { certifications assessmentResult } } "
        "errors { code } } }",
        role=Role.VENDOR_MANAGER,
    )
    sub = created["createSubcontractor"]["subcontractor"]
    assert created["createSubcontractor"]["errors"] == []
    assert sub["country"] == "JP" and sub["version"] == 1
    assert sub["managementSystem"] == {"certifications": ["ISO_27001"], "assessmentResult": "NOT_ASSESSED"}
    update = "mutation ($id: ID!, $v: Int!) { updateSubcontractor(input: {id: $id, expectedVersion: $v, " \
             'name: "Fuji Cloud Holdings K.K."}) { subcontractor { name version } errors { code field } } }'
    first = await api.data(update, {"id": sub["id"], "v": 1}, role=Role.VENDOR_MANAGER)
    assert first["updateSubcontractor"]["subcontractor"] == {"name": "Fuji Cloud Holdings K.K.", "version": 2}
    stale = await api.data(update, {"id": sub["id"], "v": 1}, role=Role.VENDOR_MANAGER)
    assert stale["updateSubcontractor"] == {
        "subcontractor": None, "errors": [{"code": "VERSION_CONFLICT", "field": "expectedVersion"}]
    }


async def test_invalid_input_comes_back_in_errors_with_the_field(api):
    body = await api.data(
        'mutation { createSubcontractor(input: {name: "X", country: "ZZ", corporateNumber: "1234567890123"}) '
        "{ subcontractor { id } errors { code field message } } }"
    )
    errors = body["createSubcontractor"]["errors"]
    assert body["createSubcontractor"]["subcontractor"] is None
    assert {(e["code"], e["field"]) for e in errors} >= {("INVALID_INPUT", "country")}


async def test_a_forged_id_in_a_mutation_is_not_found(api):
    body = await api.data(
        'mutation { transitionContract(input: {id: "forged", expectedVersion: 1, to: ACTIVE}) '
        "{ contract { id } errors { code field } } }"
    )
    assert body["transitionContract"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]


async def test_activation_refused_without_required_clauses(api):
    subs = await api.data('{ subcontractors(filter: {nameContains: "Sakura"}) { edges { node { id } } } }')
    sub_id = subs["subcontractors"]["edges"][0]["node"]["id"]
    created = await api.data(
        "mutation ($s: ID!) { createContract(input: {subcontractorId: $s, businessCode: \"loveinn-japan\", "
        'reference: "LIJ-PAY-002", effectiveFrom: "2026-11-01", expiresOn: "2027-10-31", '
        "clauses: [CONFIDENTIALITY]}) { contract { id version status } errors { code } } }",
        {"s": sub_id}, role=Role.VENDOR_MANAGER,
    )
    contract = created["createContract"]["contract"]
    assert contract["status"] == "DRAFT"
    move = "mutation ($id: ID!, $v: Int!, $to: ContractStatus!) { transitionContract(input: " \
           "{id: $id, expectedVersion: $v, to: $to}) { contract { status version } errors { code field } } }"
    review = await api.data(move, {"id": contract["id"], "v": 1, "to": "UNDER_REVIEW"}, role=Role.VENDOR_MANAGER)
    assert review["transitionContract"]["contract"] == {"status": "UNDER_REVIEW", "version": 2}
    refused = await api.data(move, {"id": contract["id"], "v": 2, "to": "ACTIVE"}, role=Role.VENDOR_MANAGER)
    assert refused["transitionContract"]["contract"] is None
    assert [e["code"] for e in refused["transitionContract"]["errors"]] == ["MISSING_CONTRACT_CLAUSES"]


async def test_privacy_officer_completes_a_stop_use_request_and_handlings_change(api):
    customer = await api.data('{ customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0002") { id } }')
    cid = customer["customerByRef"]["id"]
    submitted = await api.data(
        'mutation ($c: ID!) { submitRequest(input: {customerId: $c, kind: STOP_USE}) '
        "{ request { id status dueOn } errors { code } } }", {"c": cid}, role=Role.PRIVACY_OFFICER,
    )
    request = submitted["submitRequest"]["request"]
    assert request["status"] == "RECEIVED" and request["dueOn"] == "2026-12-09"
    move = "mutation ($id: ID!, $to: RequestStatus!) { transitionRequest(input: {id: $id, to: $to}) " \
           "{ request { status resolvedAt } errors { code } } }"
    for status in ("IN_PROGRESS", "COMPLETED"):
        moved = await api.data(move, {"id": request["id"], "to": status}, role=Role.PRIVACY_OFFICER)
        assert moved["transitionRequest"]["request"]["status"] == status
    assert moved["transitionRequest"]["request"]["resolvedAt"].startswith("2026-11-25T10:00:00+09:00")
    assert await handlings(api, "LIJ-0002") == {}


async def test_vendor_manager_may_not_write_customers(api):
    body = await api.gql(
        'mutation { registerCustomer(input: {businessCode: "loveinn-japan", externalRef: "X", dataItemCodes: []}) '
        "{ customer { id } } }", role=Role.VENDOR_MANAGER,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_findings_breach_impact_and_notice_answer_on_the_demo(api):
    data = await api.data(
        '{ complianceFindings(businessCode: "loveinn-japan") { code severity message subject { id } } '
        'privacyNotice(businessCode: "loveinn-japan") }'
    )
    found = {f["code"] for f in data["complianceFindings"]}
    assert {"CONTRACT_EXPIRING_SOON", "CONTRACT_EXPIRED_WITH_ENTRUSTMENTS", "ASSESSMENT_MISSING"} <= found
    assert "ALMEX Inc." in data["privacyNotice"]
    subs = await api.data('{ subcontractors(filter: {nameContains: "Sakura"}) { edges { node { id } } } }')
    impact = await api.data(
        "query ($p: ID!) { breachImpact(partyId: $p) { party { name } affectedCustomers customersInUse reportable "
        "reasons dataItems { code } } }", {"p": subs["subcontractors"]["edges"][0]["node"]["id"]},
    )
    assert impact["breachImpact"]["reportable"] is True
    # it holds payment data of every customer but LIJ-0006 (deleted); it no longer uses that of
    # LIJ-0003 (cancelled: no billing) and LIJ-0005 (STOP_USE of everything)
    assert impact["breachImpact"]["affectedCustomers"] == 7
    assert impact["breachImpact"]["customersInUse"] == 5


async def test_published_notice_needs_no_token(api):
    response = await api.client.get("/notice/loveinn-japan")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert "Loveinn Japan" in response.text
    assert (await api.client.get("/notice/nobody")).status_code == 404


async def test_data_map_query_count_does_not_grow_with_rows(api):
    """Every list field is batched: 5 or 10 subcontractors (both with a re-entrusted one) cost the same."""
    query = """query ($n: Int) { subcontractors(first: $n) { edges { node { name contractStatus parent { name }
      managementSystem { assessmentResult } contracts { reference status business { code }
      entrustments { purposes { code } dataItems { code } } } } } } }"""
    await api.data(query, {"n": 1})  # the token lookup is cached from here on
    counts = []
    for n in (5, 10):
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa.event.listen(api.database.reader.sync_engine, "before_cursor_execute", listener)
        try:
            await api.data(query, {"n": n})
        finally:
            sa.event.remove(api.database.reader.sync_engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


async def test_findings_of_an_unknown_business_is_a_clear_error(api):
    body = await api.gql('{ complianceFindings(businessCode: "nobody") { code } }')
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "businessCode"}


async def test_several_operations_need_an_operation_name(api):
    document = "query A { viewer { name } } query B { viewer { role } }"
    for _ in range(2):  # the second time, the valid document comes from the document cache
        body = await api.gql(document)
        assert body["data"] is None and "operationName" in body["errors"][0]["message"]
    response = await api.client.post(
        "/graphql", json={"query": document, "operationName": "B"},
        headers={"Authorization": f"Bearer {api.tokens[Role.VIEWER]}"},
    )
    assert response.json() == {"data": {"viewer": {"role": "VIEWER"}}}
