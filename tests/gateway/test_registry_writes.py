"""Issue 13's writes through HTTP on the demo registry (today is 2026-11-25): a privacy officer
keeps the business's facts, purposes, data items, recipients, provisions and joint uses, each
write audited, each refusal a typed error with nothing written, and the past answering as
before. The rules of APPI Art. 27(2) (opt-out) and Art. 28 (foreign transfers) are shown as a
user meets them. Who may write is in tests/gateway/test_roles.py."""

import pytest

from registry.enums import Role

TODAY, TOMORROW, YESTERDAY, LAST_MONTH = "2026-11-25", "2026-11-26", "2026-11-24", "2026-10-25"
OFFICER = Role.PRIVACY_OFFICER
ERRORS = "errors { code field message }"

LATEST_EVENT = "{ auditEvents(first: 1) { edges { node { action actor entityType } } } }"
HANDLINGS = """
query ($ref: String!, $asOf: Date) {
  customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
    handlings(asOf: $asOf, includeExcluded: true) {
      party { name } role excluded exclusionReasons dataItems { code } purposes { code }
    }
  }
}"""
BUSINESS = """{ business(code: "loveinn-japan") {
  name operatorName activities address representative contact requestProcedure securityMeasures
  purposes { code ordinal title retiredOn } allPurposes: purposes(includeRetired: true) { code }
  dataItems { code name sensitivity }
  jointUses { id users responsible effectiveFrom effectiveUntil purposes { code } dataItems { code } }
} }"""
UPDATE_BUSINESS = f"""mutation ($input: UpdateBusinessInput!) {{
  updateBusiness(input: $input) {{ business {{ address representative securityMeasures activities }} {ERRORS} }}
}}"""
CREATE_PURPOSE = f"""mutation ($input: CreatePurposeInput!) {{
  createPurpose(input: $input) {{ purpose {{ id code ordinal title effectiveFrom retiredOn usableAfterCancellation }}
  {ERRORS} }}
}}"""
UPDATE_PURPOSE = f"""mutation ($input: UpdatePurposeInput!) {{
  updatePurpose(input: $input) {{ purpose {{ code title usableAfterCancellation dataUse }} {ERRORS} }}
}}"""
RETIRE_PURPOSE = f"""mutation ($input: RetirePurposeInput!) {{
  retirePurpose(input: $input) {{ purpose {{ code retiredOn }} {ERRORS} }}
}}"""
CREATE_ITEM = f"""mutation ($input: CreateDataItemInput!) {{
  createDataItem(input: $input) {{ dataItem {{ id code name sensitivity voluntary propertyDamageRisk }} {ERRORS} }}
}}"""
UPDATE_ITEM = f"""mutation ($input: UpdateDataItemInput!) {{
  updateDataItem(input: $input) {{ dataItem {{ code name sensitivity }} {ERRORS} }}
}}"""
CREATE_RECIPIENT = f"""mutation ($input: CreateRecipientInput!) {{
  createRecipient(input: $input) {{ recipient {{ id name country kind foreignTransferBasis }} {ERRORS} }}
}}"""
UPDATE_RECIPIENT = f"""mutation ($input: UpdateRecipientInput!) {{
  updateRecipient(input: $input) {{ recipient {{ id country foreignTransferBasis }} {ERRORS} }}
}}"""
CREATE_PROVISION = f"""mutation ($input: CreateProvisionInput!) {{
  createProvision(input: $input) {{ provision {{
    id legalBasis active effectiveFrom effectiveUntil ppcNotifiedOn statedPurpose
    recipient {{ name }} purposes {{ code }} dataItems {{ code }}
  }} {ERRORS} }}
}}"""
END_PROVISION = f"""mutation ($input: EndProvisionInput!) {{
  endProvision(input: $input) {{ provision {{ id active effectiveUntil }} {ERRORS} }}
}}"""
CREATE_JOINT_USE = f"""mutation ($input: CreateJointUseInput!) {{
  createJointUse(input: $input) {{ jointUse {{
    id users responsible effectiveFrom effectiveUntil business {{ code }} purposes {{ code }} dataItems {{ code }}
  }} {ERRORS} }}
}}"""
END_JOINT_USE = f"""mutation ($input: EndJointUseInput!) {{
  endJointUse(input: $input) {{ jointUse {{ id effectiveUntil }} {ERRORS} }}
}}"""
FINDINGS = """{ complianceFindings(businessCode: "loveinn-japan") {
  code severity message subject { id ... on ThirdPartyRecipient { name } ... on Subcontractor { name } }
} }"""


# --- helpers, through the API ------------------------------------------------------------


async def write(api, query: str, input: dict, payload: str, role: Role = OFFICER) -> dict:
    """A write that succeeds: its payload."""
    result = (await api.data(query, {"input": input}, role=role))[payload]
    assert result["errors"] == [], result["errors"]
    return result


async def refused(api, query: str, input: dict, payload: str) -> list[tuple[str, str | None]]:
    """A write that is refused: (code, field) of each error; asserts nothing was written."""
    before = await api.data(LATEST_EVENT)
    result = (await api.data(query, {"input": input}, role=OFFICER))[payload]
    assert await api.data(LATEST_EVENT) == before, "a refused write wrote an audit event"
    assert all(value is None for key, value in result.items() if key != "errors"), result
    return [(e["code"], e["field"]) for e in result["errors"]]


async def handlings(api, ref: str, as_of: str | None = None) -> dict[str, dict]:
    data = await api.data(HANDLINGS, {"ref": ref, "asOf": as_of})
    return {h["party"]["name"].split(" (")[0]: h for h in data["customerByRef"]["handlings"]}


async def business(api) -> dict:
    return (await api.data(BUSINESS))["business"]


async def latest_event(api) -> dict:
    return (await api.data(LATEST_EVENT))["auditEvents"]["edges"][0]["node"]


async def recipient_id(api, name: str) -> str:
    found = (await api.data("{ thirdPartyRecipients { id name provisions { id } } }"))["thirdPartyRecipients"]
    return next(r["id"] for r in found if r["name"].startswith(name))


async def billing_provision(api) -> str:
    found = (await api.data("{ thirdPartyRecipients { name provisions { id } } }"))["thirdPartyRecipients"]
    return next(r for r in found if r["name"] == "Financial institutions")["provisions"][0]["id"]


async def purpose_id(api, code: str) -> str:
    found = (await api.data('{ business(code: "loveinn-japan") { purposes(includeRetired: true) { id code } } }'))
    return next(p["id"] for p in found["business"]["purposes"] if p["code"] == code)


async def item_id(api, code: str) -> str:
    found = (await api.data('{ business(code: "loveinn-japan") { dataItems { id code } } }'))
    return next(i["id"] for i in found["business"]["dataItems"] if i["code"] == code)


def provision_input(recipient: str, **overrides) -> dict:
    return {"businessCode": "loveinn-japan", "recipientId": recipient, "legalBasis": "CONSENT",
            "purposeCodes": ["P5"], "dataItemCodes": ["name", "amount"]} | overrides


# --- the business's facts (APPI Art. 32(1)) ---------------------------------------------------


async def test_update_business_states_the_notice_facts_and_audits_them(api):
    facts = {"code": "loveinn-japan", "address": "1-2-3 Example, Minato-ku, Tokyo (fictional)",
             "representative": "Taro Almex (fictional)", "securityMeasures": ["Access control", "Staff training"],
             "requestProcedure": "By the form on the website; no fee", "contact": "privacy@loveinn.example"}
    written = await write(api, UPDATE_BUSINESS, facts, "updateBusiness")
    assert written["business"]["securityMeasures"] == ["Access control", "Staff training"]
    found = await business(api)
    assert {k: found[k] for k in ("address", "representative", "requestProcedure", "contact")} == {
        k: facts[k] for k in ("address", "representative", "requestProcedure", "contact")}
    assert found["name"] == "Loveinn Japan" and len(found["activities"]) == 2  # fields left out stay
    assert await latest_event(api) == {"action": "business.update", "actor": "test-privacy_officer",
                                       "entityType": "Business"}
    cleared = await write(api, UPDATE_BUSINESS, {"code": "loveinn-japan", "address": None}, "updateBusiness")
    assert cleared["business"]["address"] is None


@pytest.mark.parametrize("change, error", [
    ({"name": ""}, ("INVALID_INPUT", "name")),
    ({"name": None}, ("INVALID_INPUT", "name")),
    ({"representative": "x" * 201}, ("INVALID_INPUT", "representative")),
    ({"securityMeasures": ["measure"] * 51}, ("INVALID_INPUT", "securityMeasures")),
    ({"activities": [" "]}, ("INVALID_INPUT", "activities")),
    ({"code": "no-such-business", "address": "Tokyo"}, ("NOT_FOUND", "code")),
])
async def test_update_business_refuses_malformed_facts_and_writes_nothing(api, change, error):
    assert await refused(api, UPDATE_BUSINESS, {"code": "loveinn-japan"} | change, "updateBusiness") == [error]


# --- purposes (seed section 2) ---------------------------------------------------------------


async def test_a_new_purpose_is_numbered_after_the_last_and_permits_use_from_today(api):
    created = (await write(api, CREATE_PURPOSE, {
        "businessCode": "loveinn-japan", "code": "P6", "title": "To send birthday coupons", "titleJa": "誕生日クーポン",
        "dataUse": "marketing.advertising"}, "createPurpose"))["purpose"]
    assert {k: created[k] for k in ("code", "ordinal", "effectiveFrom", "retiredOn", "usableAfterCancellation")} == {
        "code": "P6", "ordinal": 6, "effectiveFrom": TODAY, "retiredOn": None, "usableAfterCancellation": False}
    assert [p["code"] for p in (await business(api))["purposes"]] == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert await latest_event(api) == {"action": "purpose.add", "actor": "test-privacy_officer",
                                       "entityType": "Purpose"}
    assert (await handlings(api, "LIJ-0001", YESTERDAY))["Loveinn Japan"]["purposes"] == [
        {"code": c} for c in ("P1", "P2", "P3", "P4", "P5")]  # the past is as it was
    assert {"code": "P6"} in (await handlings(api, "LIJ-0001"))["Loveinn Japan"]["purposes"]


@pytest.mark.parametrize("change, error", [
    ({"code": "P1"}, ("DUPLICATE", "code")),
    ({"title": " "}, ("INVALID_INPUT", "title")),
    ({"title": "x" * 501}, ("INVALID_INPUT", "title")),
    ({"effectiveFrom": YESTERDAY}, ("INVALID_INPUT", "effectiveFrom")),
    ({"businessCode": "nowhere"}, ("NOT_FOUND", "businessCode")),
])
async def test_create_purpose_refusals_write_nothing(api, change, error):
    input = {"businessCode": "loveinn-japan", "code": "P7", "title": "Another purpose"} | change
    assert await refused(api, CREATE_PURPOSE, input, "createPurpose") == [error]


async def test_update_purpose_changes_its_wording_but_not_what_it_permitted_on_past_days(api):
    p1 = await purpose_id(api, "P1")
    updated = await write(api, UPDATE_PURPOSE, {"id": p1, "title": "To provide our services", "dataUse": None},
                          "updatePurpose")
    assert updated["purpose"] == {"code": "P1", "title": "To provide our services", "usableAfterCancellation": False,
                                  "dataUse": None}
    assert await refused(api, UPDATE_PURPOSE, {"id": p1, "usableAfterCancellation": True}, "updatePurpose") == [
        ("INVALID_INPUT", "usableAfterCancellation")]
    assert await refused(api, UPDATE_PURPOSE, {"id": p1, "title": None}, "updatePurpose") == [
        ("INVALID_INPUT", "title")]
    fresh = (await write(api, CREATE_PURPOSE, {"businessCode": "loveinn-japan", "code": "P6", "title": "Coupons",
                                               "effectiveFrom": TOMORROW}, "createPurpose"))["purpose"]
    moved = await write(api, UPDATE_PURPOSE, {"id": fresh["id"], "usableAfterCancellation": True}, "updatePurpose")
    assert moved["purpose"]["usableAfterCancellation"] is True  # it has permitted nothing yet


async def test_a_retired_purpose_permits_nothing_after_its_day_and_stays_for_the_past(api):
    p4 = await purpose_id(api, "P4")
    last_month = await handlings(api, "LIJ-0001", LAST_MONTH)
    retired = await write(api, RETIRE_PURPOSE, {"id": p4, "retiredOn": TODAY}, "retirePurpose")
    assert retired["purpose"] == {"code": "P4", "retiredOn": TODAY}
    assert await latest_event(api) == {"action": "purpose.retire", "actor": "test-privacy_officer",
                                       "entityType": "Purpose"}
    hosting = "Kumo Hosting K.K."
    assert {"code": "P4"} in (await handlings(api, "LIJ-0001"))[hosting]["purposes"]
    assert (await handlings(api, "LIJ-0001", TOMORROW))[hosting]["purposes"] == [{"code": "P1"}]
    assert await handlings(api, "LIJ-0001", LAST_MONTH) == last_month
    assert await refused(api, RETIRE_PURPOSE, {"id": p4, "retiredOn": TOMORROW}, "retirePurpose") == [
        ("INVALID_TRANSITION", "id")]


async def test_a_purpose_retired_before_yesterday_would_rewrite_the_past_and_is_refused(api):
    p2 = await purpose_id(api, "P2")
    assert await refused(api, RETIRE_PURPOSE, {"id": p2, "retiredOn": LAST_MONTH}, "retirePurpose") == [
        ("INVALID_INPUT", "retiredOn")]
    retired = await write(api, RETIRE_PURPOSE, {"id": p2, "retiredOn": YESTERDAY}, "retirePurpose")
    assert retired["purpose"]["retiredOn"] == YESTERDAY
    found = await business(api)
    assert "P2" not in [p["code"] for p in found["purposes"]]
    assert "P2" in [p["code"] for p in found["allPurposes"]]


# --- data items (seed section 11) ---------------------------------------------------------------


async def test_a_new_data_item_and_its_change(api):
    created = (await write(api, CREATE_ITEM, {"businessCode": "loveinn-japan", "code": "birthday", "name": "Birthday",
                                              "nameJa": "誕生日", "sensitivity": "ORDINARY", "voluntary": True},
                           "createDataItem"))["dataItem"]
    assert created | {"id": None} == {"id": None, "code": "birthday", "name": "Birthday", "sensitivity": "ORDINARY",
                                      "voluntary": True, "propertyDamageRisk": False}
    changed = await write(api, UPDATE_ITEM, {"id": created["id"], "name": "Date of birth"}, "updateDataItem")
    assert changed["dataItem"] == {"code": "birthday", "name": "Date of birth", "sensitivity": "ORDINARY"}
    assert await latest_event(api) == {"action": "dataitem.update", "actor": "test-privacy_officer",
                                       "entityType": "DataItem"}
    assert "birthday" in [i["code"] for i in (await business(api))["dataItems"]]


@pytest.mark.parametrize("change, error", [
    ({"code": "email"}, ("DUPLICATE", "code")),
    ({"name": ""}, ("INVALID_INPUT", "name")),
    ({"code": "x" * 65}, ("INVALID_INPUT", "code")),
    ({"category": "c" * 201}, ("INVALID_INPUT", "category")),
])
async def test_create_data_item_refusals_write_nothing(api, change, error):
    input = {"businessCode": "loveinn-japan", "code": "birthday", "name": "Birthday", "sensitivity": "ORDINARY"}
    assert await refused(api, CREATE_ITEM, input | change, "createDataItem") == [error]


async def test_update_data_item_refuses_a_blank_name_or_an_unknown_item(api):
    assert await refused(api, UPDATE_ITEM, {"id": await item_id(api, "name"), "name": " "}, "updateDataItem") == [
        ("INVALID_INPUT", "name")]
    assert await refused(api, UPDATE_ITEM, {"id": await purpose_id(api, "P1"), "name": "x"}, "updateDataItem") == [
        ("NOT_FOUND", "id")]


# --- recipients and provisions (seed section 7, APPI Art. 27) ----------------------------------------


async def test_a_consent_provision_to_a_recipient_in_the_eu_is_handled_from_today_not_before(api):
    eu = (await write(api, CREATE_RECIPIENT, {"name": "Euro Loyalty GmbH (fictional)", "country": "de",
                                              "kind": "loyalty programme", "foreignTransferBasis": "ADEQUATE_COUNTRY"},
                      "createRecipient"))["recipient"]
    assert (eu["country"], eu["foreignTransferBasis"]) == ("DE", "ADEQUATE_COUNTRY")
    provision = (await write(api, CREATE_PROVISION, provision_input(eu["id"], statedPurpose="loyalty points"),
                             "createProvision"))["provision"]
    assert {k: provision[k] for k in ("legalBasis", "active", "effectiveFrom", "effectiveUntil", "ppcNotifiedOn")} == {
        "legalBasis": "CONSENT", "active": True, "effectiveFrom": TODAY, "effectiveUntil": None,
        "ppcNotifiedOn": None}
    assert await latest_event(api) == {"action": "provision.create", "actor": "test-privacy_officer",
                                       "entityType": "Provision"}
    now = (await handlings(api, "LIJ-0001"))["Euro Loyalty GmbH"]
    assert (now["role"], now["excluded"], now["purposes"]) == ("THIRD_PARTY", False, [{"code": "P5"}])
    assert "Euro Loyalty GmbH" not in await handlings(api, "LIJ-0001", YESTERDAY)


@pytest.mark.parametrize("change, errors", [
    ({"effectiveFrom": YESTERDAY}, [("INVALID_INPUT", "effectiveFrom")]),
    ({"purposeCodes": ["P9"], "dataItemCodes": []}, [("NOT_FOUND", "purposeCodes"), ("INVALID_INPUT", "dataItemCodes")]),
    ({"ppcNotifiedOn": "2026-11-01"}, [("INVALID_INPUT", "ppcNotifiedOn")]),
    ({"statedPurpose": "s" * 501}, [("INVALID_INPUT", "statedPurpose")]),
    ({"businessCode": "nowhere"}, [("NOT_FOUND", "businessCode")]),
])
async def test_create_provision_refusals_write_nothing(api, change, errors):
    bank = await recipient_id(api, "Financial institutions")
    assert await refused(api, CREATE_PROVISION, provision_input(bank, **change), "createProvision") == errors


async def test_a_provision_to_something_that_is_not_a_recipient_is_not_found(api):
    assert await refused(api, CREATE_PROVISION, provision_input(await purpose_id(api, "P1")), "createProvision") == [
        ("NOT_FOUND", "recipientId")]


async def test_create_recipient_refuses_a_country_that_is_not_iso(api):
    assert await refused(api, CREATE_RECIPIENT, {"name": "Bank", "country": "Japan", "kind": "bank"},
                         "createRecipient") == [("INVALID_INPUT", "country")]


async def test_an_ended_provision_stays_for_the_past_and_hands_nothing_on_after_its_last_day(api):
    billing = await billing_provision(api)
    last_month = await handlings(api, "LIJ-0001", LAST_MONTH)
    ended = await write(api, END_PROVISION, {"id": billing, "effectiveUntil": TODAY}, "endProvision")
    assert ended["provision"] == {"id": billing, "active": True, "effectiveUntil": TODAY}  # today is its last day
    assert await latest_event(api) == {"action": "provision.end", "actor": "test-privacy_officer",
                                       "entityType": "Provision"}
    assert not (await handlings(api, "LIJ-0001"))["Financial institutions"]["excluded"]
    assert "Financial institutions" not in await handlings(api, "LIJ-0001", TOMORROW)
    assert await handlings(api, "LIJ-0001", LAST_MONTH) == last_month
    assert await refused(api, END_PROVISION, {"id": billing, "effectiveUntil": TOMORROW}, "endProvision") == [
        ("INVALID_TRANSITION", "id")]


async def test_a_provision_ended_before_yesterday_would_rewrite_the_past_and_is_refused(api):
    assert await refused(api, END_PROVISION, {"id": await billing_provision(api), "effectiveUntil": LAST_MONTH},
                         "endProvision") == [("INVALID_INPUT", "effectiveUntil")]


# --- opt-out provision (APPI Art. 27(2)) --------------------------------------------------------------


async def test_an_opt_out_provision_needs_the_ppc_notified_first(api):
    bank = await recipient_id(api, "Financial institutions")
    opt_out = provision_input(bank, legalBasis="OPT_OUT")
    assert await refused(api, CREATE_PROVISION, opt_out, "createProvision") == [
        ("OPT_OUT_NOT_PERMITTED", "ppcNotifiedOn")]
    assert await refused(api, CREATE_PROVISION, opt_out | {"ppcNotifiedOn": TOMORROW}, "createProvision") == [
        ("OPT_OUT_NOT_PERMITTED", "ppcNotifiedOn")]  # notified after it begins today
    created = await write(api, CREATE_PROVISION, opt_out | {"ppcNotifiedOn": "2026-10-01"}, "createProvision")
    assert (created["provision"]["legalBasis"], created["provision"]["ppcNotifiedOn"]) == ("OPT_OUT", "2026-10-01")


async def test_special_care_data_may_never_be_provided_by_opt_out(api):
    await write(api, CREATE_ITEM, {"businessCode": "loveinn-japan", "code": "health", "name": "Health condition",
                                   "sensitivity": "SPECIAL_CARE"}, "createDataItem")
    us = (await write(api, CREATE_RECIPIENT, {"name": "US Data Broker (fictional)", "country": "US",
                                              "kind": "data broker"}, "createRecipient"))["recipient"]
    special = provision_input(us["id"], legalBasis="OPT_OUT", dataItemCodes=["name", "health"])
    assert await refused(api, CREATE_PROVISION, special, "createProvision") == [
        ("OPT_OUT_NOT_PERMITTED", "ppcNotifiedOn"), ("OPT_OUT_NOT_PERMITTED", "dataItemCodes")]
    assert await refused(api, CREATE_PROVISION, special | {"ppcNotifiedOn": "2026-10-01"}, "createProvision") == [
        ("OPT_OUT_NOT_PERMITTED", "dataItemCodes")]


async def test_an_item_provided_by_opt_out_cannot_become_special_care(api):
    bank = await recipient_id(api, "Financial institutions")
    await write(api, CREATE_PROVISION, provision_input(bank, legalBasis="OPT_OUT", ppcNotifiedOn=TODAY),
                "createProvision")
    amount = await item_id(api, "amount")
    assert await refused(api, UPDATE_ITEM, {"id": amount, "sensitivity": "SPECIAL_CARE"}, "updateDataItem") == [
        ("OPT_OUT_NOT_PERMITTED", "sensitivity")]
    email = await item_id(api, "email")  # not provided by opt-out
    changed = await write(api, UPDATE_ITEM, {"id": email, "sensitivity": "SPECIAL_CARE"}, "updateDataItem")
    assert changed["dataItem"]["sensitivity"] == "SPECIAL_CARE"


# --- foreign transfers (APPI Art. 28) -----------------------------------------------------------------


async def test_a_recipient_abroad_without_a_basis_receives_nothing_and_check_says_so(api):
    us = (await write(api, CREATE_RECIPIENT, {"name": "Card Rewards Inc. (fictional)", "country": "US",
                                              "kind": "rewards"}, "createRecipient"))["recipient"]
    assert us["foreignTransferBasis"] is None
    await write(api, CREATE_PROVISION, provision_input(us["id"]), "createProvision")
    now = (await handlings(api, "LIJ-0001"))["Card Rewards Inc."]
    assert (now["excluded"], now["exclusionReasons"]) == (True, ["FOREIGN_TRANSFER_WITHOUT_BASIS"])
    findings = (await api.data(FINDINGS))["complianceFindings"]
    [foreign] = [f for f in findings if f["code"] == "FOREIGN_TRANSFER_WITHOUT_BASIS"]
    assert (foreign["severity"], foreign["subject"]) == ("CRITICAL", {"id": us["id"], "name": us["name"]})
    assert "APPI Art. 28" in foreign["message"]

    await write(api, UPDATE_RECIPIENT, {"id": us["id"], "foreignTransferBasis": "CONSENT_WITH_INFORMATION"},
                "updateRecipient")
    assert not (await handlings(api, "LIJ-0001"))["Card Rewards Inc."]["excluded"]
    assert "FOREIGN_TRANSFER_WITHOUT_BASIS" not in {f["code"] for f in (await api.data(FINDINGS))["complianceFindings"]}


async def test_the_demo_panel_provider_abroad_has_its_basis_and_without_it_handles_nothing(api):
    found = (await api.data('{ subcontractors(filter: {nameContains: "Panelist"}) { edges { node {'
                            " id version country foreignTransferBasis } } } }"))["subcontractors"]["edges"]
    panel = found[0]["node"]
    assert (panel["country"], panel["foreignTransferBasis"]) == ("SG", "EQUIVALENT_MEASURES")
    assert not (await handlings(api, "LIJ-0001"))["Panelist Hub Pte. Ltd."]["excluded"]
    assert "FOREIGN_TRANSFER_WITHOUT_BASIS" not in {f["code"] for f in (await api.data(FINDINGS))["complianceFindings"]}

    cleared = (await api.data("""mutation ($id: ID!, $v: Int!) { updateSubcontractor(input: {id: $id,
        expectedVersion: $v, foreignTransferBasis: null}) { subcontractor { foreignTransferBasis } errors { code } } }""",
                              {"id": panel["id"], "v": panel["version"]}, role=Role.VENDOR_MANAGER))
    assert cleared["updateSubcontractor"] == {"subcontractor": {"foreignTransferBasis": None}, "errors": []}
    now = (await handlings(api, "LIJ-0001"))["Panelist Hub Pte. Ltd."]
    assert now["exclusionReasons"] == ["FOREIGN_TRANSFER_WITHOUT_BASIS"]
    findings = (await api.data(FINDINGS))["complianceFindings"]
    assert {"code": "FOREIGN_TRANSFER_WITHOUT_BASIS", "severity": "CRITICAL", "name": "Panelist Hub Pte. Ltd. (fictional)"} in [
        {"code": f["code"], "severity": f["severity"], "name": (f["subject"] or {}).get("name")} for f in findings]


async def test_a_subcontractor_created_abroad_takes_its_basis(api):
    created = (await api.data("""mutation { createSubcontractor(input: {name: "Seoul Support (fictional)",
        country: "KR", foreignTransferBasis: CONSENT_WITH_INFORMATION}) { subcontractor { country
        foreignTransferBasis } errors { code } } }""", role=Role.VENDOR_MANAGER))["createSubcontractor"]
    assert created == {"subcontractor": {"country": "KR", "foreignTransferBasis": "CONSENT_WITH_INFORMATION"},
                       "errors": []}


# --- Art. 29 records -----------------------------------------------------------------------------------


async def test_a_provision_required_by_law_needs_no_provision_records(api):
    bank = await recipient_id(api, "Financial institutions")
    law = (await write(api, CREATE_PROVISION, provision_input(bank, legalBasis="LAW"), "createProvision"))["provision"]
    consent = (await write(api, CREATE_PROVISION, provision_input(bank), "createProvision"))["provision"]
    unrecorded = {f["subject"]["id"] for f in (await api.data(FINDINGS))["complianceFindings"]
                  if f["code"] == "PROVISION_WITHOUT_RECORDS"}
    assert unrecorded == {consent["id"]}
    assert law["id"] not in unrecorded


# --- joint use (seed section 6, APPI Art. 27(5)(iii)) --------------------------------------------------


async def test_a_joint_use_is_listed_from_today_and_ending_it_keeps_the_row(api):
    assert (await business(api))["jointUses"] == []  # seed section 6: no joint use
    created = (await write(api, CREATE_JOINT_USE, {
        "businessCode": "loveinn-japan", "users": "ALMEX group companies (fictional)", "purposeCodes": ["P1", "P3"],
        "dataItemCodes": ["name", "email"], "responsible": "ALMEX Inc., 1-2-3 Example, Tokyo; Taro Almex"},
        "createJointUse"))["jointUse"]
    assert {k: created[k] for k in ("effectiveFrom", "effectiveUntil", "business", "purposes", "dataItems")} == {
        "effectiveFrom": TODAY, "effectiveUntil": None, "business": {"code": "loveinn-japan"},
        "purposes": [{"code": "P1"}, {"code": "P3"}], "dataItems": [{"code": "name"}, {"code": "email"}]}
    assert [j["id"] for j in (await business(api))["jointUses"]] == [created["id"]]
    assert await latest_event(api) == {"action": "jointuse.create", "actor": "test-privacy_officer",
                                       "entityType": "JointUse"}
    ended = await write(api, END_JOINT_USE, {"id": created["id"], "effectiveUntil": YESTERDAY}, "endJointUse")
    assert ended["jointUse"] == {"id": created["id"], "effectiveUntil": YESTERDAY}
    assert (await business(api))["jointUses"] == []
    node = await api.data("query ($id: ID!) { node(id: $id) { ... on JointUse { users effectiveUntil } } }",
                          {"id": created["id"]})
    assert node["node"] == {"users": "ALMEX group companies (fictional)", "effectiveUntil": YESTERDAY}
    assert await refused(api, END_JOINT_USE, {"id": created["id"], "effectiveUntil": TODAY}, "endJointUse") == [
        ("INVALID_TRANSITION", "id")]


@pytest.mark.parametrize("change, errors", [
    ({"users": " "}, [("INVALID_INPUT", "users")]),
    ({"responsible": "r" * 1001}, [("INVALID_INPUT", "responsible")]),
    ({"purposeCodes": ["P9"]}, [("NOT_FOUND", "purposeCodes")]),
    ({"effectiveFrom": LAST_MONTH}, [("INVALID_INPUT", "effectiveFrom")]),
])
async def test_create_joint_use_refusals_write_nothing(api, change, errors):
    input = {"businessCode": "loveinn-japan", "users": "Group companies", "purposeCodes": ["P1"],
             "dataItemCodes": ["name"], "responsible": "ALMEX Inc."}
    assert await refused(api, CREATE_JOINT_USE, input | change, "createJointUse") == errors


async def test_end_joint_use_of_an_id_of_something_else_is_not_found(api):
    assert await refused(api, END_JOINT_USE, {"id": await billing_provision(api), "effectiveUntil": TODAY},
                         "endJointUse") == [("NOT_FOUND", "id")]
