"""The privacy notice of the demo through GraphQL, in English and Japanese, section by section
against the registry's facts as the API itself reports them and against the seed notice."""

import re

import pytest

from registry.enums import Role

SECTIONS_JA = [
    "事業内容", "利用目的", "個人情報の保護", "保有する個人情報", "解約後の個人情報", "共同利用",
    "個人情報の第三者提供", "個人情報の利用停止等の請求", "個人情報の取扱いの委託",
    "個人情報の開示・訂正等の請求", "任意の記入", "お問い合わせ窓口",
]
SEED_PURPOSES = [
    "For the provision of products and services in this business",
    "For the notifications and introductions of products and services in this business",
    "For questionnaires and monitoring research, and answers to inquiries from customers",
    "To further enhance the products and services in this business, and provide them to customers",
    "To otherwise properly and smoothly implement the transactions and contracts with customers",
]
FACTS = """{ business(code: "loveinn-japan") {
  name nameJa operatorName operatorNameJa activities activitiesJa address addressJa representative representativeJa
  contact contactJa requestProcedure requestProcedureJa securityMeasures securityMeasuresJa
  purposes { ordinal title titleJa usableAfterCancellation } dataItems { code name nameJa voluntary } } }"""
NOTICE = "query ($lang: Language, $format: NoticeFormat) { privacyNotice(businessCode: \"loveinn-japan\", lang: $lang, format: $format) }"


def sections(text: str) -> list[str]:
    """The intro and the bodies of sections 1..12 of a Markdown notice."""
    return re.split(r"^## \d+\. .*$", text, flags=re.M)


def titles(text: str) -> list[str]:
    return re.findall(r"^## \d+\. (.*)$", text, flags=re.M)


# Latin letters a Japanese notice may hold: proper names and codes, not wording
PROPER = re.compile(r"[\w.+-]+@[\w.-]+|\b[\w-]+\.(?:com|example|jp)\b|\b[A-Z]{2}\b|\bP\d+\b")


def english_left(text: str) -> list[str]:
    """Latin words of a Japanese text that are not proper names or codes."""
    return re.findall(r"[A-Za-z]{2,}", PROPER.sub("", text))


def test_the_english_left_check_can_fail():
    assert english_left("利用目的 Purposes of use（SG）privacy@loveinn.example Loveinnjapan.com") == [
        "Purposes", "of", "use"]


async def _notice(api, lang="EN", format="MARKDOWN") -> str:
    return (await api.data(NOTICE, {"lang": lang, "format": format}))["privacyNotice"]


@pytest.fixture
async def facts(api):
    return (await api.data(FACTS))["business"]


async def test_the_japanese_notice_states_every_fact_in_japanese(api, facts):
    text = await _notice(api, "JA")
    body = sections(text)
    assert text.startswith(f"# {facts['nameJa']}における個人情報の取扱いについて\n\n{facts['operatorNameJa']}（以下「当社」")
    assert titles(text) == SECTIONS_JA
    assert all(a in body[1] for a in facts["activitiesJa"]) and len(facts["activitiesJa"]) == 2
    assert f"住所：{facts['addressJa']}" in body[1] and f"代表者：{facts['representativeJa']}" in body[1]
    purposes = [f"{p['ordinal']}. {p['titleJa']}" for p in facts["purposes"]]
    assert [line for line in body[2].splitlines() if line] == purposes
    assert all(f"- {m}" in body[3] for m in facts["securityMeasuresJa"]) and facts["securityMeasuresJa"]
    assert "シンガポール（SG）：個人情報の取扱いを委託する委託先。" in body[3]
    assert "利用目的2および3の範囲内" in body[5]
    assert "共同して利用しません" in body[6]
    assert "金融機関に提供します" in body[7] and "（利用目的5）" in body[7]
    for n in (8, 10):
        assert f"請求の手続および手数料：{facts['requestProcedureJa']}" in body[n]
    voluntary = [i["nameJa"] for i in facts["dataItems"] if i["voluntary"]]
    assert [line[2:] for line in body[11].splitlines() if line.startswith("- ")] == voluntary
    assert facts["contactJa"] in body[12]


async def test_no_section_of_the_japanese_notice_holds_english(api):
    text = await _notice(api, "JA")
    left = {n: english_left(body) for n, body in enumerate(sections(text))}
    assert {n: words for n, words in left.items() if words} == {}


async def test_the_english_notice_states_the_seeds_facts_and_the_registrys(api, facts):
    text = await _notice(api)
    body = sections(text)
    assert text.startswith("# Handling of Personal Information by Loveinn Japan\n\nALMEX Inc. (hereinafter")
    assert "- Provision and operation of Loveinn Japan services (Loveinnjapan.com)" in body[1]
    assert f"Address: {facts['address']}" in body[1] and f"Representative: {facts['representative']}" in body[1]
    assert [line for line in body[2].splitlines() if line] == [f"{n}. {t}" for n, t in enumerate(SEED_PURPOSES, 1)]
    assert all(f"- {m}" in body[3] for m in facts["securityMeasures"])
    assert "Singapore (SG): a subcontractor entrusted with personal information" in body[3]
    assert "within the purposes of use set forth in Purposes of Use 2 and 3." in body[5]
    assert ("composed of Name, Amount billed, Credit card number and Bank account to Financial institutions, only for "
            "billing purposes or storage of the product or services fees in document form or electronic data "
            "(purpose of use 5), with the customer's consent.") in body[7]
    for n in (8, 10):
        assert f"How to make a request, and the fee: {facts['requestProcedure']}" in body[n]
    assert facts["contact"] in body[12]


async def test_the_japanese_html_page_is_marked_japanese(api, facts):
    page = await _notice(api, "JA", "HTML")
    assert page.startswith('<!doctype html>\n<html lang="ja">')
    assert f"<title>{facts['nameJa']}における個人情報の取扱いについて</title>" in page
    assert re.findall(r"<h2>\d+\. (.*?)</h2>", page) == SECTIONS_JA
    assert english_left(re.sub(r"<[^>]+>", "", page.split("<body>")[1])) == []


async def test_english_is_the_default_and_every_role_reads_both(api):
    for role in Role:
        english = (await api.data('{ privacyNotice(businessCode: "loveinn-japan") }', role=role))["privacyNotice"]
        assert english.startswith("# Handling of Personal Information")
        assert (await _notice(api, "JA")).startswith("# ")


async def test_an_unknown_language_is_a_validation_error(api):
    body = await api.gql('{ privacyNotice(businessCode: "loveinn-japan", lang: FR) }')
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


OPT_OUT = """mutation ($r: ID!) { createProvision(input: {businessCode: "loveinn-japan", recipientId: $r,
  legalBasis: OPT_OUT, purposeCodes: ["P2"], dataItemCodes: ["name", "email"], ppcNotifiedOn: "2026-11-02",
  method: "By encrypted file transfer", methodJa: "暗号化したファイルの送信により"})
  { provision { method methodJa ppcNotifiedOn } errors { code field message } } }"""


async def test_an_opt_out_provision_written_through_the_api_is_stated_in_both_languages(api):
    recipient = (await api.data(
        'mutation { createRecipient(input: {name: "Tokyo Mailing Lists", nameJa: "東京メーリングリスト株式会社", '
        'country: "JP", kind: "list broker"}) { recipient { id } errors { code } } }', role=Role.PRIVACY_OFFICER,
    ))["createRecipient"]["recipient"]
    created = (await api.data(OPT_OUT, {"r": recipient["id"]}, role=Role.PRIVACY_OFFICER))["createProvision"]
    assert created == {"provision": {"method": "By encrypted file transfer", "methodJa": "暗号化したファイルの送信により",
                                     "ppcNotifiedOn": "2026-11-02"}, "errors": []}
    english, japanese = sections(await _notice(api))[7], sections(await _notice(api, "JA"))[7]
    assert ("composed of Name and Email address to Tokyo Mailing Lists, only for the purposes of use 2 (For the "
            "notifications and introductions of products and services in this business), under the opt-out procedure "
            "notified to the Personal Information Protection Commission.\n\n- Method of provision: By encrypted file "
            "transfer\n- On the customer's request the Company stops providing the customer's personal information to "
            "this third party; please ask at the desk in section 12.\n- Notified to the Personal Information "
            "Protection Commission on November 2, 2026.") in english
    assert "氏名およびメールアドレスからなる個人情報を" in japanese and "東京メーリングリスト株式会社に提供します" in japanese
    assert "- 提供の方法：暗号化したファイルの送信により" in japanese and "2026年11月2日に個人情報保護委員会へ届け出ています" in japanese
    assert english_left(japanese) == []
