"""The records of processing (registry/ropa.py) and their files (registry/ropa_export.py), on the
demo registry seeded on TEST_CLOCK (TODAY): the rows are handling resolution's answer, for
today as for a past day, and the files open in a spreadsheet as they should."""

import csv
import io
from datetime import date, datetime, timedelta

import openpyxl

from registry.customers import register_customer
from registry.db import Database
from registry.demo import BUSINESS, CUSTOMERS, DATA_ITEMS
from registry.enums import LegalBasis
from registry.businesses import get_business
from registry.handling import resolve_handlings
from registry.joint_uses import create_joint_use
from registry.provisions import create_provision, create_recipient
from registry.ropa import HEADERS, JOINT_USER, records_of_processing
from registry.ropa_export import FOREIGN_SHEET, XlsxWriter, csv_header, csv_rows, sheet_title
from tests.conftest import TEST_CLOCK

TODAY = TEST_CLOCK.today()
PAST = TODAY - timedelta(days=100)  # the mailing contract was ACTIVE, billing inquiries still entrusted
ACTOR = "test"


async def records(database: Database, as_of: date = TODAY):
    async with database.session() as session:
        return await records_of_processing(session, await get_business(session, BUSINESS), as_of=as_of,
                                           today=TODAY)


def keyed(rows) -> set[tuple]:
    return {(r.data_item_code, r.party, r.role, r.purpose_codes) for r in rows}


async def test_rows_are_the_handlings_of_a_customer_holding_every_item_today_and_on_a_past_day(demo):
    async with demo.session(write=True) as session:
        customer = await register_customer(
            session, actor=ACTOR, business_code=BUSINESS, external_ref="ROPA-ALL",
            data_item_codes=[code for code, *_ in DATA_ITEMS], registered_on=TODAY - timedelta(days=900), today=TODAY)
    for day in (TODAY, PAST):
        async with demo.session() as session:
            handlings = await resolve_handlings(session, customer.id, as_of=day, today=TODAY)
        expected = {(item.code, h.party.name, h.role.value, "; ".join(p.code for p in h.purposes))
                    for h in handlings for item in h.data_items}
        assert keyed((await records(demo, day)).rows) == expected


async def test_a_past_day_gives_the_past_answer(demo):
    today, past = keyed((await records(demo)).rows), keyed((await records(demo, PAST)).rows)
    mailing = ("email", "Nami Mailing Services G.K. (fictional)", "SUBCONTRACTOR", "P2")
    billing_inquiries = ("amount", "Hikari Support Center Co., Ltd. (fictional)", "SUBCONTRACTOR", "P3; P5")
    assert mailing in past and mailing not in today  # suspended 30 days ago
    assert billing_inquiries in past and billing_inquiries not in today  # entrustment ended 45 days ago
    parties = {party for _, party, _, _ in today}
    # a DRAFT contract abroad, one under review, a terminated and an expired one: nobody handles
    for absent in ("Aozora Analytics Inc. (fictional)", "Minato Data Labs K.K. (fictional)",
                   "Old Print Works K.K. (fictional)", "Legacy Call Center Co., Ltd. (fictional)"):
        assert absent not in parties


async def test_rows_say_footing_country_basis_and_period(demo):
    rows = (await records(demo)).rows
    [panel] = [r for r in rows if r.party.startswith("Panelist Hub")]
    assert (panel.data_item_code, panel.role, panel.contract, panel.entrusted_by) == (
        "email", "SUBCONTRACTOR", "LIJ-SUR-002", "Tsubame Research Inc. (fictional)")
    assert (panel.country, panel.foreign_transfer_basis, panel.legal_basis) == ("SG", "EQUIVALENT_MEASURES",
                                                                                 "ENTRUSTMENT")
    assert (panel.valid_from, panel.valid_until) == (TODAY - timedelta(days=365), TODAY + timedelta(days=365))
    [card] = [r for r in rows if r.role == "THIRD_PARTY" and r.data_item_code == "credit_card_number"]
    assert (card.party, card.party_ja, card.legal_basis, card.appi_article, card.valid_until) == (
        "Financial institutions", "金融機関", "CONSENT", "APPI Art. 27(1)", None)
    hosting = [r for r in rows if r.contract == "LIJ-HOST-001"]
    assert {r.valid_until for r in hosting} == {TODAY + timedelta(days=20)}  # the contract's expiry bounds it
    first = rows[0]
    assert (first.data_item_code, first.data_item_ja, first.role, first.sensitivity) == (
        "name", "氏名", "CONTROLLER", "ORDINARY")
    order = [code for code, *_ in DATA_ITEMS]
    assert [r.data_item_code for r in rows] == sorted((r.data_item_code for r in rows), key=order.index)


async def test_foreign_parties_are_those_outside_japan_with_their_basis(demo):
    [panel] = (await records(demo)).foreign
    assert (panel.party, panel.country, panel.foreign_transfer_basis, panel.data_item_codes, panel.purpose_codes) == (
        "Panelist Hub Pte. Ltd. (fictional)", "SG", "EQUIVALENT_MEASURES", "email", "P3")


async def test_a_joint_use_is_in_the_records_from_its_first_day(demo):
    async with demo.session(write=True) as session:
        await create_joint_use(session, actor=ACTOR, business_code=BUSINESS, users="ALMEX group companies",
                               responsible="ALMEX Inc.", purpose_codes=["P2"], data_item_codes=["name", "email"],
                               today=TODAY, effective_from=TODAY + timedelta(days=1))
    assert not [r for r in (await records(demo)).rows if r.role == JOINT_USER]
    joint = [r for r in (await records(demo, TODAY + timedelta(days=1))).rows if r.role == JOINT_USER]
    assert {(r.data_item_code, r.party, r.purpose_codes, r.legal_basis) for r in joint} == {
        ("name", "ALMEX group companies", "P2", "JOINT_USE"), ("email", "ALMEX group companies", "P2", "JOINT_USE")}


async def test_the_records_name_no_customer(demo):
    text = csv_rows((await records(demo)).rows)
    for ref, name, *_ in CUSTOMERS:
        assert ref not in text and name not in text and f"{ref.lower()}@example.test" not in text


def xlsx_of(*all_records) -> openpyxl.Workbook:
    workbook, out = XlsxWriter(), io.BytesIO()
    for each in all_records:
        workbook.add(each)
    workbook.save(out)
    out.seek(0)
    return openpyxl.load_workbook(out)


async def test_the_xlsx_opens_with_a_frozen_filtered_header_dates_and_the_foreign_sheet(demo):
    found = await records(demo)
    book = xlsx_of(found)
    assert book.sheetnames == [BUSINESS, FOREIGN_SHEET]
    sheet = book[BUSINESS]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:U{len(found.rows) + 1}"
    assert [c.value for c in sheet[1]] == list(HEADERS.values())
    assert all(8 <= sheet.column_dimensions[c].width <= 60 for c in "ABCDEFGHIJKLMNOPQRSTU")
    assert sheet.column_dimensions["H"].width == 60  # the purposes' titles: long, bounded
    valid_from = list(HEADERS).index("valid_from")
    assert all(isinstance(row[valid_from], datetime) for row in sheet.iter_rows(min_row=2, values_only=True))
    assert sheet.max_row == len(found.rows) + 1
    foreign = book[FOREIGN_SHEET]
    assert foreign.freeze_panes == "A2" and foreign.auto_filter.ref == "A1:K2"
    assert [c.value for c in foreign[2]][1:5] == ["Panelist Hub Pte. Ltd. (fictional)", "SUBCONTRACTOR", "SG",
                                                  "EQUIVALENT_MEASURES"]


async def test_the_csv_has_a_bom_a_header_and_the_same_rows_as_the_xlsx(demo):
    found = await records(demo)
    text = csv_header() + csv_rows(found.rows)
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert parsed[0] == list(HEADERS.values())
    sheet = xlsx_of(found)[BUSINESS]
    as_text = [["" if v is None else v.date().isoformat() if isinstance(v, datetime) else v for v in row]
               for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert parsed[1:] == as_text


async def test_a_registry_text_starting_like_a_formula_is_never_one(demo):
    evil = '=HYPERLINK("http://evil.example","click")'
    async with demo.session(write=True) as session:
        recipient = await create_recipient(session, actor=ACTOR, name=evil, country="JP", kind="-1+2")
        await create_provision(session, actor=ACTOR, business_code=BUSINESS, recipient_id=recipient.id,
                               purpose_codes=["P5"], data_item_codes=["amount"], legal_basis=LegalBasis.CONSENT,
                               today=TODAY)
    found = await records(demo)
    assert any(r.party == evil for r in found.rows)
    lines = list(csv.reader(io.StringIO(csv_rows(found.rows))))
    [line] = [line for line in lines if evil in line[list(HEADERS).index("party")]]
    assert line[list(HEADERS).index("party")] == "'" + evil
    assert line[list(HEADERS).index("party_kind")] == "'-1+2"
    sheet = xlsx_of(found)[BUSINESS]
    party = list(HEADERS).index("party")
    [cell] = [row[party] for row in sheet.iter_rows(min_row=2) if row[party].value == evil]
    assert cell.data_type == "s"


def test_sheet_titles_are_valid_and_distinct():
    taken = {FOREIGN_SHEET.lower()}
    first = sheet_title("a[b]:c*d?e/f\\g" + "x" * 40, taken)
    assert first == "a_b__c_d_e_f_g" + "x" * 17 and len(first) == 31
    taken.add(first.lower())
    second = sheet_title("A[B]:C*D?E/F\\G" + "X" * 40, taken)
    assert second.endswith("~2") and len(second) == 31 and second.lower() not in taken
    assert sheet_title("foreign parties", taken) == "foreign parties~2"
