"""/notice/{code} and /notice/{code}/versions (issue 13 parts 4 and 5): no token, the language
from ?lang= or Accept-Language, the latest published version or else the draft, an old version
by number, and the list of versions as HTML or JSON."""

import re

import pytest

from gateway.notices import MAX_HEADER, negotiated_language
from gateway.observability import path_label
from registry import businesses, notice_versions
from tests import factories
from tests.conftest import TEST_CLOCK

CODE = "loveinn-japan"
NOTICE = f"/notice/{CODE}"


async def publish(api, code=CODE):
    async with api.database.session(write=True) as session:
        return (await notice_versions.publish(session, actor="officer", business_code=code,
                                              today=TEST_CLOCK.today())).publication


async def rename(api, name):
    async with api.database.session(write=True) as session:
        await businesses.update_business(session, actor="officer", code=CODE, changes={"name": name})


async def get(api, path, **headers):
    return await api.client.get(path, headers=headers)


def html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]*)">', page).group(1)


async def test_with_nothing_published_the_notice_as_it_reads_now_is_served_as_the_draft(api):
    response = await get(api, NOTICE)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["x-notice-version"] == "draft"
    assert response.headers["content-language"] == "en" and "Accept-Language" in response.headers["vary"]
    assert html_lang(response.text) == "en" and "Loveinn Japan" in response.text


@pytest.mark.parametrize("query", ["?lang=ja", "?lang=JA"])
async def test_lang_ja_serves_the_notice_in_japanese(api, query):
    japanese, english = await get(api, NOTICE + query), await get(api, NOTICE)
    assert japanese.status_code == 200
    assert japanese.headers["content-language"] == "ja" and html_lang(japanese.text) == "ja"
    assert japanese.text != english.text


@pytest.mark.parametrize(("accept_language", "served"), [
    ("ja", "ja"),
    ("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", "ja"),
    ("en-US,en;q=0.9,ja;q=0.8", "en"),
    ("en;q=0.2, ja;q=0.7", "ja"),
    ("fr-FR, ja;q=0.1", "ja"),
    ("ja;q=0, *;q=0.5", "en"),
    ("fr", "en"),
    ("*", "en"),
    ("ja;q=1.5", "en"),  # not a quality: the range is ignored
    ("", "en"),
])
async def test_accept_language_picks_the_language_by_its_qualities(api, accept_language, served):
    response = await get(api, NOTICE, **{"Accept-Language": accept_language})
    assert response.status_code == 200
    assert response.headers["content-language"] == served and html_lang(response.text) == served


async def test_lang_in_the_query_overrides_accept_language(api):
    response = await get(api, NOTICE + "?lang=en", **{"Accept-Language": "ja"})
    assert response.headers["content-language"] == "en"


@pytest.mark.parametrize("query", ["?lang=fr", "?lang=", "?lang=<script>alert(1)</script>" + "x" * 500,
                                   "?lang=ja-JP"])
async def test_a_language_without_a_notice_is_a_short_400_that_repeats_none_of_the_input(api, query):
    response = await get(api, NOTICE + query)
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/plain")
    assert response.text == "lang must be one of en, ja"


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "0", "", "2147483648", "9" * 40, "%EF%BC%91", "1e3", " 1"])
async def test_a_version_that_is_not_a_number_from_1_is_a_short_400(api, value):
    response = await get(api, f"{NOTICE}?version={value}")
    assert response.status_code == 400
    assert response.text == "version must be a whole number from 1 to 2147483647"


async def test_an_unknown_version_or_business_is_404(api):
    await publish(api)
    assert (await get(api, f"{NOTICE}?version=2")).status_code == 404
    assert (await get(api, f"{NOTICE}?version=2147483647")).status_code == 404
    for path in ("/notice/nobody", "/notice/nobody?version=1", "/notice/nobody/versions"):
        response = await get(api, path)
        assert (response.status_code, response.headers["content-type"][:10]) == (404, "text/plain"), path


async def test_a_long_business_code_is_404_and_not_echoed_whole(api):
    code = "x" * 64 + "y" * 4000
    for path in (f"/notice/{code}", f"/notice/{code}/versions"):
        response = await get(api, path)
        assert response.status_code == 404 and "x" * 64 in response.text and "y" not in response.text


async def test_the_latest_published_version_is_served_after_the_registry_changed(api):
    await publish(api)
    await rename(api, "Loveinn Nippon")
    served = await get(api, NOTICE)
    assert served.headers["x-notice-version"] == "1"
    assert "Loveinn Japan" in served.text and "Loveinn Nippon" not in served.text
    japanese = await get(api, NOTICE, **{"Accept-Language": "ja"})
    assert (japanese.headers["x-notice-version"], html_lang(japanese.text)) == ("1", "ja")
    await publish(api)
    assert "Loveinn Nippon" in (await get(api, NOTICE)).text
    old = await get(api, f"{NOTICE}?version=1&lang=ja")
    assert (old.status_code, old.headers["x-notice-version"], old.headers["content-language"]) == (200, "1", "ja")
    async with api.database.session() as session:
        assert old.text == (await notice_versions.get(session, CODE, 1, "ja")).html


async def test_the_versions_page_lists_each_version_newest_first_with_its_date_hash_and_links(api):
    first = await publish(api)
    await rename(api, "Loveinn Nippon")
    second = await publish(api)
    response = await get(api, NOTICE + "/versions")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert html_lang(page) == "en"
    assert page.index("?version=2&amp;lang=en") < page.index("?version=1&amp;lang=en")
    for publication in (first, second):
        for lang, digest in publication.content_hashes.items():
            assert f'href="{NOTICE}?version={publication.version}&amp;lang={lang}"' in page
            assert f">{digest[:12]}</code>" in page
    assert TEST_CLOCK.today().isoformat() in page


async def test_the_versions_are_json_for_a_client_that_accepts_it(api):
    publication = await publish(api)
    response = await get(api, NOTICE + "/versions", Accept="application/json")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"businessCode": CODE, "versions": [{
        "version": 1, "publishedOn": TEST_CLOCK.today().isoformat(), "texts": [
            {"lang": lang, "contentHash": digest, "href": f"{NOTICE}?version=1&lang={lang}"}
            for lang, digest in publication.content_hashes.items()
        ]}]}


async def test_the_versions_page_of_a_business_that_never_published_says_so(api):
    response = await get(api, NOTICE + "/versions")
    assert response.status_code == 200 and "Not published yet" in response.text
    assert (await get(api, NOTICE + "/versions", Accept="application/json")).json()["versions"] == []


async def test_the_pages_escape_what_the_registry_holds(api):
    async with api.database.session(write=True) as session:
        await factories.business(session, code='x<b>&"y', name="<script>alert(1)</script>")
        await session.commit()
    await publish(api, code='x<b>&"y')
    page = (await get(api, "/notice/x%3Cb%3E%26%22y/versions")).text
    assert "<b>" not in page and "x&lt;b&gt;&amp;&quot;y" in page
    assert 'href="/notice/x%3Cb%3E%26%22y?version=1&amp;lang=en"' in page
    assert "<script>" not in (await get(api, "/notice/x%3Cb%3E%26%22y")).text


# --- the parts, without HTTP ------------------------------------------------------------------


@pytest.mark.parametrize(("header", "preferred"), [
    (None, "en"),
    ("ja-jp", "ja"),
    ("JA", "ja"),
    ("ja;q=0.5, en;q=0.5", "ja"),  # equal qualities: the range listed first
    ("en;q=0.5, ja;q=0.5", "en"),
    ("ja;q=0", "en"),
    ("ja;Q=0.9;level=1, en;q=0.8", "ja"),
    ("ja;q=abc, en;q=0.1", "en"),
    ("en;q=0.0001", "en"),  # four decimals: not a quality, so the range counts for nothing
    ("ja, " + "x" * MAX_HEADER, "ja"),
    ("x" * MAX_HEADER + ", ja", "en"),  # beyond the bound: not considered
    ("en;q=0.1, " + "x" * (MAX_HEADER - 12) + ", ja", "en"),  # a range cut off at the bound is left out
])
def test_negotiated_language(header, preferred):
    assert negotiated_language(header) == preferred


@pytest.mark.parametrize(("path", "label"), [
    ("/notice/loveinn-japan", "/notice/{code}"),
    ("/notice/loveinn-japan/versions", "/notice/{code}/versions"),
    ("/notice/versions", "/notice/{code}"),
    ("/notice/a/b/versions", "/notice/{code}"),
])
def test_notice_paths_are_counted_by_their_route(path, label):
    assert path_label(path) == label
