"""The privacy notice in a real browser (headless Debian Chromium) against a live server with
the demo registry: published from the command line, opened in Japanese, and reached from the
list of versions (issue 13 parts 4 and 5)."""

import re

from tests.web.conftest import screenshot

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji
WAIT_MS = 60_000  # upper bound for one page step on a loaded machine; never a pass/fail timing


def test_the_japanese_notice_opens_in_japanese_and_is_photographed(page, web_server, tmp_path):
    published = web_server.command("notice", "loveinn-japan", "--publish").splitlines()
    assert [line.split()[:2] + line.split()[3:4] for line in published] == [["version", "1", "en"],
                                                                             ["version", "1", "ja"]]
    response = page.goto("/notice/loveinn-japan?lang=ja", wait_until="load", timeout=WAIT_MS)
    assert response.status == 200
    assert (response.headers["content-language"], response.headers["x-notice-version"]) == ("ja", "1")
    assert page.evaluate("document.documentElement.lang") == "ja"
    assert JAPANESE.search(page.locator("h1").inner_text())
    page.screenshot(path=str(tmp_path / "notice-ja.png"), full_page=False)
    screenshot(page, "notice-ja")


def test_the_versions_page_links_to_each_language_of_a_version(page, web_server):
    web_server.command("notice", "loveinn-japan", "--publish")  # idempotent: the test before may have published
    page.goto("/notice/loveinn-japan/versions", wait_until="load", timeout=WAIT_MS)
    assert page.locator("tbody tr").count() == 1
    with page.expect_navigation(timeout=WAIT_MS):
        page.locator('a[hreflang="ja"]').click()
    assert page.url.endswith("/notice/loveinn-japan?version=1&lang=ja")
    assert page.evaluate("document.documentElement.lang") == "ja"
