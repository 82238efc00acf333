"""The vendor managers' console (/vendors) in a real browser (headless Debian Chromium) against a
live server with the demo registry: the list with its filters (sent to the API, so they find
subcontractors beyond the first page) and cursor pages, a subcontractor's children and
assessments, a renewal from
the contract expiring in 20 days to its successor shown on the data map, refusals next to their
field, a version conflict between two tabs, read-only pages for a VIEWER, and axe-core finding
no serious or critical violation on each page."""

import json
import os
from datetime import date, timedelta

import pytest

from registry.enums import Role
from tests.web.conftest import REPO, screenshot
from tests.web.test_pages import WAIT_MS, api, foreign_requests

AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
BUSINESS = "loveinn-japan"
SUBCONTRACTORS = """{ subcontractors(first: 1000) { totalCount edges { node {
  id name version corporateNumber country parent { id } children { name }
  assessments { result assessedOn nextDueOn note }
  contracts { reference status effectiveFrom expiresOn entrustments(includeEnded: true) { id effectiveUntil } }
} } } complianceFindings { code subject { __typename id ... on Contract { subcontractor { id } } } } }"""


@pytest.fixture(scope="module")
def axe_script(web_server) -> str:
    """axe-core's browser bundle from web/node_modules (a devDependency: `make web` installs it)."""
    if not AXE.exists():
        reason = f"{AXE} is missing: run `make web` (npm installs axe-core)"
        if os.environ.get("PI_GATEWAY_TEST_BROWSER") == "required":
            pytest.fail(f"PI_GATEWAY_TEST_BROWSER=required but {reason}")
        pytest.skip(reason)
    return str(AXE)


@pytest.fixture(scope="module")
def tokens(web_server) -> dict[Role, str]:
    if Role.VENDOR_MANAGER not in web_server.tokens:
        web_server.tokens[Role.VENDOR_MANAGER] = web_server.create_token(Role.VENDOR_MANAGER, "browser-vendor-manager")
    return web_server.tokens


def registry(server) -> dict:
    data = api(server, SUBCONTRACTORS)
    return {"subs": {e["node"]["name"]: e["node"] for e in data["subcontractors"]["edges"]},
            "total": data["subcontractors"]["totalCount"], "findings": data["complianceFindings"]}


def named(server, prefix: str) -> dict:
    return next(sub for name, sub in registry(server)["subs"].items() if name.startswith(prefix))


def sign_in(page, token: str, path: str = "/vendors") -> None:
    page.goto(path, wait_until="load")
    page.fill("#token", token)
    page.click("#token-form button[type=submit]")


def ready(page, view: str) -> None:
    page.locator(f"#view[data-view={view}][data-state=ready]").wait_for(timeout=WAIT_MS)


def open_subcontractor(page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).first.click()
    ready(page, "subcontractor")
    assert page.locator("#sub-name").inner_text() == name


def open_form(page, form_id: str):
    """The form with that id, its <details> opened by keyboard-reachable click on the summary."""
    page.locator(f"details:has(> form#{form_id}) > summary").click()
    return page.locator(f"form#{form_id}")


def serious_violations(page, axe_script: str) -> list[dict]:
    """axe-core's serious and critical violations on the page as shown, every <details> opened."""
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=axe_script)
    violations = page.evaluate("""async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }))""")
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def search(page) -> None:
    """Submit the filters and wait for the table drawn from the answer (never the previous one)."""
    page.evaluate("document.querySelector('#subcontractors').dataset.stale = 'yes'")
    page.click("#search")
    page.locator("#subcontractors:not([data-stale])").wait_for(timeout=WAIT_MS)
    ready(page, "list")


def rows(page) -> list[str]:
    return page.locator("#subcontractors tbody th[scope=row]").all_inner_texts()


def test_list_shows_every_subcontractor_with_its_findings_and_filters_them(page, web_server, tokens, axe_script):
    known = registry(web_server)
    expiring = {f["subject"]["subcontractor"]["id"] for f in known["findings"] if f["code"] == "CONTRACT_EXPIRING_SOON"}
    assert len(expiring) == 1  # the demo's hosting contract, 20 days from its end
    sign_in(page, tokens[Role.VENDOR_MANAGER])
    ready(page, "list")
    assert sorted(rows(page)) == sorted(known["subs"])
    kumo = page.locator("#subcontractors tbody tr", has_text="Kumo Hosting")
    assert kumo.locator(".badge[data-code=CONTRACT_EXPIRING_SOON]").count() == 1
    assert kumo.locator(".badge[data-code=CONTRACT_EXPIRING_SOON]").get_attribute("title").startswith("Contract LIJ-HOST-001")
    screenshot(page, "vendors-list")
    assert serious_violations(page, axe_script) == []

    page.check("#f-expiring")
    search(page)
    assert [known["subs"][n]["id"] for n in rows(page)] == sorted(expiring)

    page.uncheck("#f-expiring")
    page.check("#f-reentrusted")
    search(page)
    assert rows(page) == [n for n, s in known["subs"].items() if s["parent"]]

    page.uncheck("#f-reentrusted")
    page.fill("#f-country", "sg")  # the API's filter, sent upper-cased
    search(page)
    assert rows(page) == [n for n, s in known["subs"].items() if s["country"] == "SG"]


def test_list_pages_through_the_apis_cursors_forward_and_back(page, web_server, tokens):
    for n in range(25):  # more than one page (20) of subcontractors matching one search
        api(web_server, """mutation($input: CreateSubcontractorInput!) { createSubcontractor(input: $input) {
            subcontractor { id } errors { code } } }""", {"input": {"name": f"Paging Test {n:02d}", "country": "JP"}},
            role=Role.ADMIN)
    sign_in(page, tokens[Role.VIEWER])
    ready(page, "list")
    page.fill("#f-name", "paging test")
    search(page)
    assert "25 match" in page.locator("#subcontractors caption").inner_text()
    first = rows(page)
    assert first == [f"Paging Test {n:02d}" for n in range(20)]
    assert page.is_disabled("#previous-page")
    page.click("#next-page")
    page.wait_for_function("document.querySelector('#subcontractors caption').textContent.includes('page 2')", timeout=WAIT_MS)
    assert rows(page) == [f"Paging Test {n:02d}" for n in range(20, 25)]
    assert page.is_disabled("#next-page")
    page.click("#previous-page")
    page.wait_for_function("document.querySelector('#subcontractors caption').textContent.includes('page 1')", timeout=WAIT_MS)
    assert rows(page) == first


def write(server, name: str, selection: str, input: dict) -> dict:
    """Run the mutation `name` as ADMIN, selecting `selection`; its payload, asserting it refused nothing."""
    data = api(server, f"""mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) {{
        {selection} errors {{ code message }} }} }}""", {"input": input}, role=Role.ADMIN)[name]
    assert data["errors"] == [], data
    return data


def far_subcontractor(server, name: str, *, expires_on: str, effective_from: str, active: bool,
                      assessed_on: str, next_due_on: str) -> str:
    """A subcontractor made through the API (so with an id after every other), assessed, under a
    contract with the demo business: ACTIVE when `active`, else DRAFT."""
    sub = write(server, "createSubcontractor", "subcontractor { id }", {"name": name, "country": "JP"})["subcontractor"]["id"]
    write(server, "recordAssessment", "subcontractor { id }", {"subcontractorId": sub, "result": "ADEQUATE",
                                                            "assessedOn": assessed_on, "nextDueOn": next_due_on})
    contract = write(server, "createContract", "contract { id version }", {
        "subcontractorId": sub, "businessCode": BUSINESS, "reference": f"FAR-{sub[-6:]}",
        "effectiveFrom": effective_from, "expiresOn": expires_on,
        "clauses": ["CONFIDENTIALITY", "PURPOSE_LIMITATION", "SECURITY_MEASURES", "BREACH_NOTIFICATION",
                    "RETURN_OR_DELETION"]})["contract"]
    for to in (["UNDER_REVIEW", "ACTIVE"] if active else []):
        contract = write(server, "transitionContract", "contract { id version }",
                         {"id": contract["id"], "expectedVersion": contract["version"], "to": to})["contract"]
    return sub


def test_the_filters_are_the_apis_and_find_subcontractors_beyond_the_first_page(page, web_server, tokens):
    kumo = named(web_server, "Kumo Hosting")
    [hosting] = [c for c in kumo["contracts"] if c["reference"] == "LIJ-HOST-001"]
    began = date.fromisoformat(hosting["effectiveFrom"])
    # on the server's clock, the hosting contract expires within 30 days, and began long before
    expiring = far_subcontractor(web_server, "Far Expiring K.K. (fictional)", expires_on=hosting["expiresOn"],
                                 effective_from=hosting["effectiveFrom"], active=True,
                                 assessed_on=hosting["effectiveFrom"], next_due_on=hosting["expiresOn"])
    overdue = far_subcontractor(web_server, "Far Overdue K.K. (fictional)", expires_on=hosting["expiresOn"],
                                effective_from=hosting["effectiveFrom"], active=False,
                                assessed_on=str(began), next_due_on=str(began + timedelta(days=1)))
    known = registry(web_server)
    assert known["total"] > 20  # the paging test's 25 and these two: more than a page of 20
    flagged = {code: {f["subject"]["id"] if f["subject"]["__typename"] == "Subcontractor"
                      else f["subject"]["subcontractor"]["id"] for f in known["findings"] if f["code"] == code}
               for code in ("CONTRACT_EXPIRING_SOON", "ASSESSMENT_MISSING", "ASSESSMENT_OVERDUE")}
    assert expiring in flagged["CONTRACT_EXPIRING_SOON"] and overdue in flagged["ASSESSMENT_OVERDUE"]
    by_id = {sub["id"]: name for name, sub in known["subs"].items()}

    page.requested_bodies = []
    page.on("request", lambda r: r.method == "POST" and page.requested_bodies.append(r.post_data or ""))
    sign_in(page, tokens[Role.VIEWER])
    ready(page, "list")
    assert len(rows(page)) == 20
    assert not {"Far Expiring K.K. (fictional)", "Far Overdue K.K. (fictional)"} & set(rows(page))

    page.check("#f-expiring")
    search(page)
    assert rows(page) == [by_id[i] for i in sorted(flagged["CONTRACT_EXPIRING_SOON"])]
    assert "Far Expiring K.K. (fictional)" in rows(page)
    assert f"{len(flagged['CONTRACT_EXPIRING_SOON'])} match" in page.locator("#subcontractors caption").inner_text()

    page.uncheck("#f-expiring")
    page.select_option("#f-assessment", "OVERDUE")
    search(page)
    assert rows(page) == [by_id[i] for i in sorted(flagged["ASSESSMENT_OVERDUE"])]
    page.select_option("#f-assessment", "MISSING_OR_OVERDUE")
    search(page)
    either = flagged["ASSESSMENT_MISSING"] | flagged["ASSESSMENT_OVERDUE"]
    assert sorted(rows(page)) == sorted(by_id[i] for i in either)
    sent = [json.loads(body).get("variables", {}).get("filter") for body in page.requested_bodies]
    assert {"contractExpiringWithinDays": 30} in sent and {"assessment": "OVERDUE"} in sent


def test_a_subcontractor_page_lists_its_children_and_assessments_from_the_api(page, web_server, tokens, axe_script):
    known = registry(web_server)
    parent_name, parent = next((n, s) for n, s in known["subs"].items() if s["children"])
    page.requested_bodies = []
    page.on("request", lambda r: r.method == "POST" and page.requested_bodies.append(r.post_data or ""))
    sign_in(page, tokens[Role.VIEWER])
    ready(page, "list")
    open_subcontractor(page, parent_name)
    assert page.locator("#children li").all_inner_texts() == [c["name"] for c in parent["children"]]
    assert not any("VendorsParents" in body or "first: 1000" in body for body in page.requested_bodies)

    assessed = named(web_server, "Far Overdue")
    page.get_by_role("link", name="← All subcontractors").click()
    ready(page, "list")
    page.fill("#f-name", "Far Overdue")
    search(page)
    open_subcontractor(page, "Far Overdue K.K. (fictional)")
    shown = page.locator("#assessments tbody tr")
    assert shown.count() == len(assessed["assessments"]) == 1
    assert shown.first.locator("th").inner_text() == assessed["assessments"][0]["assessedOn"]
    assert page.locator("#children").count() == 0  # it re-entrusts to nobody
    assert serious_violations(page, axe_script) == []


def test_vendor_manager_renews_the_expiring_contract_and_the_data_map_shows_the_successor(
        page, web_server, tokens, axe_script):
    page.requested_bodies = []
    page.on("request", lambda r: r.method == "POST" and page.requested_bodies.append(r.post_data or ""))
    sign_in(page, tokens[Role.VENDOR_MANAGER])
    ready(page, "list")
    page.check("#f-expiring")
    search(page)
    open_subcontractor(page, "Kumo Hosting K.K. (fictional)")
    old = page.locator("article[data-reference=LIJ-HOST-001]")
    assert old.get_attribute("data-status") == "ACTIVE"
    assert old.locator(".entrustments tbody tr[data-id]").count() == 1
    screenshot(page, "vendors-subcontractor")
    assert serious_violations(page, axe_script) == []

    # the successor: same business and clauses, the next reference, prefilled
    old.locator("button.successor").click()
    form = page.locator("form#new-contract")
    assert form.locator("input[name=reference]").input_value() == "LIJ-HOST-002"
    form.locator("button[type=submit]").click()
    new = page.locator("article[data-reference=LIJ-HOST-002]")
    new.wait_for(timeout=WAIT_MS)
    assert new.get_attribute("data-status") == "DRAFT"

    entrust = open_form(page, "entrust-LIJ-HOST-002")
    for code in ("P1", "P4"):
        entrust.locator(f"input[name=purposeCodes][value={code}]").check()
    for code in ("name", "email", "phone"):
        entrust.locator(f"input[name=dataItemCodes][value={code}]").check()
    entrust.locator("input[name=description]").fill("Hosting of the Loveinnjapan.com service, renewed")
    entrust.locator("button[type=submit]").click()
    page.locator("article[data-reference=LIJ-HOST-002] .entrustments tbody tr[data-id]").wait_for(timeout=WAIT_MS)

    for status in ("UNDER_REVIEW", "ACTIVE"):
        move = open_form(page, "move-LIJ-HOST-002")
        offered = move.locator("select[name=to] option").evaluate_all("(os) => os.map((o) => o.value)")
        assert status in offered and "EXPIRED" not in offered
        move.locator("select[name=to]").select_option(status)
        move.locator("button[type=submit]").click()
        page.locator(f"article[data-reference=LIJ-HOST-002][data-status={status}]").wait_for(timeout=WAIT_MS)

    # the old one ends: its entrustment from today, then the contract itself
    old.locator(".entrustments details > summary").click()
    old.locator("form.end-entrustment button[type=submit]").click()
    page.locator("article[data-reference=LIJ-HOST-001] .entrustments td", has_text="ended").wait_for(timeout=WAIT_MS)
    move = open_form(page, "move-LIJ-HOST-001")
    move.locator("select[name=to]").select_option("TERMINATED")
    move.locator("textarea[name=reason]").fill("Replaced by LIJ-HOST-002")
    move.locator("button[type=submit]").click()
    page.locator("article[data-reference=LIJ-HOST-001][data-status=TERMINATED]").wait_for(timeout=WAIT_MS)

    kumo = named(web_server, "Kumo Hosting")
    statuses = {c["reference"]: c["status"] for c in kumo["contracts"]}
    assert statuses == {"LIJ-HOST-001": "TERMINATED", "LIJ-HOST-002": "ACTIVE"}
    # the console never asked for a customer, so it cannot show personal data
    assert not any("customer" in body.lower() or "displayName" in body for body in page.requested_bodies)

    page.goto(f"/map?business={BUSINESS}", wait_until="load")  # same tab: the session's token carries over
    page.locator("#map-graph[data-state=ready]").wait_for(timeout=WAIT_MS)
    shown = {p["id"]: p for p in page.evaluate("window.piMap.parties()")}
    assert shown[kumo["id"]]["contract"] == "LIJ-HOST-002"
    assert shown[kumo["id"]]["excluded"] is False
    assert foreign_requests(page, web_server.base_url) == []


def test_a_refused_write_shows_the_registrys_message_next_to_its_field_and_saves_nothing(
        page, web_server, tokens, axe_script):
    before = named(web_server, "Minato Data Labs")
    sign_in(page, tokens[Role.VENDOR_MANAGER])
    ready(page, "list")
    open_subcontractor(page, "Minato Data Labs K.K. (fictional)")

    # activation without an adequate assessment: refused on `to`, with the registry's reason
    move = open_form(page, "move-LIJ-LAB-001")
    move.locator("select[name=to]").select_option("ACTIVE")
    move.locator("button[type=submit]").click()
    error = move.locator("[data-field=to] .field-error")
    error.wait_for(timeout=WAIT_MS)
    assert error.get_attribute("data-code") == "MANAGEMENT_SYSTEM_INADEQUATE"
    assert "record an ADEQUATE or CONDITIONAL assessment" in error.inner_text()
    described = move.locator("select[name=to]").get_attribute("aria-describedby").split()
    assert error.get_attribute("id") in described
    assert move.locator("select[name=to]").get_attribute("aria-invalid") == "true"

    # a contract ending before it begins: refused on expiresOn
    page.locator("details#create-contract > summary").click()
    create = page.locator("form#new-contract")
    create.locator("input[name=reference]").fill("LIJ-LAB-BAD")
    create.locator("input[name=effectiveFrom]").fill("2027-01-01")
    create.locator("input[name=expiresOn]").fill("2026-01-01")
    create.locator("button[type=submit]").click()
    expiry_error = create.locator("[data-field=expiresOn] .field-error")
    expiry_error.wait_for(timeout=WAIT_MS)
    assert expiry_error.get_attribute("data-code") == "INVALID_INPUT"
    assert expiry_error.inner_text()
    create.locator("[data-field=expiresOn]").scroll_into_view_if_needed()
    screenshot(page, "vendors-refused")
    assert serious_violations(page, axe_script) == []

    after = named(web_server, "Minato Data Labs")
    assert after["contracts"] == before["contracts"] and after["version"] == before["version"]


def test_two_tabs_editing_one_subcontractor_the_second_sees_the_conflict_and_overwrites_nothing(
        browser, web_server, tokens):
    original = named(web_server, "Hikari Support")
    tabs = []
    try:
        for _ in range(2):
            context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=web_server.base_url)
            tab = context.new_page()
            tabs.append(tab)
            sign_in(tab, tokens[Role.VENDOR_MANAGER])
            ready(tab, "list")
            open_subcontractor(tab, original["name"])
        first, second = tabs
        renamed = "Hikari Support Center Co., Ltd. (fictional, renamed)"
        edit = open_form(first, "edit-sub")
        edit.locator("input[name=name]").fill(renamed)
        edit.locator("button[type=submit]").click()
        first.wait_for_function(f"document.querySelector('#sub-name')?.textContent === {json.dumps(renamed)}", timeout=WAIT_MS)

        edit = open_form(second, "edit-sub")
        edit.locator("input[name=name]").fill("Hikari (the second tab's name)")
        edit.locator("button[type=submit]").click()
        conflict = second.locator("#conflict")
        conflict.wait_for(timeout=WAIT_MS)
        assert f"name: {original['name']} → {renamed}" in conflict.inner_text()
        assert named(web_server, "Hikari")["name"] == renamed  # the second tab wrote nothing

        second.click("#reload")
        second.wait_for_function(f"document.querySelector('#sub-name')?.textContent === {json.dumps(renamed)}", timeout=WAIT_MS)
        assert second.locator("#view").get_attribute("data-version") == str(original["version"] + 1)
        screenshot(second, "vendors-conflict-reloaded")
    finally:
        for tab in tabs:
            tab.context.close()


def test_two_tabs_writing_under_one_contract_the_second_sees_the_conflict_and_adds_nothing(browser, web_server, tokens):
    nami = named(web_server, "Nami Mailing")
    [mailing] = nami["contracts"]
    assert len(mailing["entrustments"]) == 1
    tabs = []
    try:
        for _ in range(2):
            context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=web_server.base_url)
            tab = context.new_page()
            tabs.append(tab)
            sign_in(tab, tokens[Role.VENDOR_MANAGER])
            ready(tab, "list")
            open_subcontractor(tab, nami["name"])
        first, second = tabs
        first.locator("article[data-reference=LIJ-MAIL-001] .entrustments details > summary").click()
        first.locator("article[data-reference=LIJ-MAIL-001] form.end-entrustment button[type=submit]").click()
        first.locator("article[data-reference=LIJ-MAIL-001] .entrustments td", has_text="ended").wait_for(timeout=WAIT_MS)

        entrust = open_form(second, "entrust-LIJ-MAIL-001")
        entrust.locator("input[name=purposeCodes][value=P2]").check()
        entrust.locator("input[name=dataItemCodes][value=email]").check()
        entrust.locator("button[type=submit]").click()
        conflict = second.locator("#conflict")
        conflict.wait_for(timeout=WAIT_MS)
        assert "open entrustments: 1 of 1 → 0 of 1" in conflict.inner_text()
        [after] = named(web_server, "Nami Mailing")["contracts"]
        assert len(after["entrustments"]) == 1 and after["entrustments"][0]["effectiveUntil"]  # ended, none added
    finally:
        for tab in tabs:
            tab.context.close()


def test_a_viewer_sees_read_only_pages(page, web_server, tokens, axe_script):
    sign_in(page, tokens[Role.VIEWER])
    ready(page, "list")
    assert "(read only)" in page.locator("#who").inner_text()
    assert page.locator("form.write").count() == 0
    open_subcontractor(page, "Sakura Payment Services K.K. (fictional)")
    assert page.locator("article.contract").count() >= 1
    assert page.locator("form.write, details.form-box, button.successor").count() == 0
    assert page.locator("#history").count() == 0  # a VIEWER may not read a subcontractor's history
    assert serious_violations(page, axe_script) == []


def test_the_list_is_reachable_by_keyboard_alone(page, web_server, tokens):
    sign_in(page, tokens[Role.VIEWER])
    ready(page, "list")
    target = "Sakura Payment Services K.K. (fictional)"
    for _ in range(40):  # tab order: skip link, header controls, filters, then the table's links
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == target:
            break
    assert page.evaluate("document.activeElement.textContent") == target
    page.keyboard.press("Enter")
    ready(page, "subcontractor")
    assert page.locator("#sub-name").inner_text() == target
    assert page.evaluate("document.activeElement.id") == "sub-name"  # the new page's heading has the focus
