"""publishNotice and noticeVersions through HTTP on the demo registry (issue 13 part 5): a
privacy officer publishes the notice in every language; publishing it unchanged stores
nothing; every role reads the versions, each text as published. Who may publish is in
tests/gateway/test_roles.py."""

import pytest

from registry.enums import Role

OFFICER = Role.PRIVACY_OFFICER
VERSION = "version publishedOn publishedAt texts { lang contentHash }"
PUBLISH = f"""mutation ($code: String!) {{
  publishNotice(input: {{businessCode: $code}}) {{ created noticeVersion {{ {VERSION} }} errors {{ code field message }} }}
}}"""
VERSIONS = f"""query ($code: String!) {{ noticeVersions(businessCode: $code) {{ {VERSION} }} }}"""
TEXTS = """query ($code: String!) { noticeVersions(businessCode: $code) {
  version texts { lang markdown: text html: text(format: HTML) }
} }"""
UPDATE_NAME = """mutation ($name: String!) {
  updateBusiness(input: {code: "loveinn-japan", name: $name}) { errors { code } }
}"""


async def publish(api, code="loveinn-japan", role=OFFICER) -> dict:
    return (await api.data(PUBLISH, {"code": code}, role=role))["publishNotice"]


async def versions(api, role=OFFICER) -> list[dict]:
    return (await api.data(VERSIONS, {"code": "loveinn-japan"}, role=role))["noticeVersions"]


async def test_publishing_stores_version_1_in_english_and_japanese(api):
    published = await publish(api)
    assert (published["created"], published["errors"]) == (True, [])
    version = published["noticeVersion"]
    assert (version["version"], version["publishedOn"]) == (1, "2026-11-25")
    assert version["publishedAt"].endswith("+09:00")
    assert [t["lang"] for t in version["texts"]] == ["EN", "JA"]
    assert all(len(t["contentHash"]) == 64 for t in version["texts"])
    events = await api.data("{ auditEvents(first: 1) { edges { node { action actor entityType } } } }")
    assert events["auditEvents"]["edges"][0]["node"] == {
        "action": "notice.publish", "actor": "test-privacy_officer", "entityType": "Business"}


async def test_publishing_an_unchanged_notice_returns_the_latest_version_and_stores_nothing(api):
    first = await publish(api)
    again = await publish(api, role=Role.ADMIN)
    assert again["created"] is False and again["noticeVersion"] == first["noticeVersion"]
    assert [v["version"] for v in await versions(api)] == [1]


async def test_each_version_keeps_its_text_after_the_registry_changed(api):
    await publish(api)
    assert (await api.data(UPDATE_NAME, {"name": "Loveinn Nippon"}, role=OFFICER))["updateBusiness"]["errors"] == []
    second = await publish(api)
    assert (second["created"], second["noticeVersion"]["version"]) == (True, 2)
    listed = (await api.data(TEXTS, {"code": "loveinn-japan"}, role=Role.VIEWER))["noticeVersions"]
    assert [v["version"] for v in listed] == [2, 1]
    newest, oldest = ({t["lang"]: t for t in v["texts"]} for v in listed)
    assert "Loveinn Nippon" in newest["EN"]["markdown"] and "Loveinn Nippon" not in oldest["EN"]["markdown"]
    assert '<html lang="ja">' in oldest["JA"]["html"] and '<html lang="en">' in oldest["EN"]["html"]
    assert oldest["EN"]["markdown"] != oldest["JA"]["markdown"]


async def test_a_cached_list_of_versions_shows_a_new_publication(api):
    assert await versions(api, role=Role.VIEWER) == []
    await publish(api)
    assert [v["version"] for v in await versions(api, role=Role.VIEWER)] == [1]


async def test_publishing_the_notice_of_an_unknown_business_is_not_found_and_stores_nothing(api):
    published = await publish(api, code="nobody")
    assert published["noticeVersion"] is None and published["created"] is False
    assert [(e["code"], e["field"]) for e in published["errors"]] == [("NOT_FOUND", "businessCode")]
    body = await api.gql(VERSIONS, {"code": "nobody"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads_the_published_versions(api, role):
    await publish(api)
    assert [v["version"] for v in await versions(api, role=role)] == [1]


REGISTER = """mutation ($ref: String!) { registerCustomer(input: {businessCode: "loveinn-japan", externalRef: $ref,
  dataItemCodes: ["name"]}) { customer { id } errors { code } } }"""
TOLD = """{ customers(first: 50) { edges { node { externalRef registeredOn
  noticeAtRegistration { version publishedOn texts { lang contentHash } } } } } }"""


async def test_what_each_customer_was_told_when_registering(api):
    first = (await publish(api))["noticeVersion"]
    await api.data(UPDATE_NAME, {"name": "Loveinn Japan 2"}, role=OFFICER)
    second = (await publish(api))["noticeVersion"]
    await api.data(REGISTER, {"ref": "LIJ-NEW"}, role=OFFICER)
    told = {e["node"]["externalRef"]: e["node"] for e in (await api.data(TOLD))["customers"]["edges"]}
    # the demo's customers registered before anything was published; one registering today was
    # told the latest version of the day
    assert {ref: c["noticeAtRegistration"] for ref, c in told.items() if ref != "LIJ-NEW"} == {
        ref: None for ref in told if ref != "LIJ-NEW"}
    second.pop("publishedAt")
    assert told["LIJ-NEW"]["noticeAtRegistration"] == second and second["version"] == first["version"] + 1


async def test_the_version_in_force_on_a_day(api):
    assert (await api.data('{ noticeVersions(businessCode: "loveinn-japan", asOf: "2026-11-25") { version } }')
            )["noticeVersions"] == []
    await publish(api)
    for day, expected in (("2026-11-24", []), ("2026-11-25", [{"version": 1}]), ("2027-01-01", [{"version": 1}])):
        query = '{ noticeVersions(businessCode: "loveinn-japan", asOf: "%s") { version } }' % day
        assert (await api.data(query))["noticeVersions"] == expected, day
