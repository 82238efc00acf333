"""Customer sync from the member system (registry/customer_sync.py, issue 14), on a copy of
the demo registry: its customers LIJ-0001..0008 were registered on REGISTERED, LIJ-0003
cancelled 60 days ago and LIJ-0006 was erased by a completed DELETION."""

import json
import sqlite3
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from registry import customer_sync, customers, version
from registry.customer_sync import BadRow, file_source, list_source
from registry.db import Database
from registry.enums import CustomerStatus, ErrorCode
from registry.errors import InvalidInput, VersionConflict
from registry.handling import party_key, resolve_handlings
from registry.models import AuditEvent, Customer

ACTOR = "member-system-sync"
TODAY = date(2026, 11, 25)  # TEST_CLOCK's
REGISTERED = TODAY - timedelta(days=400)  # the demo customers'
HEADER = "externalRef,registeredOn,cancelledOn,items,displayName,email"


async def run(database: Database, source, *, skip_bad: bool = False, today: date = TODAY):
    async with database.session(write=True) as session:
        return await customer_sync.import_customers(session, actor=ACTOR, business_code=None, source=source,
                                                    today=today, skip_bad=skip_bad)


def write(tmp_path: Path, lines: list[str], name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def member(n: int, items: str = "name;email;amount", cancelled: str = "") -> str:
    return f"NEW-{n:04d},2026-01-{1 + n % 28:02d},{cancelled},{items},Member {n} (fictional),m{n}@example.test"


async def state(database: Database) -> tuple[int, int, int]:
    """Customers, audit events and the registry version: what a refused import leaves alone."""
    async with database.session() as session:
        counted = [(await session.exec(select(func.count()).select_from(m))).one() for m in (Customer, AuditEvent)]
        return (*counted, await version.current(session))


async def customer(database: Database, ref: str) -> Customer:
    async with database.session() as session:
        return await customers.find_customer_by_ref(session, "loveinn-japan", ref)


async def held(database: Database, ref: str, day: date) -> list[str]:
    found = await customer(database, ref)
    async with database.session() as session:
        return [i.code for i in (await customers.held_items(session, [found.id], as_of=day))[found.id]]


async def handlings(database: Database, ref: str, day: date) -> list:
    found = await customer(database, ref)
    async with database.session() as session:
        answer = await resolve_handlings(session, found.id, as_of=day, include_excluded=True)
    return [(party_key(h.party), h.excluded, tuple(h.exclusion_reasons), tuple(i.code for i in h.data_items),
             tuple(p.code for p in h.purposes)) for h in answer]


async def events(database: Database, action: str) -> list[AuditEvent]:
    async with database.session() as session:
        return list((await session.exec(select(AuditEvent).where(AuditEvent.action == action)
                                        .order_by(AuditEvent.id))).all())


def hundred_with_three_bad() -> list[str]:
    rows = [HEADER] + [member(n) for n in range(1, 101)]
    rows[10] = member(10, items="name;fax")  # line 11: an unknown item code
    rows[50] = "NEW-0050,2026-02-30,,name,Member 50 (fictional),m50@example.test"  # line 51: no such date
    rows[77] = member(77).replace("m77@example.test", "not-an-address")  # line 78
    return rows


async def test_a_hundred_rows_with_three_bad_ones_are_refused_by_line_and_nothing_is_written(demo, tmp_path):
    path = write(tmp_path, hundred_with_three_bad())
    before = await state(demo)
    result = await run(demo, file_source(path))
    assert [(b.line, b.field) for b in result.bad_rows] == [(11, "items"), (51, "registeredOn"), (78, "email")]
    assert (result.bad, result.written, result.rows) == (3, False, 100)
    assert await state(demo) == before
    assert "not-an-address" not in json.dumps([b.message for b in result.bad_rows])  # no personal value

    kept = await run(demo, file_source(path), skip_bad=True)
    assert (kept.created, kept.changed, kept.bad, kept.written) == (97, 0, 3, True)
    customers_before, events_before, version_before = before
    # 97 customers, an event each and the summary, one version for the whole import
    assert await state(demo) == (customers_before + 97, events_before + 98, version_before + 1)
    assert await customer(demo, "NEW-0050") is None and await customer(demo, "NEW-0051") is not None
    [summary] = await events(demo, "customer.import_summary")
    assert json.loads(summary.after) == {"rows": 100, "created": 97, "changed": 0, "unchanged": 0,
                                         "erased_skipped": 0, "bad": 3, "skip_bad": True}


async def test_a_new_member_is_registered_from_registered_on_with_its_items(demo, tmp_path):
    row = member(3, items="name; email;phone").replace("Member 3 (fictional)", "山田\u3000花子 (fictional)")
    result = await run(demo, file_source(write(tmp_path, [HEADER, row])))
    assert (result.created, result.written) == (1, True)
    new = await customer(demo, "NEW-0003")
    assert (new.registered_on, new.display_name, new.email, new.version) == (
        date(2026, 1, 4), "山田\u3000花子 (fictional)", "m3@example.test", 1)
    assert await held(demo, "NEW-0003", date(2026, 1, 4)) == ["name", "email", "phone"]
    assert await held(demo, "NEW-0003", date(2026, 1, 3)) == []
    [event] = await events(demo, "customer.import")
    assert (event.entity_id, event.before, event.actor) == (new.id, None, ACTOR)
    assert json.loads(event.after)["data_item_codes"] == ["name", "email", "phone"]


def demo_rows() -> list[str]:
    """The demo's customers as the member system knows them (LIJ-0006 erased, LIJ-0007 without phone)."""
    items = {1: "name;email;phone;amount;credit_card_number", 2: "name;email;amount;bank_account",
             3: "name;email;phone;amount;credit_card_number", 4: "name;email;amount;credit_card_number",
             5: "name;email;amount", 7: "name;email;amount;credit_card_number", 8: "name;email;amount;bank_account"}
    cancelled = {3: (TODAY - timedelta(days=60)).isoformat()}
    return [f"LIJ-{n:04d},{REGISTERED},{cancelled.get(n, '')},{codes}" for n, codes in items.items()]


async def test_reimporting_what_the_registry_holds_writes_nothing(demo, tmp_path):
    path = write(tmp_path, ["externalRef,registeredOn,cancelledOn,items"] + demo_rows())
    before = await state(demo)
    result = await run(demo, file_source(path))
    assert (result.created, result.changed, result.unchanged, result.bad, result.written) == (0, 0, 7, 0, False)
    assert await state(demo) == before  # no audit event, no registry version
    assert (await customer(demo, "LIJ-0001")).version == 1


async def test_changed_items_open_and_close_periods_from_today_and_leave_the_past_alone(demo, tmp_path):
    yesterday = TODAY - timedelta(days=1)
    past = await handlings(demo, "LIJ-0001", yesterday)
    stored = await customer(demo, "LIJ-0001")
    _, events_before, version_before = await state(demo)
    rows = demo_rows()
    rows[0] = f"LIJ-0001,{REGISTERED},,name;email;amount;credit_card_number;bank_account"  # phone out, bank in
    result = await run(demo, file_source(write(tmp_path, ["externalRef,registeredOn,cancelledOn,items"] + rows)))
    assert (result.changed, result.unchanged, result.written) == (1, 6, True)
    assert await held(demo, "LIJ-0001", TODAY) == ["name", "email", "amount", "credit_card_number", "bank_account"]
    assert await held(demo, "LIJ-0001", yesterday) == ["name", "email", "phone", "amount", "credit_card_number"]
    assert await handlings(demo, "LIJ-0001", yesterday) == past
    changed = await customer(demo, "LIJ-0001")
    assert (changed.version, changed.display_name) == (stored.version + 1, stored.display_name)  # column absent
    assert await state(demo) == (8, events_before + 2, version_before + 1)
    [event] = await events(demo, "customer.import")
    after = json.loads(event.after)
    assert (after["added"], after["removed"], after["effective_on"]) == (["bank_account"], ["phone"], str(TODAY))
    assert "phone" in json.loads(event.before)["data_item_codes"]


async def test_a_future_cancellation_is_scheduled_and_a_past_one_is_never_rewritten(demo, tmp_path):
    rows = demo_rows()
    rows[1] = f"LIJ-0002,{REGISTERED},2026-12-31,name;email;amount;bank_account"  # scheduled
    rows[2] = rows[2].replace(f",{TODAY - timedelta(days=60)},", ",,")  # withdraws a cancellation in effect
    rows[3] = f"LIJ-0004,{REGISTERED - timedelta(days=1)},,name;email;amount;credit_card_number"
    path = write(tmp_path, ["externalRef,registeredOn,cancelledOn,items"] + rows)
    before = await state(demo)
    refused = await run(demo, file_source(path))
    assert [(b.line, b.field, b.code) for b in refused.bad_rows] == [
        (4, "cancelledOn", ErrorCode.INVALID_TRANSITION), (5, "registeredOn", ErrorCode.INVALID_INPUT)]
    assert await state(demo) == before and (await customer(demo, "LIJ-0002")).cancelled_on is None

    result = await run(demo, file_source(path), skip_bad=True)
    assert (result.changed, result.bad, result.written) == (1, 2, True)
    scheduled = await customer(demo, "LIJ-0002")
    assert customers.status_on(scheduled, TODAY) is CustomerStatus.ACTIVE
    assert customers.status_on(scheduled, date(2026, 12, 31)) is CustomerStatus.CANCELLED
    assert (await customer(demo, "LIJ-0003")).cancelled_on == TODAY - timedelta(days=60)

    rows[1] = f"LIJ-0002,{REGISTERED},2027-01-15,name;email;amount;bank_account"  # cancels once only
    again = await run(demo, list_source([{"externalRef": "LIJ-0002", "registeredOn": str(REGISTERED),
                                          "cancelledOn": "2027-01-15", "items": ["name"]}]))
    assert [(b.field, b.code) for b in again.bad_rows] == [("cancelledOn", ErrorCode.INVALID_TRANSITION)]
    withdrawn = await run(demo, list_source([{"externalRef": "LIJ-0002", "registeredOn": str(REGISTERED),
                                              "items": ["name", "email", "amount", "bank_account"]}]))
    assert (withdrawn.changed, withdrawn.written) == (1, True)  # a scheduled one lies ahead: no past rewritten
    assert (await customer(demo, "LIJ-0002")).cancelled_on is None


async def test_json_lines_import_as_the_csv_does(demo, tmp_path):
    lines = [json.dumps({"externalRef": f"NEW-{n:04d}", "registeredOn": "2026-03-01", "cancelledOn": None,
                         "items": ["name", "email"], "displayName": f"Member {n} (fictional)",
                         "email": f"m{n}@example.test"}) for n in range(1, 6)]
    lines[2] = json.dumps({"externalRef": "NEW-0003", "registeredOn": "2026-03-01", "items": "name;fax"})
    path = write(tmp_path, lines, "members.ndjson")
    refused = await run(demo, file_source(path))
    assert [(b.line, b.field, b.code) for b in refused.bad_rows] == [(3, "items", ErrorCode.NOT_FOUND)]
    result = await run(demo, file_source(path), skip_bad=True)
    assert (result.created, result.written) == (4, True)
    assert (await customer(demo, "NEW-0005")).email == "m5@example.test"
    assert (await run(demo, file_source(path), skip_bad=True)).unchanged == 4


async def test_an_erased_customer_never_gets_its_name_or_items_back(demo, tmp_path):
    erased = await customer(demo, "LIJ-0006")
    assert erased.display_name is None and await held(demo, "LIJ-0006", TODAY) == []
    path = write(tmp_path, [HEADER, f"LIJ-0006,{REGISTERED},,name;email,Ren Watanabe,lij-0006@example.test"])
    before = await state(demo)
    result = await run(demo, file_source(path))
    assert (result.erased, result.changed, result.bad, result.written) == (1, 0, 0, False)
    assert await state(demo) == before
    again = await customer(demo, "LIJ-0006")
    assert (again.display_name, again.email) == (None, None) and await held(demo, "LIJ-0006", TODAY) == []


async def test_personal_fields_change_only_when_their_column_is_given(demo, tmp_path):
    path = write(tmp_path, ["externalRef,registeredOn,cancelledOn,items,email",
                            f"LIJ-0005,{REGISTERED},,name;email;amount,aiko@example.test"])
    result = await run(demo, file_source(path))
    assert (result.changed, result.written) == (1, True)
    changed = await customer(demo, "LIJ-0005")
    assert (changed.email, changed.display_name) == ("aiko@example.test", "Aiko Kobayashi (fictional)")


async def test_duplicates_and_out_of_range_values_are_bad_rows(demo, tmp_path):
    rows = [HEADER, member(1), member(1), "NEW-0002,2027-01-01,,name,,", "NEW-0003,2026-01-01,2025-12-31,name,,",
            f"{'R' * 101},2026-01-01,,name,,", f"NEW-0004,2026-01-01,,name,{'N' * 201},",
            "NEW-0005,2026-01-01,,name,,x@" + "e" * 320, ",2026-01-01,,name,,", "NEW-0006,01/02/2026,,name,,"]
    result = await run(demo, file_source(write(tmp_path, rows)))
    assert [(b.line, b.field) for b in result.bad_rows] == [
        (3, "externalRef"), (4, "registeredOn"), (5, "cancelledOn"), (6, "externalRef"), (7, "displayName"),
        (8, "email"), (9, "externalRef"), (10, "registeredOn")]
    assert result.bad_rows[0].code == ErrorCode.DUPLICATE


@pytest.mark.parametrize("header", ["", "externalRef,registeredOn,items", "ref,registeredOn,cancelledOn,items",
                                    HEADER + ",phone", HEADER + ",email", "\x00\xff\xfe garbage"])
async def test_a_file_without_the_header_is_refused_whole(demo, tmp_path, header):
    path = tmp_path / "members.csv"
    path.write_bytes(header.encode("utf-8", "surrogateescape") + b"\n" + member(1).encode() + b"\n")
    before = await state(demo)
    with pytest.raises(InvalidInput) as refused:
        await run(demo, file_source(path))
    assert refused.value.field == "header" and await state(demo) == before


async def test_hostile_lines_are_bad_rows_never_a_crash(demo, tmp_path):
    path = tmp_path / "members.csv"
    with open(path, "wb") as out:
        out.write(b"\xef\xbb\xbf" + HEADER.encode() + b"\n")  # a BOM is tolerated
        out.write(member(1).encode() + b"\n")  # line 2: good
        out.write(b"NEW-0002,2026-01-01,,name," + b"x" * 200_000 + b",\n")  # line 3: a line over 64 KB
        out.write(b",".join([b"c"] * 10_000) + b"\n")  # line 4: 10,000 columns
        out.write(b"\x00\x01\xff\xfe\x80 binary garbage\n")  # line 5: not UTF-8
        out.write(b"NEW-0006\x00,2026-01-01,,name,,\n")  # line 6: a NUL in a reference
        out.write(member(8).encode() + b"\n")  # line 7: good again, after all that
        out.write(b'NEW-0009,2026-01-01,,name,"' + b"q\n" * 40_000 + b'",\n')  # line 8: a quoted field of 80 KB
    result = await run(demo, file_source(path), skip_bad=True)
    lines = [b.line for b in result.bad_rows]
    assert lines[:5] == [3, 4, 5, 6, 8]
    assert all(isinstance(b, BadRow) and b.line > 2 and b.line != 7 for b in result.bad_rows)
    assert result.created == 2 and await customer(demo, "NEW-0008") is not None


async def test_hostile_json_lines_are_bad_rows(demo, tmp_path):
    path = tmp_path / "members.jsonl"
    lines = [b"[" * 50_000, b'{"externalRef": 1, "registeredOn": "2026-01-01", "items": []}', b"\xff\xfe",
             b'{"externalRef": "A", "registeredOn": "2026-01-01", "items": [], "extra": 1}',
             b'{"externalRef": "B", "registeredOn": "2026-01-01", "items": [' + b'"name",' * 20_000 + b'"x"]}',
             b"1" * 70_000, b'"a string"']
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = await run(demo, file_source(path))
    assert [b.line for b in result.bad_rows] == [1, 2, 3, 4, 5, 6, 7] and not result.written


async def test_a_format_is_needed_when_the_extension_does_not_say(tmp_path):
    with pytest.raises(InvalidInput):
        file_source(tmp_path / "members.txt")
    assert customer_sync.format_of(tmp_path / "members.txt", "jsonl") is customer_sync.Format.jsonl


async def test_an_import_in_many_chunks_looking_up_every_row_does_what_one_chunk_does(demo, tmp_path, monkeypatch):
    """As in a business of many customers (every row looked up, not only the references read
    at the start) with the checked rows spooled to a file and applied a few at a time."""
    monkeypatch.setattr(customer_sync, "CHUNK", 4)
    monkeypatch.setattr(customer_sync, "MAX_KNOWN", 0)
    monkeypatch.setattr(customer_sync, "SPOOL_IN_MEMORY", 64)
    rows = demo_rows()
    rows[0] = f"LIJ-0001,{REGISTERED},,name;email;amount;credit_card_number;bank_account"  # phone out, bank in
    new = [f"NEW-{n:04d},2026-01-{n:02d},,name;email" for n in range(1, 11)]
    erased = f"LIJ-0006,{REGISTERED},,name;email"
    lines = ["externalRef,registeredOn,cancelledOn,items"] + new[:5] + rows + [erased] + new[5:] + [new[2]]
    result = await run(demo, file_source(write(tmp_path, lines)), skip_bad=True)
    assert (result.created, result.changed, result.unchanged, result.erased, result.written) == (10, 1, 6, 1, True)
    assert [(b.line, b.field, b.code) for b in result.bad_rows] == [(len(lines), "externalRef", ErrorCode.DUPLICATE)]
    assert await held(demo, "LIJ-0001", TODAY) == ["name", "email", "amount", "credit_card_number", "bank_account"]
    assert [(await customer(demo, f"NEW-{n:04d}")).registered_on for n in (1, 10)] == [date(2026, 1, 1),
                                                                                    date(2026, 1, 10)]
    assert await held(demo, "NEW-0010", TODAY) == ["name", "email"]
    assert len(await events(demo, "customer.import")) == 11
    again = await run(demo, file_source(write(tmp_path, lines[:-1], "again.csv")))
    assert (again.created, again.changed, again.unchanged, again.erased, again.written) == (0, 0, 17, 1, False)


async def test_the_file_is_checked_without_the_write_lock_and_items_changed_meanwhile_refuse_it(demo, tmp_path):
    """SQLite: another writer takes the write lock while the file is checked (within 0.2 s, where
    it would wait for the whole check if the import held it); it renames a data item the file
    names, and the import, which would apply rows checked against the old codes, writes nothing."""
    if not demo.url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    source, before = file_source(write(tmp_path, [HEADER] + [member(n) for n in range(1, 4)])), await state(demo)
    reads = []

    def rows_read_while_another_writes():
        reads.append(len(reads) + 1)
        with closing(sqlite3.connect(sa.make_url(demo.url).database, timeout=0.2, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE data_item SET code = 'amount_jpy' WHERE code = 'amount'")
            other.execute("COMMIT")
        yield from source()

    with pytest.raises(VersionConflict) as refused:
        await run(demo, rows_read_while_another_writes)
    assert refused.value.field == "items"
    assert await state(demo) == before
    assert reads == [1]  # the file is read once: the rows applied are the rows checked
