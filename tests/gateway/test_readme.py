"""The README's "Keeping the registry" walk-through, run as a privacy officer would run it in
GraphiQL: every ```graphql block of the section, in order, on the demo registry. A block with a
`# refused: CODE` line must be refused with that code (in `errors`, a GraphQL error, or as a
finding); every other block must succeed with no error anywhere in its answer. `$r` is the id of
the recipient the walk-through created last."""

import re
from pathlib import Path

from registry.enums import Role

README = Path(__file__).resolve().parents[2] / "README.md"


def blocks() -> list[str]:
    text = README.read_text()
    section = text.split("## Keeping the registry", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```graphql\n(.*?)```", section, flags=re.S)


def codes_in(value, lists=("errors", "complianceFindings")) -> set[str]:
    """The `code` of every user error (and finding) anywhere in an answer."""
    if isinstance(value, list):
        return set().union(*(codes_in(v, lists) for v in value))
    if not isinstance(value, dict):
        return set()
    found = set()
    for key, v in value.items():
        if key in lists and isinstance(v, list):
            found |= {entry["code"] for entry in v if isinstance(entry, dict) and "code" in entry}
        found |= codes_in(v, lists)
    return found


def test_the_section_has_the_walk_through():
    assert len(blocks()) >= 10 and sum("# refused:" in b for b in blocks()) >= 4


async def test_the_readme_walk_through_runs_as_written(api):
    recipient = None
    for block in blocks():
        refused = re.search(r"# refused: (\w+)", block)
        role = Role.VENDOR_MANAGER if "as VENDOR_MANAGER" in block else Role.PRIVACY_OFFICER
        body = await api.gql(block, {"r": recipient} if "$r" in block else None, role=role)
        if refused:
            error_codes = {e["extensions"]["code"] for e in body.get("errors", [])}
            assert refused[1] in error_codes | codes_in(body.get("data")), block
            continue
        assert "errors" not in body and codes_in(body["data"], ("errors",)) == set(), (block, body)
        if "createRecipient" in body["data"]:
            recipient = body["data"]["createRecipient"]["recipient"]["id"]
        if "ja" in body["data"]:
            ja, en = body["data"]["ja"], body["data"]["en"]
            assert "6. サービスの不正利用の防止のため" in ja and "ドイツ（DE）" in ja and "ユーロ・ロイヤルティ社に提供します" in ja
            assert "6. To prevent fraud and unauthorised use of the services" in en and "Germany (DE)" in en
            assert "to Euro Loyalty GmbH, only for checking sign-ups against known fraud (purpose of use 6)" in en
            assert body["data"]["noticeVersions"][0]["version"] == 1
    page = await api.client.get("/notice/loveinn-japan?lang=ja")
    assert page.headers["x-notice-version"] == "1" and "ユーロ・ロイヤルティ社" in page.text
