"""Issue 13's Japanese versions through HTTP on the demo registry: every text the notice states
has one (the business's facts, purposes, data items, recipients, provisions, joint uses), a
privacy officer writes and reads each, a text longer than its English twin may be is refused
with nothing written, and the audit trail records them (migration 0008 restores them from it)."""

import json
import re

import pytest

from tests.gateway.test_registry_writes import ERRORS, provision_input, purpose_id, recipient_id, refused, write

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")  # kana or kanji
LATEST_AFTER = "{ auditEvents(first: 1) { edges { node { action after } } } }"

BUSINESS_JA = {  # GraphQL name -> a value to write
    "nameJa": "ラブインジャパン（改）", "operatorNameJa": "株式会社アルメックス（改）",
    "activitiesJa": ["宿泊予約サービスの運営", "上記に付帯する事業"], "addressJa": "東京都港区見本町九丁目（架空）",
    "representativeJa": "代表取締役 見本 次郎（架空）", "contactJa": "個人情報お問い合わせ窓口",
    "requestProcedureJa": "開示等のご請求は窓口にて受け付けます。手数料はいただきません。",
    "securityMeasuresJa": ["（技術的安全管理措置）アクセス制御を実施しています。"],
}
READ_BUSINESS = '{ business(code: "loveinn-japan") { name activities ' + " ".join(BUSINESS_JA) + " } }"
UPDATE_BUSINESS = f"""mutation ($input: UpdateBusinessInput!) {{
  updateBusiness(input: $input) {{ business {{ {" ".join(BUSINESS_JA)} }} {ERRORS} }}
}}"""
CREATE_RECIPIENT = f"""mutation ($input: CreateRecipientInput!) {{
  createRecipient(input: $input) {{ recipient {{ id name nameJa }} {ERRORS} }}
}}"""
UPDATE_RECIPIENT = f"""mutation ($input: UpdateRecipientInput!) {{
  updateRecipient(input: $input) {{ recipient {{ name nameJa }} {ERRORS} }}
}}"""
CREATE_PROVISION = f"""mutation ($input: CreateProvisionInput!) {{
  createProvision(input: $input) {{ provision {{ id statedPurpose statedPurposeJa }} {ERRORS} }}
}}"""
CREATE_JOINT_USE = f"""mutation ($input: CreateJointUseInput!) {{
  createJointUse(input: $input) {{ jointUse {{ id users usersJa responsible responsibleJa }} {ERRORS} }}
}}"""
CREATE_PURPOSE = f"""mutation ($input: CreatePurposeInput!) {{
  createPurpose(input: $input) {{ purpose {{ id code titleJa }} {ERRORS} }}
}}"""
UPDATE_PURPOSE = f"""mutation ($input: UpdatePurposeInput!) {{
  updatePurpose(input: $input) {{ purpose {{ code titleJa }} {ERRORS} }}
}}"""
CREATE_ITEM = f"""mutation ($input: CreateDataItemInput!) {{
  createDataItem(input: $input) {{ dataItem {{ id code nameJa }} {ERRORS} }}
}}"""
NODE = """query ($id: ID!) { node(id: $id) {
  ... on ThirdPartyRecipient { nameJa }
  ... on Provision { statedPurposeJa }
  ... on JointUse { usersJa responsibleJa }
  ... on Purpose { titleJa }
  ... on DataItem { nameJa }
} }"""
DEMO = """{
  business(code: "loveinn-japan") {
    name nameJa operatorName operatorNameJa activities activitiesJa address addressJa
    representative representativeJa contact contactJa requestProcedure requestProcedureJa
    securityMeasures securityMeasuresJa
    purposes(includeRetired: true) { code title titleJa }
    dataItems { code name nameJa }
    jointUses { users usersJa responsible responsibleJa }
  }
  thirdPartyRecipients { name nameJa provisions { statedPurpose statedPurposeJa } }
}"""


async def latest_after(api) -> tuple[str, dict]:
    """The latest audit event's action and its `after` document (as ADMIN, unredacted)."""
    node = (await api.data(LATEST_AFTER))["auditEvents"]["edges"][0]["node"]
    return node["action"], json.loads(node["after"])


async def node(api, id: str) -> dict:
    return (await api.data(NODE, {"id": id}))["node"]


def joint_use_input(**overrides) -> dict:
    return {"businessCode": "loveinn-japan", "users": "ALMEX group companies (fictional)",
            "purposeCodes": ["P1"], "dataItemCodes": ["name"], "responsible": "ALMEX Inc."} | overrides


# --- the demo states every text in Japanese -----------------------------------------------------------


def untranslated(texts: dict, pairs: list[tuple[str, str]], where: str) -> list[str]:
    """The texts of `texts` stated in English whose Japanese version is missing or holds no Japanese."""
    missing = []
    for english, japanese in pairs:
        if isinstance(texts[english], list):
            ja = texts[japanese]
            if len(ja) != len(texts[english]) or not all(JAPANESE.search(entry) for entry in ja):
                missing.append(f"{where}.{japanese}")
        elif texts[english] and not JAPANESE.search(texts[japanese] or ""):
            missing.append(f"{where}.{japanese}")
    return missing


async def test_the_demo_states_every_text_of_the_notice_in_japanese_too(api):
    demo = await api.data(DEMO)
    business = demo["business"]
    facts = ("name", "operatorName", "activities", "address", "representative", "contact", "requestProcedure",
             "securityMeasures")
    assert all(business[fact] for fact in facts), "the demo states every fact of APPI Art. 32(1)"
    missing = untranslated(business, [(fact, f"{fact}Ja") for fact in facts], "business")
    for purpose in business["purposes"]:
        missing += untranslated(purpose, [("title", "titleJa")], purpose["code"])
    for item in business["dataItems"]:
        missing += untranslated(item, [("name", "nameJa")], item["code"])
    for joint_use in business["jointUses"]:
        missing += untranslated(joint_use, [("users", "usersJa"), ("responsible", "responsibleJa")], "jointUse")
    for recipient in demo["thirdPartyRecipients"]:
        missing += untranslated(recipient, [("name", "nameJa")], recipient["name"])
        for provision in recipient["provisions"]:
            missing += untranslated(provision, [("statedPurpose", "statedPurposeJa")], recipient["name"])
    assert missing == []
    assert len(business["purposes"]) == 5 and len(business["dataItems"]) == 6 and demo["thirdPartyRecipients"]
    assert (business["nameJa"], business["operatorNameJa"]) == ("ラブインジャパン", "株式会社アルメックス")
    assert [r["nameJa"] for r in demo["thirdPartyRecipients"]] == ["金融機関"]
    assert "手数料" in business["requestProcedureJa"]  # the fee (APPI Art. 38) is stated


# --- the business's texts ------------------------------------------------------------------------------


async def test_update_business_writes_and_reads_each_japanese_text_and_audits_it(api):
    written = await write(api, UPDATE_BUSINESS, {"code": "loveinn-japan"} | BUSINESS_JA, "updateBusiness")
    assert written["business"] == BUSINESS_JA
    found = (await api.data(READ_BUSINESS))["business"]
    assert {key: found[key] for key in BUSINESS_JA} == BUSINESS_JA
    assert (found["name"], len(found["activities"])) == ("Loveinn Japan", 2)  # the English texts stay
    action, after = await latest_after(api)
    assert action == "business.update"
    assert (after["name_ja"], after["activities_ja"], after["security_measures_ja"]) == (
        BUSINESS_JA["nameJa"], BUSINESS_JA["activitiesJa"], BUSINESS_JA["securityMeasuresJa"])

    cleared = await write(api, UPDATE_BUSINESS, {"code": "loveinn-japan", "addressJa": None, "activitiesJa": []},
                          "updateBusiness")
    assert (cleared["business"]["addressJa"], cleared["business"]["activitiesJa"]) == (None, [])
    assert cleared["business"]["nameJa"] == BUSINESS_JA["nameJa"]  # fields left out stay


@pytest.mark.parametrize("change, field", [
    ({"nameJa": "名" * 201}, "nameJa"),
    ({"operatorNameJa": "社" * 201}, "operatorNameJa"),
    ({"activitiesJa": ["事" * 1001]}, "activitiesJa"),
    ({"activitiesJa": ["事業"] * 51}, "activitiesJa"),
    ({"activitiesJa": [" "]}, "activitiesJa"),
    ({"addressJa": "所" * 501}, "addressJa"),
    ({"representativeJa": "代" * 201}, "representativeJa"),
    ({"contactJa": "窓" * 501}, "contactJa"),
    ({"requestProcedureJa": "請" * 4001}, "requestProcedureJa"),
    ({"securityMeasuresJa": ["措" * 2001]}, "securityMeasuresJa"),
    ({"securityMeasuresJa": ["措置"] * 51}, "securityMeasuresJa"),
])
async def test_a_japanese_business_text_beyond_its_english_twins_bounds_is_refused(api, change, field):
    before = (await api.data(READ_BUSINESS))["business"]
    assert await refused(api, UPDATE_BUSINESS, {"code": "loveinn-japan"} | change, "updateBusiness") == [
        ("INVALID_INPUT", field)]
    assert (await api.data(READ_BUSINESS))["business"] == before


# --- purposes and data items ---------------------------------------------------------------------------


async def test_a_purposes_title_and_a_data_items_name_are_read_in_japanese(api):
    created = (await write(api, CREATE_PURPOSE, {"businessCode": "loveinn-japan", "code": "P6", "title": "Coupons",
                                                 "titleJa": "クーポンの配信のため"}, "createPurpose"))["purpose"]
    assert created["titleJa"] == "クーポンの配信のため"
    changed = await write(api, UPDATE_PURPOSE, {"id": created["id"], "titleJa": "クーポンのお届けのため"},
                          "updatePurpose")
    assert changed["purpose"] == {"code": "P6", "titleJa": "クーポンのお届けのため"}
    assert await node(api, created["id"]) == {"titleJa": "クーポンのお届けのため"}
    assert (await latest_after(api))[1]["title_ja"] == "クーポンのお届けのため"
    item = (await write(api, CREATE_ITEM, {"businessCode": "loveinn-japan", "code": "birthday", "name": "Birthday",
                                           "nameJa": "生年月日", "sensitivity": "ORDINARY"},
                        "createDataItem"))["dataItem"]
    assert await node(api, item["id"]) == {"nameJa": "生年月日"}


async def test_a_japanese_title_or_item_name_beyond_its_english_twins_bound_is_refused(api):
    assert await refused(api, UPDATE_PURPOSE, {"id": await purpose_id(api, "P1"), "titleJa": "目" * 501},
                         "updatePurpose") == [("INVALID_INPUT", "titleJa")]
    assert await refused(api, CREATE_ITEM, {"businessCode": "loveinn-japan", "code": "birthday", "name": "Birthday",
                                            "nameJa": "名" * 201, "sensitivity": "ORDINARY"},
                         "createDataItem") == [("INVALID_INPUT", "nameJa")]


# --- recipients, provisions, joint uses ----------------------------------------------------------------


async def test_a_recipients_japanese_name_is_written_changed_cleared_and_audited(api):
    created = (await write(api, CREATE_RECIPIENT, {"name": "Card companies", "nameJa": "クレジットカード会社",
                                                   "country": "JP", "kind": "card issuer"},
                           "createRecipient"))["recipient"]
    assert created["nameJa"] == "クレジットカード会社"
    action, after = await latest_after(api)
    assert (action, after["name_ja"]) == ("recipient.create", "クレジットカード会社")
    changed = await write(api, UPDATE_RECIPIENT, {"id": created["id"], "nameJa": "カード会社"}, "updateRecipient")
    assert changed["recipient"] == {"name": "Card companies", "nameJa": "カード会社"}
    assert (await latest_after(api))[1]["name_ja"] == "カード会社"
    cleared = await write(api, UPDATE_RECIPIENT, {"id": created["id"], "nameJa": None}, "updateRecipient")
    assert cleared["recipient"]["nameJa"] is None
    assert await node(api, created["id"]) == {"nameJa": None}


async def test_a_japanese_recipient_name_beyond_its_english_twins_bound_is_refused(api):
    assert await refused(api, CREATE_RECIPIENT, {"name": "Banks", "nameJa": "銀" * 201, "country": "JP",
                                                 "kind": "bank"}, "createRecipient") == [("INVALID_INPUT", "nameJa")]
    bank = await recipient_id(api, "Financial institutions")
    assert await refused(api, UPDATE_RECIPIENT, {"id": bank, "nameJa": "銀" * 201}, "updateRecipient") == [
        ("INVALID_INPUT", "nameJa")]
    assert await node(api, bank) == {"nameJa": "金融機関"}


async def test_a_provisions_stated_purpose_is_written_and_read_in_japanese(api):
    bank = await recipient_id(api, "Financial institutions")
    created = (await write(api, CREATE_PROVISION, provision_input(
        bank, statedPurpose="collecting unpaid fees", statedPurposeJa="未払料金の回収"), "createProvision"))["provision"]
    assert (created["statedPurpose"], created["statedPurposeJa"]) == ("collecting unpaid fees", "未払料金の回収")
    assert await node(api, created["id"]) == {"statedPurposeJa": "未払料金の回収"}
    action, after = await latest_after(api)
    assert (action, after["stated_purpose_ja"]) == ("provision.create", "未払料金の回収")
    assert await refused(api, CREATE_PROVISION, provision_input(bank, statedPurposeJa="目" * 501),
                         "createProvision") == [("INVALID_INPUT", "statedPurposeJa")]


async def test_a_joint_uses_users_and_responsible_are_written_and_read_in_japanese(api):
    created = (await write(api, CREATE_JOINT_USE, joint_use_input(
        usersJa="アルメックスグループ各社（架空）", responsibleJa="株式会社アルメックス"), "createJointUse"))["jointUse"]
    assert (created["usersJa"], created["responsibleJa"]) == ("アルメックスグループ各社（架空）", "株式会社アルメックス")
    assert await node(api, created["id"]) == {"usersJa": "アルメックスグループ各社（架空）",
                                              "responsibleJa": "株式会社アルメックス"}
    action, after = await latest_after(api)
    assert (action, after["users_ja"], after["responsible_ja"]) == (
        "jointuse.create", "アルメックスグループ各社（架空）", "株式会社アルメックス")


@pytest.mark.parametrize("change, field", [
    ({"usersJa": "利" * 1001}, "usersJa"),
    ({"responsibleJa": "責" * 1001}, "responsibleJa"),
])
async def test_a_japanese_joint_use_text_beyond_its_english_twins_bound_is_refused(api, change, field):
    assert await refused(api, CREATE_JOINT_USE, joint_use_input(**change), "createJointUse") == [
        ("INVALID_INPUT", field)]
