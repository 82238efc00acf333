"""The gateway's pages in a real browser (headless Debian Chromium) against a live server
with the demo registry: GraphiQL runs offline with the token kept in the session, and the
data map draws the demo customer's handlings with the excluded parties apart."""

from urllib.parse import urlsplit

import httpx

from registry.enums import Role
from tests.web.conftest import screenshot

HANDLINGS = """query($asOf: Date) {
  customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0003") {
    all: handlings(asOf: $asOf, includeExcluded: true) { party { id name } excluded }
    current: handlings(asOf: $asOf) { party { id } }
  }
}"""
WAIT_MS = 60_000  # upper bound for one page step on a loaded machine; never a pass/fail timing


def api(server, query: str, variables: dict | None = None, role: Role = Role.VIEWER) -> dict:
    response = httpx.post(
        f"{server.base_url}/graphql", json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {server.tokens[role]}"}, timeout=30,
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


def foreign_requests(page, base_url: str) -> list[str]:
    """Every request that did not go to the gateway's own origin (data: and blob: stay in the page)."""
    own = urlsplit(base_url).netloc
    return [url for url in page.requested
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != own]


def shown_text(locator) -> str:
    """What an editor shows, with Monaco's non-breaking spaces as spaces."""
    return locator.inner_text().replace("\xa0", " ")


def stored(page, area: str) -> str:
    return page.evaluate(f"JSON.stringify(Object.entries({area}))")


def test_graphiql_runs_a_query_with_no_request_leaving_the_gateway(page, web_server):
    token = web_server.tokens[Role.ADMIN]
    page.goto("/graphql", wait_until="load")
    query_editor = page.locator(".graphiql-query-editor")
    query_editor.get_by_text("LIJ-0003").first.wait_for(timeout=WAIT_MS)  # the default tab's example query

    with page.expect_response(
        lambda r: r.url.endswith("/graphql") and "IntrospectionQuery" in (r.request.post_data or "")
        and r.request.headers.get("authorization") == f"Bearer {token}", timeout=WAIT_MS,
    ) as schema:
        page.fill("#pigw-token", token)
        page.click(".pigw-token button")
    assert schema.value.status == 200  # the token field set the header: the schema comes with it
    headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor").last
    assert token in shown_text(headers_editor)
    with page.expect_response(
        lambda r: r.url.endswith("/graphql") and r.request.method == "POST"
        and "LIJ-0003" in (r.request.post_data or ""), timeout=WAIT_MS,
    ) as answer:
        page.locator(".graphiql-execute-button").click()
    body = answer.value.json()
    assert answer.value.status == 200, body
    handlings = body["data"]["customerByRef"]["handlings"]
    assert len(handlings) == len(api(web_server, HANDLINGS)["customerByRef"]["all"])

    response_pane = page.locator(".graphiql-response")
    response_pane.get_by_text('"CANCELLED"').wait_for(timeout=WAIT_MS)
    assert '"name": "Loveinn Japan"' in shown_text(response_pane)
    page.wait_for_timeout(300)  # let the editors finish painting before the picture
    print(f"GraphiQL answered with {len(handlings)} handlings")
    screenshot(page, "graphiql")

    assert foreign_requests(page, web_server.base_url) == []
    assert token not in stored(page, "localStorage")
    assert token in stored(page, "sessionStorage")


def test_data_map_draws_the_demo_customers_handlings_with_excluded_parties_apart(page, web_server):
    expected = api(web_server, HANDLINGS)["customerByRef"]
    total, current = len(expected["all"]), len(expected["current"])
    assert 0 < current < total  # the demo customer has both, or this test proves nothing

    token = web_server.tokens[Role.VIEWER]
    page.goto("/map", wait_until="load")
    page.fill("#token", token)
    page.click("#token-form button[type=submit]")
    graph = page.locator("#map-graph[data-state=ready]")
    graph.wait_for(timeout=WAIT_MS)

    assert graph.get_attribute("data-parties") == str(total)
    assert graph.get_attribute("data-included") == str(current)
    assert graph.get_attribute("data-excluded") == str(total - current)
    assert page.locator("#counts").inner_text().startswith(f"{total} parties")

    parties = page.evaluate("window.piMap.parties()")
    assert sorted(p["id"] for p in parties) == sorted(h["party"]["id"] for h in expected["all"])
    excluded = [p for p in parties if p["excluded"]]
    included = [p for p in parties if not p["excluded"]]
    assert all(p["area"] == "excluded-area" for p in excluded)
    assert all(p["area"] is None for p in included)
    assert min(p["y"] for p in excluded) > max(p["y"] for p in included)  # drawn apart, below
    assert all(p["reasons"] for p in excluded)
    screenshot(page, "map")

    findings = page.locator("#findings .finding-link")
    assert findings.count() > 0
    linked = page.locator("#findings .finding-link", has_not_text="not on this map").first
    linked.click()
    assert page.locator("#details").get_attribute("data-subject") in {p["id"] for p in parties}
    assert foreign_requests(page, web_server.base_url) == []
    assert token not in stored(page, "localStorage")
    assert token in stored(page, "sessionStorage")


def test_data_map_as_of_a_past_date_shows_what_the_api_answers_for_that_date(page, web_server):
    as_of = "2026-08-01"
    expected = api(web_server, HANDLINGS, {"asOf": as_of})["customerByRef"]
    page.goto(f"/map?business=loveinn-japan&ref=LIJ-0003&asOf={as_of}", wait_until="load")
    page.fill("#token", web_server.tokens[Role.VIEWER])
    page.click("#token-form button[type=submit]")
    graph = page.locator("#map-graph[data-state=ready]")
    graph.wait_for(timeout=WAIT_MS)
    assert page.input_value("#as-of") == as_of
    assert graph.get_attribute("data-parties") == str(len(expected["all"]))
    assert graph.get_attribute("data-included") == str(len(expected["current"]))


def test_data_map_of_the_whole_business_shows_every_contracted_subcontractor(page, web_server):
    data = api(web_server, """{ subcontractors(first: 1000) { edges { node { id contracts { business { code } } } } }
                               thirdPartyRecipients { id } }""")
    contracted = [e["node"]["id"] for e in data["subcontractors"]["edges"]
                  if any(c["business"]["code"] == "loveinn-japan" for c in e["node"]["contracts"])]
    page.goto("/map", wait_until="load")
    page.fill("#token", web_server.tokens[Role.VIEWER])
    page.click("#token-form button[type=submit]")
    page.locator("#map-graph[data-state=ready]").wait_for(timeout=WAIT_MS)
    page.click("#show-business")
    page.wait_for_url("**/map?business=loveinn-japan", timeout=WAIT_MS)
    page.locator("#map-graph[data-state=ready]").wait_for(timeout=WAIT_MS)
    shown = {p["id"] for p in page.evaluate("window.piMap.parties()")}
    assert set(contracted) <= shown
    screenshot(page, "map-business")


def test_data_map_with_a_wrong_token_says_so(page, web_server):
    page.goto("/map", wait_until="load")
    page.fill("#token", "not-a-token")
    page.click("#token-form button[type=submit]")
    page.locator("#map-graph[data-state=error]").wait_for(timeout=WAIT_MS)
    assert "unknown" in page.locator("#status").inner_text()
