"""The records of processing as downloads (gateway/exports.py), over the demo registry: they agree
with what the API says customers' handlings are, and open in a spreadsheet."""

import csv
import io
from datetime import timedelta

import openpyxl

from registry.demo import BUSINESS, DATA_ITEMS
from registry.enums import Role
from registry.ropa import HEADERS
from registry.ropa_export import FOREIGN_SHEET
from tests.conftest import TEST_CLOCK

TODAY = TEST_CLOCK.today()
PAST = TODAY - timedelta(days=100)

REGISTER = """
mutation ($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) { customer { id } errors { code field message } }
}"""
HANDLINGS = """
query ($id: ID!, $asOf: Date!) {
  customer(id: $id) {
    handlings(asOf: $asOf) {
      role party { name country } dataItems { code } purposes { code } contract { reference }
    }
  }
}"""


async def download(api, path: str, *, role: Role | None = Role.VIEWER, **params):
    headers = {} if role is None else {"Authorization": f"Bearer {api.tokens[role]}"}
    return await api.client.get(path, params=params, headers=headers)


def csv_rows(response) -> list[dict]:
    assert response.content.startswith("\ufeff".encode())
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert reader.fieldnames == list(HEADERS.values())
    return list(reader)


async def test_the_csv_rows_are_the_handlings_the_api_gives_a_customer_holding_every_item(api):
    registered = await api.data(REGISTER, {"input": {
        "businessCode": BUSINESS, "externalRef": "ROPA-ALL", "dataItemCodes": [code for code, *_ in DATA_ITEMS],
        "registeredOn": (TODAY - timedelta(days=900)).isoformat()}})
    assert registered["registerCustomer"]["errors"] == []
    customer = registered["registerCustomer"]["customer"]["id"]
    for day in (TODAY, PAST):
        handlings = (await api.data(HANDLINGS, {"id": customer, "asOf": day.isoformat()}))["customer"]["handlings"]
        expected = {
            (item["code"], h["party"]["name"], h["role"], "; ".join(p["code"] for p in h["purposes"]),
             (h["contract"] or {}).get("reference", ""), h["party"]["country"])
            for h in handlings for item in h["dataItems"]
        }
        response = await download(api, "/export/ropa.csv", asOf=day.isoformat())
        assert response.status_code == 200, response.text
        rows = csv_rows(response)
        assert {(r["Data item code"], r["Party"], r["Role"], r["Purpose codes"], r["Contract"], r["Country"])
                for r in rows} == expected
    assert any(r["Party"].startswith("Nami Mailing") for r in rows)  # the past day: the mailing was ACTIVE


async def test_a_viewer_downloads_the_xlsx_as_an_attachment(api):
    response = await download(api, "/export/ropa.xlsx", business=BUSINESS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"] == f'attachment; filename="ropa-{BUSINESS}-{TODAY}.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [BUSINESS, FOREIGN_SHEET]
    assert book[BUSINESS].freeze_panes == "A2" and book[BUSINESS].auto_filter.ref
    assert [c.value for c in book[FOREIGN_SHEET][2]][1:5] == [
        "Panelist Hub Pte. Ltd. (fictional)", "SUBCONTRACTOR", "SG", "EQUIVALENT_MEASURES"]
    csv_response = await download(api, "/export/ropa.csv", role=Role.VENDOR_MANAGER)
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_response.headers["content-disposition"] == f'attachment; filename="ropa-all-{TODAY}.csv"'
    assert len(csv_rows(csv_response)) == book[BUSINESS].max_row - 1


async def test_a_download_needs_a_token(api):
    for path in ("/export/ropa.xlsx", "/export/ropa.csv"):
        response = await download(api, path, role=None)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        forged = await api.client.get(path, headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 401


async def test_bad_parameters_are_refused_without_being_echoed(api):
    for bad in ("2026-13-01", "yesterday", "1" * 5000, "2026-02-30"):
        response = await download(api, "/export/ropa.csv", asOf=bad)
        assert response.status_code == 400
        assert response.text == "asOf must be a date YYYY-MM-DD from 1900-01-01 to 2199-12-31"
    long_code = "x" * 4000
    response = await download(api, "/export/ropa.xlsx", business=long_code)
    assert response.status_code == 404 and len(response.text) < 200
    assert (await download(api, "/export/ropa.csv", business="nope")).status_code == 404


async def test_a_download_spends_the_tokens_rate_limit_by_the_time_it_took(tuned):
    async with tuned(rate_limit_burst=3, rate_limit_per_minute=1) as api:
        assert (await download(api, "/export/ropa.xlsx")).status_code == 200  # some 20 ms: 1 + 10 requests
        assert (await download(api, "/export/ropa.csv")).status_code == 429
        response = await api.client.post("/graphql", json={"query": "{ viewer { name } }"},
                                         headers={"Authorization": f"Bearer {api.tokens[Role.VIEWER]}"})
        assert response.status_code == 429  # the same bucket as the token's GraphQL requests
        other = await download(api, "/export/ropa.csv", role=Role.ADMIN)
        assert other.status_code == 200
