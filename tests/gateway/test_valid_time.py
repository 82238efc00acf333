"""Issue 12's "Why" list through HTTP on the demo registry: each scenario a new user tried,
answered as DESIGN.md "Time" and "Breach impact" ask (today is 2026-11-25; the demo's
customers registered on 2025-10-21, 400 days before)."""

from registry.enums import Role

TODAY, YESTERDAY, LAST_MONTH = "2026-11-25", "2026-11-24", "2026-10-25"
BEFORE_REGISTRATION = "2025-10-01"

HANDLINGS = """
query ($ref: String!, $asOf: Date) {
  customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
    handlings(asOf: $asOf, includeExcluded: true) {
      party { name } excluded exclusionReasons dataItems { code } purposes { code } chain { name }
    }
  }
}"""
CUSTOMER = """
query ($ref: String!, $asOf: Date) {
  customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
    id status cancelledOn registeredOn statusThen: status(asOf: $asOf)
    dataItems { code } itemsThen: dataItems(asOf: $asOf) { code }
    itemHistory { dataItem { code } heldFrom heldUntil }
  }
}"""
CONTRACTS = """
query ($name: String!) {
  subcontractors(filter: {nameContains: $name}) { edges { node { id contracts {
    id reference version status entrustments(includeEnded: true) { id description effectiveFrom effectiveUntil }
  } } } }
}"""
SUBCONTRACTOR = """
query ($name: String!) {
  subcontractors(filter: {nameContains: $name}) { edges { node { id version parent { name } } } }
}"""
REPARENT = """
mutation ($id: ID!, $v: Int!, $parent: ID) {
  updateSubcontractor(input: {id: $id, expectedVersion: $v, parentId: $parent}) {
    subcontractor { version parent { name } } errors { code field message }
  }
}"""
LATEST_EVENT = "{ auditEvents(first: 1) { edges { node { id action } } } }"
TRANSITION = """
mutation ($id: ID!, $v: Int!, $to: ContractStatus!) {
  transitionContract(input: {id: $id, expectedVersion: $v, to: $to}) {
    contract { status statusHistory { status effectiveOn } } errors { code field message }
  }
}"""
CHANGE_ITEMS = """
mutation ($id: ID!, $add: [String!], $remove: [String!], $on: Date) {
  changeCustomerItems(input: {id: $id, addDataItemCodes: $add, removeDataItemCodes: $remove, effectiveOn: $on}) {
    customer { id } errors { code field message }
  }
}"""
SUBMIT = """
mutation ($c: ID!, $kind: RequestKind!, $purposes: [String!], $items: [String!]) {
  submitRequest(input: {customerId: $c, kind: $kind, purposeCodes: $purposes, dataItemCodes: $items}) {
    request { id purposes { code } dataItems { code } } errors { code field message }
  }
}"""
MOVE = """
mutation ($id: ID!, $to: RequestStatus!) {
  transitionRequest(input: {id: $id, to: $to}) { request { status } errors { code field message } }
}"""
CANCEL = """
mutation ($id: ID!, $on: Date!) {
  cancelCustomer(input: {id: $id, cancelledOn: $on}) { customer { id } errors { code field message } }
}"""
RECORD = """
mutation ($p: ID!, $c: ID!, $on: Date!, $items: [String!]!) {
  recordProvision(input: {provisionId: $p, customerId: $c, providedOn: $on, dataItemCodes: $items}) {
    record { id } errors { code field message }
  }
}"""
BREACH = """
query ($p: ID!, $codes: [String!], $cause: BreachCause, $found: Date) {
  breachImpact(partyId: $p, dataItemCodes: $codes, cause: $cause, discoveredOn: $found) {
    affectedCustomers customersInUse reportable reasons cause discoveredOn preliminaryReportDueOn finalReportDueOn
    dataItems { code }
  }
}"""


# --- helpers, through the API ------------------------------------------------------------


async def handlings(api, ref: str, as_of: str | None = None) -> dict[str, dict]:
    data = await api.data(HANDLINGS, {"ref": ref, "asOf": as_of})
    return {h["party"]["name"].split(" (")[0]: h for h in data["customerByRef"]["handlings"]}


def handling(found: dict[str, dict]) -> set[str]:
    return {name for name, h in found.items() if not h["excluded"]}


def codes(found: dict, party: str, key: str) -> list[str]:
    return sorted(x["code"] for x in found[party][key])


async def customer(api, ref: str, as_of: str | None = None) -> dict:
    return (await api.data(CUSTOMER, {"ref": ref, "asOf": as_of}))["customerByRef"]


async def contracts_of(api, name: str) -> dict[str, dict]:
    [edge] = (await api.data(CONTRACTS, {"name": name}))["subcontractors"]["edges"]
    return {c["reference"]: c for c in edge["node"]["contracts"]}


async def subcontractor(api, name: str) -> dict:
    [edge] = (await api.data(SUBCONTRACTOR, {"name": name}))["subcontractors"]["edges"]
    return edge["node"]


async def write(api, query: str, variables: dict, payload: str, role: Role = Role.ADMIN) -> dict:
    result = (await api.data(query, variables, role=role))[payload]
    assert result["errors"] == [], result["errors"]
    return result


async def complete(api, ref: str, kind: str, **scope) -> dict:
    """File a scoped request and walk it to COMPLETED (resolved today) as a privacy officer."""
    officer = Role.PRIVACY_OFFICER
    submitted = await write(api, SUBMIT, {"c": (await customer(api, ref))["id"], "kind": kind, **scope},
                            "submitRequest", officer)
    for status in ("IN_PROGRESS", "COMPLETED"):
        await write(api, MOVE, {"id": submitted["request"]["id"], "to": status}, "transitionRequest", officer)
    return submitted["request"]


async def billing_provision(api) -> str:
    [bank] = (await api.data("{ thirdPartyRecipients { provisions { id } } }"))["thirdPartyRecipients"]
    return bank["provisions"][0]["id"]


async def business_id(api) -> str:
    return (await api.data('{ business(code: "loveinn-japan") { id } }'))["business"]["id"]


# --- registration and cancellation ---------------------------------------------------------


async def test_before_registration_nobody_handles_the_customer(api):
    before = await handlings(api, "LIJ-0001", BEFORE_REGISTRATION)
    assert handling(before) == set()
    assert all("CUSTOMER_NOT_REGISTERED" in h["exclusionReasons"] for h in before.values())
    assert len(before) == 12  # the business, ten contracts, the provision: each says why
    now = await handlings(api, "LIJ-0001")
    assert {"Loveinn Japan", "Financial institutions"} <= handling(now)
    assert not any("CUSTOMER_NOT_REGISTERED" in h["exclusionReasons"] for h in now.values())


async def test_a_cancellation_next_month_reads_active_today_and_cancelled_from_then(api):
    lij = await customer(api, "LIJ-0002")
    await write(api, CANCEL, {"id": lij["id"], "on": "2026-12-25"}, "cancelCustomer", Role.PRIVACY_OFFICER)
    today = await customer(api, "LIJ-0002", "2026-12-25")
    assert (today["status"], today["cancelledOn"], today["statusThen"]) == ("ACTIVE", "2026-12-25", "CANCELLED")
    assert (await customer(api, "LIJ-0002", "2026-12-24"))["statusThen"] == "ACTIVE"
    assert codes(await handlings(api, "LIJ-0002"), "Loveinn Japan", "purposes") == ["P1", "P2", "P3", "P4", "P5"]
    then = await handlings(api, "LIJ-0002", "2026-12-25")
    assert codes(then, "Loveinn Japan", "purposes") == ["P2", "P3"]  # usable after cancellation (seed section 5)
    assert then["Financial institutions"]["exclusionReasons"] == ["NO_PERMITTED_PURPOSES"]


async def test_a_cancellation_before_registration_is_invalid_input_and_nothing_is_written(api):
    lij = await customer(api, "LIJ-0001")
    refused = (await api.data(CANCEL, {"id": lij["id"], "on": BEFORE_REGISTRATION},
                              role=Role.PRIVACY_OFFICER))["cancelCustomer"]
    assert refused["customer"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "cancelledOn")]
    after = await customer(api, "LIJ-0001")
    assert (after["status"], after["cancelledOn"]) == ("ACTIVE", None)


# --- contracts and entrustments: the past stays as it was ------------------------------------


async def test_a_contract_suspended_today_still_handled_the_customer_last_month(api):
    [pay] = (await contracts_of(api, "Sakura")).values()
    moved = await write(api, TRANSITION, {"id": pay["id"], "v": pay["version"], "to": "SUSPENDED"},
                        "transitionContract")
    assert moved["contract"]["status"] == "SUSPENDED"
    assert moved["contract"]["statusHistory"][-1] == {"status": "SUSPENDED", "effectiveOn": TODAY}
    assert "Sakura Payment Services K.K." in handling(await handlings(api, "LIJ-0001", LAST_MONTH))
    now = await handlings(api, "LIJ-0001")
    assert "CONTRACT_NOT_ACTIVE" in now["Sakura Payment Services K.K."]["exclusionReasons"]
    status = await api.data("query ($id: ID!, $on: Date) { node(id: $id) { ... on Contract { then: status(asOf: $on) "
                            "} } }", {"id": pay["id"], "on": LAST_MONTH})
    assert status["node"]["then"] == "ACTIVE"


async def test_an_entrustment_removed_today_still_answers_for_last_month(api):
    support = (await contracts_of(api, "Hikari"))["LIJ-SUP-001"]
    [inquiries] = [e for e in support["entrustments"] if e["description"] == "Answering customers' inquiries"]
    removed = await write(api, """mutation ($id: ID!) { removeEntrustment(input: {id: $id}) {
        entrustment { effectiveUntil } errors { code field message } } }""", {"id": inquiries["id"]},
                          "removeEntrustment")
    assert removed["entrustment"]["effectiveUntil"] == YESTERDAY  # closed, not deleted
    then = await handlings(api, "LIJ-0001", LAST_MONTH)
    assert codes(then, "Hikari Support Center Co., Ltd.", "purposes") == ["P3"]
    assert "Hikari Support Center Co., Ltd." not in handling(await handlings(api, "LIJ-0001"))
    ended = (await contracts_of(api, "Hikari"))["LIJ-SUP-001"]["entrustments"]
    assert {(e["description"], e["effectiveUntil"]) for e in ended} == {
        ("Answering customers' inquiries", YESTERDAY), ("Billing inquiries", "2026-10-10"),
    }


async def test_an_entrustment_ended_from_next_month_is_handled_until_then_and_not_after(api):
    """removeEntrustment with a future effectiveOn schedules the end, as its description says;
    one dated before the entrustment began is refused and nothing is written."""
    described = await api.data('{ __type(name: "Mutation") { fields { name description } } }')
    [remove] = [f for f in described["__type"]["fields"] if f["name"] == "removeEntrustment"]
    assert "future effectiveOn schedules the end" in remove["description"]
    support = (await contracts_of(api, "Hikari"))["LIJ-SUP-001"]
    [inquiries] = [e for e in support["entrustments"] if e["description"] == "Answering customers' inquiries"]
    remove_on = """mutation ($id: ID!, $on: Date) { removeEntrustment(input: {id: $id, effectiveOn: $on}) {
        entrustment { effectiveUntil } errors { code field message } } }"""

    latest = await api.data(LATEST_EVENT)
    refused = (await api.data(remove_on, {"id": inquiries["id"], "on": "2025-11-24"}))["removeEntrustment"]
    assert refused["entrustment"] is None  # it began on 2025-11-25, the contract's start
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "effectiveOn")]
    assert (await contracts_of(api, "Hikari"))["LIJ-SUP-001"] == support
    assert await api.data(LATEST_EVENT) == latest

    ended = await write(api, remove_on, {"id": inquiries["id"], "on": "2026-12-25"}, "removeEntrustment")
    assert ended["entrustment"]["effectiveUntil"] == "2026-12-24"
    for day in (None, "2026-12-24"):
        assert codes(await handlings(api, "LIJ-0001", day), "Hikari Support Center Co., Ltd.", "purposes") == ["P3"]
    then = await handlings(api, "LIJ-0001", "2026-12-25")
    assert then["Hikari Support Center Co., Ltd."]["exclusionReasons"] == ["NO_ENTRUSTMENT_IN_EFFECT"]
    listed = (await contracts_of(api, "Hikari"))["LIJ-SUP-001"]["entrustments"]
    assert ("Answering customers' inquiries", "2026-12-24") in {(e["description"], e["effectiveUntil"]) for e in listed}


async def test_a_contract_not_begun_is_excluded_as_not_in_effect_not_for_the_customers_items(api):
    """The demo's analytics contract (a DRAFT entrusting email for P4 from its start) and lab
    contract (under review, nothing entrusted) both begin in 30 days: until then nothing of
    theirs is in question for any customer, so no reason speaks of the customer's items."""
    today = await handlings(api, "LIJ-0001")
    for name in ("Aozora Analytics Inc.", "Minato Data Labs K.K."):
        assert today[name]["exclusionReasons"] == ["CONTRACT_NOT_ACTIVE", "CONTRACT_NOT_IN_EFFECT"], name
    begun = await handlings(api, "LIJ-0001", "2026-12-26")
    assert begun["Aozora Analytics Inc."]["exclusionReasons"] == ["CONTRACT_NOT_ACTIVE"]
    assert begun["Minato Data Labs K.K."]["exclusionReasons"] == ["CONTRACT_NOT_ACTIVE", "NO_ENTRUSTMENT_IN_EFFECT"]
    deleted = await handlings(api, "LIJ-0006", "2026-12-26")  # a completed DELETION: nothing held
    assert deleted["Aozora Analytics Inc."]["exclusionReasons"] == ["CONTRACT_NOT_ACTIVE", "NO_HELD_DATA_ITEMS"]


async def test_a_re_entrusted_party_under_a_parent_contract_without_consent_is_excluded(api):
    """Tsubame moves to a new contract without SUB_ENTRUSTMENT_CONSENT and ends the old one
    today: from today the panel provider it re-entrusted handles nothing, and the findings
    say the same."""
    tsubame = (await contracts_of(api, "Tsubame"))["LIJ-SUR-001"]
    sub_id = (await api.data('{ subcontractors(filter: {nameContains: "Tsubame"}) { edges { node { id } } } }')
              )["subcontractors"]["edges"][0]["node"]["id"]
    created = await write(api, """mutation ($sub: ID!) { createContract(input: {subcontractorId: $sub,
        businessCode: "loveinn-japan", reference: "LIJ-SUR-003", effectiveFrom: "2026-11-01", expiresOn: "2027-11-30",
        clauses: [CONFIDENTIALITY, PURPOSE_LIMITATION, SECURITY_MEASURES, BREACH_NOTIFICATION, RETURN_OR_DELETION]})
        { contract { id } errors { code field message } } }""", {"sub": sub_id}, "createContract")
    new_id = created["contract"]["id"]
    await write(api, """mutation ($c: ID!) { addEntrustment(input: {contractId: $c, purposeCodes: ["P3"],
        dataItemCodes: ["name", "email"]}) { entrustment { id } errors { code field message } } }""",
                {"c": new_id}, "addEntrustment")
    for version, to in ((2, "UNDER_REVIEW"), (3, "ACTIVE")):
        await write(api, TRANSITION, {"id": new_id, "v": version, "to": to}, "transitionContract")
    await write(api, TRANSITION, {"id": tsubame["id"], "v": tsubame["version"], "to": "TERMINATED"},
                "transitionContract")

    now = await handlings(api, "LIJ-0001")
    assert "Tsubame Research Inc." in handling(now)
    assert now["Panelist Hub Pte. Ltd."]["exclusionReasons"] == ["SUB_ENTRUSTMENT_NOT_PERMITTED"]
    assert "Panelist Hub Pte. Ltd." in handling(await handlings(api, "LIJ-0001", YESTERDAY))
    findings = await api.data('{ complianceFindings(businessCode: "loveinn-japan") { code severity } }')
    assert {"code": "SUB_ENTRUSTMENT_WITHOUT_CONSENT", "severity": "CRITICAL"} in findings["complianceFindings"]


async def test_a_re_entrusted_party_whose_entrustment_has_begun_keeps_its_parent_and_the_past_as_it_was(api):
    """Panelist Hub, re-entrusted by Tsubame, has handled P3 for a year: moving it under
    another parent (or under none) would rewrite last month's answer, so it is refused and
    nothing is written."""
    panel, hikari = await subcontractor(api, "Panelist"), await subcontractor(api, "Hikari")
    before = [await handlings(api, "LIJ-0001", day) for day in (LAST_MONTH, TODAY)]
    assert before[0]["Panelist Hub Pte. Ltd."]["chain"] == [{"name": "Tsubame Research Inc. (fictional)"}]
    latest = await api.data(LATEST_EVENT)
    for parent in (hikari["id"], None):
        refused = (await api.data(REPARENT, {"id": panel["id"], "v": panel["version"], "parent": parent})
                   )["updateSubcontractor"]
        assert refused["subcontractor"] is None
        [error] = refused["errors"]
        assert (error["code"], error["field"]) == ("INVALID_INPUT", "parentId"), error
        assert "new subcontractor" in error["message"]
    assert await subcontractor(api, "Panelist") == panel
    assert await api.data(LATEST_EVENT) == latest
    assert [await handlings(api, "LIJ-0001", day) for day in (LAST_MONTH, TODAY)] == before


async def test_a_subcontractor_whose_entrustments_have_not_begun_can_be_re_entrusted_by_another(api):
    """Aozora's contract, and its entrustment, begin in 30 days: nobody's answer has read its
    parent link yet for a day it handled, so it may still come under Tsubame."""
    aozora, tsubame = await subcontractor(api, "Aozora"), await subcontractor(api, "Tsubame")
    assert aozora["parent"] is None
    last_month = await handlings(api, "LIJ-0001", LAST_MONTH)
    moved = await write(api, REPARENT, {"id": aozora["id"], "v": aozora["version"], "parent": tsubame["id"]},
                        "updateSubcontractor")
    assert moved["subcontractor"] == {"version": aozora["version"] + 1,
                                      "parent": {"name": "Tsubame Research Inc. (fictional)"}}
    after = await handlings(api, "LIJ-0001", LAST_MONTH)
    assert after["Aozora Analytics Inc."] == last_month["Aozora Analytics Inc."] | {
        "chain": [{"name": "Tsubame Research Inc. (fictional)"}]}  # it handled nothing then: the chain is today's
    assert {k: v for k, v in after.items() if k != "Aozora Analytics Inc."} == {
        k: v for k, v in last_month.items() if k != "Aozora Analytics Inc."}


# --- items held and scoped requests ----------------------------------------------------------


async def test_the_phone_withdrawn_and_given_again_has_two_held_periods(api):
    lij = await customer(api, "LIJ-0001")
    await write(api, CHANGE_ITEMS, {"id": lij["id"], "remove": ["phone"], "on": "2026-11-01"},
                "changeCustomerItems", Role.PRIVACY_OFFICER)
    await write(api, CHANGE_ITEMS, {"id": lij["id"], "add": ["phone"], "on": "2026-11-20"},
                "changeCustomerItems", Role.PRIVACY_OFFICER)
    between = await customer(api, "LIJ-0001", "2026-11-10")
    phone = [(p["heldFrom"], p["heldUntil"]) for p in between["itemHistory"] if p["dataItem"]["code"] == "phone"]
    assert phone == [("2025-10-21", "2026-10-31"), ("2026-11-20", None)]
    assert "phone" not in {i["code"] for i in between["itemsThen"]}
    assert "phone" in {i["code"] for i in between["dataItems"]}
    assert codes(await handlings(api, "LIJ-0001", "2026-11-10"), "Kumo Hosting K.K.", "dataItems") == ["email", "name"]
    assert "phone" in codes(await handlings(api, "LIJ-0001"), "Kumo Hosting K.K.", "dataItems")


async def test_a_deletion_naming_items_deletes_only_those(api):
    request = await complete(api, "LIJ-0001", "DELETION", items=["phone"])
    assert request["dataItems"] == [{"code": "phone"}]
    lij = await customer(api, "LIJ-0001", YESTERDAY)
    assert sorted(i["code"] for i in lij["dataItems"]) == ["amount", "credit_card_number", "email", "name"]
    assert "phone" in {i["code"] for i in lij["itemsThen"]}
    assert codes(await handlings(api, "LIJ-0001"), "Hikari Support Center Co., Ltd.", "dataItems") == ["email", "name"]
    named = await api.data('{ customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0001") { displayName } }')
    assert named["customerByRef"]["displayName"] == "Hanako Yamada (fictional)"  # not erased: only the phone went


async def test_a_stop_use_of_marketing_mail_only_leaves_billing_and_the_rest(api):
    """LIJ-0008 in the demo, and LIJ-0002 stopping P2 now: only what uses P2 stops."""
    demo = await handlings(api, "LIJ-0008")
    assert codes(demo, "Loveinn Japan", "purposes") == ["P1", "P3", "P4", "P5"]
    assert codes(demo, "Financial institutions", "purposes") == ["P5"]
    request = await complete(api, "LIJ-0002", "STOP_USE", purposes=["P2"])
    assert request["purposes"] == [{"code": "P2"}]
    mail = (await contracts_of(api, "Nami"))["LIJ-MAIL-001"]  # newsletters (P2), resumed today
    await write(api, TRANSITION, {"id": mail["id"], "v": mail["version"], "to": "ACTIVE"}, "transitionContract")
    stopped = await handlings(api, "LIJ-0002")
    assert codes(stopped, "Loveinn Japan", "purposes") == ["P1", "P3", "P4", "P5"]
    assert codes(stopped, "Financial institutions", "purposes") == ["P5"]
    assert {"Sakura Payment Services K.K.", "Financial institutions"} <= handling(stopped)
    assert stopped["Nami Mailing Services G.K."]["exclusionReasons"] == ["USE_STOPPED"]
    assert "Nami Mailing Services G.K." in handling(await handlings(api, "LIJ-0001"))


# --- provision records (APPI Art. 29) --------------------------------------------------------


async def test_a_provision_record_the_handlings_do_not_show_is_refused_and_nothing_is_written(api):
    provision = await billing_provision(api)
    total = '{ provisionRecords { totalCount } auditEvents(first: 1) { edges { node { id } } } }'
    before = await api.data(total)
    cases = [
        ("LIJ-0003", TODAY, "NO_PERMITTED_PURPOSES"),  # cancelled in September: billing does not go on
        ("LIJ-0005", TODAY, "USE_STOPPED"),  # STOP_USE of everything, completed today
        ("LIJ-0006", TODAY, "NO_HELD_DATA_ITEMS"),  # deleted: nothing held
        ("LIJ-0001", "2029-11-25", "future"),
    ]
    for ref, day, reason in cases:
        variables = {"p": provision, "c": (await customer(api, ref))["id"], "on": day, "items": ["name"]}
        refused = (await api.data(RECORD, variables, role=Role.PRIVACY_OFFICER))["recordProvision"]
        assert refused["record"] is None, ref
        [error] = refused["errors"]
        assert (error["code"], error["field"]) == ("PROVISION_NOT_APPLICABLE", "providedOn"), ref
        assert reason in error["message"], (ref, error["message"])
    assert await api.data(total) == before
    accepted = (await api.data(RECORD, {"p": provision, "c": (await customer(api, "LIJ-0001"))["id"], "on": TODAY,
                                        "items": ["name"]}, role=Role.PRIVACY_OFFICER))["recordProvision"]
    assert accepted["errors"] == [] and accepted["record"] is not None


# --- breach impact (DESIGN.md "Breach impact") -----------------------------------------------


async def test_a_breach_at_the_business_counts_customers_under_stop_use_as_held_but_not_in_use(api):
    impact = (await api.data(BREACH, {"p": await business_id(api)}))["breachImpact"]
    # every customer but LIJ-0006 (deleted) is held; LIJ-0005's STOP_USE ends its use, not the holding
    assert (impact["affectedCustomers"], impact["customersInUse"]) == (7, 6)
    await complete(api, "LIJ-0002", "STOP_USE")
    impact = (await api.data(BREACH, {"p": await business_id(api)}))["breachImpact"]
    assert (impact["affectedCustomers"], impact["customersInUse"]) == (7, 5)


async def test_an_amount_alone_is_not_reportable_unless_the_cause_is_malicious(api):
    business = await business_id(api)
    amount = (await api.data(BREACH, {"p": business, "codes": ["amount"], "found": "2026-11-20"}))["breachImpact"]
    assert amount["affectedCustomers"] == 7 and amount["dataItems"] == [{"code": "amount"}]
    assert (amount["reportable"], amount["reasons"], amount["cause"]) == (False, [], "UNKNOWN")
    assert (amount["preliminaryReportDueOn"], amount["finalReportDueOn"]) == (None, None)
    cards = (await api.data(BREACH, {"p": business, "codes": ["credit_card_number"], "found": "2026-11-20"})
             )["breachImpact"]
    assert cards["reasons"] == ["PPC Rules Art. 7(ii): risk of property damage: Credit card number"]
    assert (cards["preliminaryReportDueOn"], cards["finalReportDueOn"]) == ("2026-11-25", "2026-12-20")
    stolen = (await api.data(BREACH, {"p": business, "codes": ["amount"], "cause": "MALICIOUS",
                                      "found": "2026-11-20"}))["breachImpact"]
    assert stolen["reportable"] and stolen["cause"] == "MALICIOUS"
    assert [r.split(":")[0] for r in stolen["reasons"]] == ["PPC Rules Art. 7(iii)"]
    assert (stolen["preliminaryReportDueOn"], stolen["finalReportDueOn"]) == ("2026-11-25", "2027-01-19")


async def test_a_contract_ended_without_a_data_return_still_holds_what_it_was_entrusted(api):
    printing = (await contracts_of(api, "Old Print"))["LIJ-PRN-001"]
    sub = (await api.data('{ subcontractors(filter: {nameContains: "Old Print"}) { edges { node { id } } } }')
           )["subcontractors"]["edges"][0]["node"]["id"]
    held = (await api.data(BREACH, {"p": sub}))["breachImpact"]
    assert (held["affectedCustomers"], held["customersInUse"]) == (7, 0)  # terminated 200 days ago
    assert [i["code"] for i in held["dataItems"]] == ["name", "amount"]
    await write(api, """mutation ($c: ID!, $v: Int!) { recordDataReturn(input: {contractId: $c, expectedVersion: $v,
        returnedOn: "2026-11-01"}) { contract { dataReturnedOn } errors { code field message } } }""",
                {"c": printing["id"], "v": printing["version"]}, "recordDataReturn")
    returned = (await api.data(BREACH, {"p": sub}))["breachImpact"]
    assert (returned["affectedCustomers"], returned["dataItems"], returned["reportable"]) == (0, [], False)


async def test_a_contracts_entrustments_default_to_those_not_ended_and_take_a_day_or_all(api):
    """The default list is read a level at a time (the fast executor's batch for a field whose
    arguments are at their defaults); asOf and includeEnded go through the resolver: all three
    agree with the demo's history (Hikari's billing desk ended on 2026-10-10)."""
    query = """query ($then: Date) { subcontractors(filter: {nameContains: "Hikari"}) { edges { node { contracts {
      current: entrustments { description }
      then: entrustments(asOf: $then) { description }
      all: entrustments(includeEnded: true) { description effectiveUntil }
    } } } } }"""
    data = await api.data(query, {"then": "2026-09-26"})
    (contract,) = data["subcontractors"]["edges"][0]["node"]["contracts"]
    assert [e["description"] for e in contract["current"]] == ["Answering customers' inquiries"]
    assert [e["description"] for e in contract["then"]] == ["Answering customers' inquiries", "Billing inquiries"]
    assert [(e["description"], e["effectiveUntil"]) for e in contract["all"]] == [
        ("Answering customers' inquiries", None), ("Billing inquiries", "2026-10-10")]
