"""Customer sync: the member system's customers, upserted by `externalRef` (issue 14).

A registry of a million members is filled and kept current by a file from the member system,
not by typing. Each row names a customer (`externalRef`), the day they registered, the day
they cancel (if any), the data items held for them and, optionally, their name and email:

    externalRef,registeredOn,cancelledOn,items,displayName,email
    LIJ-0001,2025-10-21,,name;email;amount,Hanako Yamada,hanako@example.test

as CSV (the last two columns optional, `items` separated by `;`) or as JSON Lines with the
same keys (`items` a list). The GraphQL mutation `importCustomers` passes up to 1,000 rows.

What a row does, in valid time (DESIGN.md "Time"):

- a new `externalRef` is registered on `registeredOn`, holding its items from that day, as
  `customers.register_customer` does (and cancelled on `cancelledOn` when given);
- for a known one, items added open a period from the import's day (the registry's today)
  and items withdrawn close their period the day before, as `customers.change_items` does;
  a newly given `cancelledOn` cancels (scheduled when ahead) under `cancel_customer`'s rules;
  a changed name or email is updated; a withdrawn cancellation that lies ahead is withdrawn;
- a row that would rewrite the past is a bad row: another `registeredOn` than the registry's,
  another `cancelledOn` than the one recorded (a customer cancels once: INVALID_TRANSITION,
  as `cancel_customer` says), or no `cancelledOn` for a cancellation already in effect;
- a row that changes nothing writes nothing: no audit event, no version bump;
- a customer erased by a completed DELETION (APPI Art. 35, registry/requests.py) is never
  re-personalised: the whole row is skipped and counted (`erased`), since its name, email
  and items are exactly what the erasure removed. Not a bad row: the member system may keep
  the member for its own reasons, and one erased member must not block every later sync.

A column absent from the header (a key absent from a JSON line or a mutation row) leaves the
registry's value alone; present but empty clears it.

All or nothing by default: a first streaming pass checks every row's shape against the
business's item codes, holding no lock (other writers go on), and a second applies the rows
checked in one writer's transaction, chunk by chunk, and finds the rows that contradict the
registry; item codes changed in between refuse the import (VERSION_CONFLICT), as its rows were
checked against the old ones.
Any bad row and nothing is written, unless `skip_bad`, which writes the good rows; either way
every bad row is reported by its line (the physical line of the file where the record starts,
the header being line 1; for the mutation, its 1-based index). Messages name the field, never
a personal value. Each created or changed customer gets a `customer.import` audit event and a
version bump, the import one `customer.import_summary` event with counts only, and the
registry version rises once per import that changed anything (the writer session's commit).

Memory stays bounded whatever the file's size: the file is streamed once and never held, the
rows checked wait for the second pass in an unnamed temporary file (`_Spool`), lines and
records are capped at 64 KB, and the duplicate check keeps one 64-bit hash per
`externalRef` (two distinct references sharing a hash, about one chance in 10^7 for a million,
would show as a duplicate and refuse the file: a false refusal, never a wrong write).
"""

import csv
import json
import marshal
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.businesses import MAX_CODES, get_business, list_businesses
from registry.enums import ErrorCode, RequestKind, RequestScope, RequestStatus
from registry.errors import Duplicate, InvalidInput, VersionConflict
from registry.models import (
    AuditEvent,
    Business,
    Customer,
    CustomerDataItem,
    DataItem,
    DataSubjectRequest,
    RequestTarget,
    utcnow,
)
from registry.scale import Bulk

REQUIRED = ("externalRef", "registeredOn", "cancelledOn", "items")
OPTIONAL = ("displayName", "email")
MAX_LINE = 64 * 1024  # bytes of one physical line, and characters of one CSV record
MAX_SHOWN_BAD = 1000  # bad rows reported one by one; the rest are counted
MAX_MUTATION_ROWS = 1000
CHUNK = 10_000  # rows looked up and written together
MAX_KNOWN = 10_000  # a business's customers whose references an import reads at its start
SPOOL_IN_MEMORY = 4 * 1024 * 1024  # bytes of checked rows kept in memory before they go to a file
LIMITS = {"externalRef": 100, "displayName": 200, "email": 320}
ACTION = "customer.import"
SUMMARY_ACTION = "customer.import_summary"
_BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_KEYS = frozenset(REQUIRED + OPTIONAL)
MAX_REMEMBERED = 4096  # distinct `items` and date texts whose checking is remembered
MAX_REMEMBERED_TEXT = 256
_CUSTOMER = Customer.__table__
_PERIOD = CustomerDataItem.__table__
# the customer's columns as `audit.snapshot` lists them, so import events read like the others
_COLUMNS = [c.key for c in _CUSTOMER.columns]
_NEW_DOCUMENT = [*_COLUMNS, "data_item_codes"]  # a new customer's `customer.import` event

Progress = Callable[[str, int, int | None], None]  # (stage, rows done, rows in all or None)


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


EXTENSIONS = {".csv": Format.csv, ".jsonl": Format.jsonl, ".ndjson": Format.jsonl}


@dataclass(frozen=True)
class BadRow:
    """A row not imported: where (`line`), which input field, and why (no personal value)."""

    line: int
    field: str | None
    code: ErrorCode
    message: str


class CustomerRow(NamedTuple):
    """One checked row. `display_name`/`email` are None when given empty; `has_*` is False
    when the column or key is absent, which leaves the registry's value alone. A plain tuple,
    as a million of them are made and spooled (`_Spool`)."""

    line: int
    external_ref: str
    registered_on: date
    cancelled_on: date | None
    item_codes: tuple[str, ...]
    display_name: str | None = None
    email: str | None = None
    has_display_name: bool = False
    has_email: bool = False


@dataclass
class ImportResult:
    """What an import did, or would have done: `written` False means nothing was written."""

    rows: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    erased: int = 0
    bad: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    written: bool = False

    def refuse(self, bad: BadRow) -> None:
        self.bad += 1
        if len(self.bad_rows) < MAX_SHOWN_BAD:
            self.bad_rows.append(bad)

    def refusal(self) -> InvalidInput | None:
        """Why nothing was written because of bad rows (all or nothing), or None."""
        if not self.bad or self.written:
            return None
        return InvalidInput(f"{self.bad:,} bad row{'' if self.bad == 1 else 's'}: nothing written", field="rows")

    def summary(self) -> str:
        return (f"created {self.created:,}, changed {self.changed:,}, unchanged {self.unchanged:,}, "
                f"bad {self.bad:,}" + (f", erased (skipped) {self.erased:,}" if self.erased else ""))


Raw = dict[str, Any] | BadRow
Source = Callable[[], Iterator[tuple[int, Raw]]]  # each call reads the rows afresh: (line, fields)


# --- reading: a file (CSV or JSON Lines) or a list of rows ------------------------------------


def format_of(path: str | Path, given: Format | str | None = None) -> Format:
    """The format named, or the one the file's extension says (.csv, .jsonl, .ndjson)."""
    if given is not None:
        try:
            return Format(given)
        except ValueError:
            raise InvalidInput(f"format {str(given)[:20]!r} is not csv or jsonl", field="format") from None
    found = EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        raise InvalidInput("the file's extension is not .csv, .jsonl or .ndjson: name the format", field="format")
    return found


def file_source(path: str | Path, fmt: Format | str | None = None) -> Source:
    """The rows of the file at `path`, read afresh at each call; a wrong CSV header is
    INVALID_INPUT (field `header`), checked by the first read."""
    chosen = format_of(path, fmt)

    def read() -> Iterator[tuple[int, Raw]]:
        with open(path, "rb") as stream:
            yield from (read_csv(stream) if chosen is Format.csv else read_jsonl(stream))

    return read


def list_source(rows: Sequence[dict[str, Any]]) -> Source:
    """Rows given as dicts with the JSON Lines keys, numbered from 1 (the mutation's input)."""
    return lambda: iter(enumerate(rows, start=1))


class _Lines:
    """A binary stream's physical lines, decoded, each at most MAX_LINE bytes: a longer one
    is cut (the rest read and dropped) and its number remembered. Counts what a CSV record
    has consumed since `start`, so a record spread over many lines stays bounded too."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.number = 0
        self.too_long: set[int] = set()
        self.not_text: set[int] = set()
        self.consumed = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        raw = self.stream.readline(MAX_LINE + 1)
        if not raw:
            raise StopIteration
        self.number += 1
        if self.number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            self.too_long.add(self.number)
            while (rest := self.stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            raw = b"\n"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.not_text.add(self.number)
            line = "\n"
        self.consumed += len(line)
        if self.consumed > MAX_LINE + 1:  # one full line and its newline is still a record
            raise _RecordTooLong()
        return line


class _RecordTooLong(Exception):
    """A CSV record (a quoted field running over lines) longer than MAX_LINE characters."""


def read_csv(stream: IO[bytes]) -> Iterator[tuple[int, Raw]]:
    """The records of a CSV file as dicts by header name, each with the number of the line
    it starts on; a malformed record is a BadRow. The header is checked first."""
    lines = _Lines(stream)
    reader = csv.reader(lines, strict=True)
    columns = _header(lines, reader)
    while True:
        start, lines.consumed = lines.number + 1, 0
        try:
            record = next(reader)
        except StopIteration:
            return
        except _RecordTooLong:
            yield start, BadRow(start, None, ErrorCode.INVALID_INPUT, f"the record is longer than {MAX_LINE:,} characters")
            continue
        except csv.Error as error:
            yield start, BadRow(start, None, ErrorCode.INVALID_INPUT, f"not a CSV record ({str(error)[:80]})")
            continue
        spanned = range(start, lines.number + 1)
        if any(n in lines.too_long for n in spanned):
            yield start, BadRow(start, None, ErrorCode.INVALID_INPUT, f"the line is longer than {MAX_LINE:,} bytes")
        elif any(n in lines.not_text for n in spanned):
            yield start, BadRow(start, None, ErrorCode.INVALID_INPUT, "the line is not UTF-8 text")
        elif not record or record == [""]:
            continue  # a blank line
        elif len(record) != len(columns):
            more = "more" if len(record) > len(columns) else "fewer"
            yield start, BadRow(start, None, ErrorCode.INVALID_INPUT,
                                f"{len(record):,} columns, {more} than the header's {len(columns)}")
        else:
            yield start, dict(zip(columns, record))


def _header(lines: _Lines, reader) -> list[str]:
    """The header's column names: the four required ones in order, then any of the optional
    ones, once each; anything else refuses the file (INVALID_INPUT, field `header`)."""
    expected = ",".join(REQUIRED + OPTIONAL)
    try:
        columns = next(reader)
    except StopIteration:
        raise InvalidInput(f"the file is empty: line 1 must be the header {expected}", field="header") from None
    except (csv.Error, _RecordTooLong):
        columns = None
    if columns is None or lines.too_long or lines.not_text or lines.number != 1:
        raise InvalidInput(f"line 1 is not a CSV header: expected {expected}", field="header")
    columns = [c.strip() for c in columns]
    extra = columns[len(REQUIRED):]
    if (tuple(columns[:len(REQUIRED)]) != REQUIRED or len(set(extra)) != len(extra)
            or not set(extra) <= set(OPTIONAL)):
        raise InvalidInput(f"line 1 must be the header {expected} (the last two columns optional)", field="header")
    return columns


def read_jsonl(stream: IO[bytes]) -> Iterator[tuple[int, Raw]]:
    """One JSON object per line, numbered from 1; blank lines are skipped."""
    lines = _Lines(stream)
    while True:
        lines.consumed = 0
        try:
            text = next(lines)
        except StopIteration:
            return
        except _RecordTooLong:
            text = "\n"
            lines.too_long.add(lines.number)
        number = lines.number
        if number in lines.too_long:
            yield number, BadRow(number, None, ErrorCode.INVALID_INPUT, f"the line is longer than {MAX_LINE:,} bytes")
            continue
        if number in lines.not_text:
            yield number, BadRow(number, None, ErrorCode.INVALID_INPUT, "the line is not UTF-8 text")
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            value = None
        if not isinstance(value, dict):
            yield number, BadRow(number, None, ErrorCode.INVALID_INPUT, "the line is not a JSON object")
            continue
        yield number, value


# --- checking one row ---------------------------------------------------------------------------


class _Checker:
    """Checks rows one by one against the business's item codes and today, and remembers the
    references seen (as hashes) to refuse a second row of the same customer. The answers for
    an `items` text and a date text are remembered (a few hundred distinct ones make up a
    member file), up to MAX_REMEMBERED of each and only for short texts, so memory stays bounded."""

    def __init__(self, item_codes: Iterable[str], today: date):
        self.codes = frozenset(item_codes)
        self.today = today
        self.seen: set[int] = set()
        self.days: dict[str, date] = {}
        self.item_lists: dict[str, tuple[str, ...]] = {}

    def check(self, line: int, raw: Raw) -> CustomerRow | BadRow:
        if isinstance(raw, BadRow):
            return raw
        try:
            row = self._row(line, raw)
        except _Bad as bad:
            return BadRow(line, bad.field, bad.code, bad.message)
        key = hash(row.external_ref)
        if key in self.seen:
            return BadRow(line, "externalRef", ErrorCode.DUPLICATE, "externalRef repeats an earlier row's")
        self.seen.add(key)
        return row

    def _row(self, line: int, raw: dict[str, Any]) -> CustomerRow:
        if not raw.keys() <= _KEYS:
            unknown = sorted(k for k in raw if k not in _KEYS)
            raise _Bad(None, f"unknown key {str(unknown[0])[:40]!r}")
        ref = _text(raw.get("externalRef"), "externalRef", required=True)
        registered = self._day(raw.get("registeredOn"), "registeredOn", required=True)
        if registered > self.today:
            raise _Bad("registeredOn", f"registeredOn {registered} lies in the future")
        cancelled = self._day(raw.get("cancelledOn"), "cancelledOn")
        if cancelled is not None and cancelled < registered:
            raise _Bad("cancelledOn", f"cancelledOn {cancelled} lies before registeredOn {registered}")
        codes = self._items(raw.get("items"))
        email = _text(raw.get("email"), "email")
        if email is not None and "@" not in email:
            raise _Bad("email", "email is not an email address")
        return CustomerRow(line, ref, registered, cancelled, codes, _text(raw.get("displayName"), "displayName"),
                           email, "displayName" in raw, "email" in raw)

    def _day(self, value: Any, name: str, *, required: bool = False) -> date | None:
        if type(value) is str and len(value) == 10:
            known = self.days.get(value)
            if known is not None:
                return known
        day = _day(value, name, required=required)
        if day is not None and len(value) == 10 and len(self.days) < MAX_REMEMBERED:
            self.days[value] = day
        return day

    def _items(self, value: Any) -> tuple[str, ...]:
        remember = type(value) is str and len(value) <= MAX_REMEMBERED_TEXT
        if remember and (known := self.item_lists.get(value)) is not None:
            return known
        if isinstance(value, str):
            codes = value.split(";")
        elif isinstance(value, list) and all(isinstance(code, str) for code in value):
            codes = value
        else:
            raise _Bad("items", "items must be data-item codes (a list, or separated by ';')")
        codes = tuple(dict.fromkeys(c.strip() for c in codes if c.strip()))
        if len(codes) > MAX_CODES:
            raise _Bad("items", f"items names {len(codes):,} codes; at most {MAX_CODES} are allowed")
        unknown = [c for c in codes if c not in self.codes]
        if unknown:
            raise _Bad("items", f"unknown data item code {unknown[0][:64]!r}", ErrorCode.NOT_FOUND)
        if remember and len(self.item_lists) < MAX_REMEMBERED:
            self.item_lists[value] = codes
        return codes


class _Bad(Exception):
    def __init__(self, field: str | None, message: str, code: ErrorCode = ErrorCode.INVALID_INPUT):
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


def _text(value: Any, name: str, *, required: bool = False) -> str | None:
    """Text bounded as `register_customer` bounds it; blank is absent."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _Bad(name, f"{name} must be text")
    text = value.strip()
    if not text:
        if required:
            raise _Bad(name, f"{name} must not be empty")
        return None
    if len(text) > LIMITS[name]:
        raise _Bad(name, f"{name} must be at most {LIMITS[name]} characters")
    if _CONTROL.search(text):  # a NUL (which PostgreSQL cannot store), a line break, a control
        raise _Bad(name, f"{name} holds a control character")
    return text


def _day(value: Any, name: str, *, required: bool = False) -> date | None:
    """A calendar date written YYYY-MM-DD; blank is absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Bad(name, f"{name} must not be empty")
        return None
    text = value.strip() if isinstance(value, str) else None
    try:
        if text is None or len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise _Bad(name, f"{name} is not a date written YYYY-MM-DD") from None


# --- importing ----------------------------------------------------------------------------------


async def resolve_business(session: AsyncSession, code: str | None) -> Business:
    """The business named, or the only one there is (INVALID_INPUT with several or none)."""
    if code is not None:
        return await get_business(session, code)
    found = await list_businesses(session)
    if len(found) != 1:
        raise InvalidInput(f"name the business: the registry holds {len(found)}", field="businessCode")
    return found[0]


async def import_customers(
    session: AsyncSession,
    *,
    actor: str,
    business_code: str | None,
    source: Source,
    today: date,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Upsert the customers `source` reads into the business (see the module docstring for
    what each row does). All or nothing unless `skip_bad`. The import ends the session's
    transactions itself: a short one reads the business's item codes, the checking pass holds
    no lock (other writers go on meanwhile), and one writer's transaction applies the rows,
    committed only when something changed and rolled back otherwise."""
    report = progress or (lambda stage, done, total: None)
    business_id = (await resolve_business(session, business_code)).id
    items = await _item_ids(session, business_id)
    await session.rollback()  # on SQLite the writer's BEGIN IMMEDIATE: not held while the file is checked
    result = ImportResult()
    with _Spool() as spool:
        checker = _Checker(items, today)
        for line, raw in source():  # pass 1: the file's own shape, nothing read from the registry
            result.rows += 1
            checked = checker.check(line, raw)
            if isinstance(checked, BadRow):
                result.refuse(checked)
            else:
                spool.add(checked)
            if result.rows % CHUNK == 0:
                report("checked", result.rows, None)
        report("checked", result.rows, result.rows)
        del checker  # its hashes
        apply = skip_bad or not result.bad
        if await _item_ids(session, business_id) != items:  # the first statement of the writer's transaction
            await session.rollback()
            raise VersionConflict("the business's data items changed while the file was checked: "
                                  "run the import again", field="items")
        writer = _Writer(await session.connection(), business_id, items, today=today, actor=actor, apply=apply)
        await writer.start()
        done = 0
        try:
            for chunk in spool.chunks():  # pass 2: the checked rows against the registry, in one transaction
                await writer.chunk(chunk, result)
                done += len(chunk)
                report("imported", done, result.rows)
        finally:
            await writer.settle()
    report("imported", result.rows, result.rows)
    if not apply or (result.bad and not skip_bad) or not (result.created or result.changed):
        await session.rollback()
        return result
    await writer.summary(result, skip_bad)
    await session.commit()
    result.written = True
    if not writer.sqlite and result.created >= MAX_KNOWN:
        await _analyze(session)
    return result


async def _analyze(session: AsyncSession) -> None:
    """PostgreSQL: fresh statistics for the tables a large import grew, in a transaction of
    its own. Autovacuum comes to them only later, and until then the planner, counting on the
    business's few customers, may scan all of them for each chunk of the next import."""
    async with session.bind.connect() as conn:
        await conn.execute(sa.text("ANALYZE customer, customer_data_item"))
        await conn.commit()


async def _item_ids(session: AsyncSession, business_id: int) -> dict[str, int]:
    """The business's data items: id by code."""
    return dict((await session.exec(select(DataItem.code, DataItem.id).where(
        DataItem.business_id == business_id))).all())


class _Spool:
    """The rows the checking pass found good, kept for the applying pass so the file is read
    and checked once: chunks of plain tuples (dates as ordinals) in a temporary file, in memory
    while small (a mutation's rows). The file has no name (it is unlinked at once) and goes
    with the process, so the names and emails it holds are never left on disk."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        self.pending: list[tuple] = []

    def __enter__(self) -> "_Spool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.file.close()

    def add(self, row: CustomerRow) -> None:
        cancelled = row.cancelled_on
        self.pending.append((*row[:2], row.registered_on.toordinal(), cancelled and cancelled.toordinal(), *row[4:]))
        if len(self.pending) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            blob = marshal.dumps(self.pending)
            self.file.write(len(blob).to_bytes(8, "little") + blob)
            self.pending = []

    def chunks(self) -> Iterator[list[CustomerRow]]:
        """The rows added, in their order, CHUNK at a time."""
        self._flush()
        self.file.seek(0)
        days = _Days()
        while size := int.from_bytes(self.file.read(8), "little"):
            yield [CustomerRow(line, ref, days[registered], cancelled and days[cancelled], *rest)
                   for line, ref, registered, cancelled, *rest in marshal.loads(self.file.read(size))]


class _Days(dict):
    """Dates by ordinal, each made once."""

    def __missing__(self, ordinal: int) -> date:
        self[ordinal] = found = date.fromordinal(ordinal)
        return found


async def import_rows(
    session: AsyncSession,
    *,
    actor: str,
    business_code: str | None,
    rows: Sequence[dict[str, Any]],
    today: date,
    skip_bad: bool = False,
) -> ImportResult:
    """`import_customers` for a small batch given as dicts with the JSON Lines keys, numbered
    from 1 (the `importCustomers` mutation): at most MAX_MUTATION_ROWS (INVALID_INPUT)."""
    if len(rows) > MAX_MUTATION_ROWS:
        raise InvalidInput(f"{len(rows):,} rows; at most {MAX_MUTATION_ROWS:,} at once (a larger sync goes through "
                           "`pi-gateway customers import`)", field="rows")
    return await import_customers(session, actor=actor, business_code=business_code, source=list_source(rows),
                                  today=today, skip_bad=skip_bad)


class _Writer:
    """Applies checked rows chunk by chunk on the session's connection, with plain tuples and
    Core statements (no ORM object per row): one lookup of the chunk's customers, their item
    periods and erasures, then bulk inserts and updates. With `apply` False it only finds the
    rows that contradict the registry."""

    def __init__(self, conn: AsyncConnection, business_id: int, items: dict[str, int], *, today: date,
                 actor: str, apply: bool):
        self.conn, self.business_id, self.items, self.today = conn, business_id, items, today
        self.codes = {id: code for code, id in items.items()}
        self.actor, self.apply = actor, apply
        self.now = utcnow()
        self.sqlite = conn.dialect.name == "sqlite"
        self.bulk = Bulk(conn, {}, background=True)  # SQLite writes a chunk while the next is planned
        self.next_id = 0
        self.known: set[str] | None = None

    async def start(self) -> None:
        """Note where ids continue (SQLite) and, when the business has at most MAX_KNOWN
        customers (a first sync), their references: a chunk then looks up only the rows naming
        one of them, usually none. Another writer cannot add a customer meanwhile on SQLite
        (BEGIN IMMEDIATE, registry/db.py); on PostgreSQL one it adds makes the insert fail on
        the unique reference, a Duplicate, as when every row was looked up."""
        if self.sqlite:
            self.next_id = (await self.conn.scalar(sa.select(sa.func.max(_CUSTOMER.c.id)))) or 0
        refs = (await self.conn.scalars(sa.select(_CUSTOMER.c.external_ref).where(
            _CUSTOMER.c.business_id == self.business_id).limit(MAX_KNOWN + 1))).all()
        if len(refs) <= MAX_KNOWN:
            self.known = set(refs)

    async def chunk(self, rows: list[CustomerRow], result: ImportResult) -> None:
        if not rows:
            return
        refs = [r.external_ref for r in rows]
        if self.known is not None:
            refs = [ref for ref in refs if ref in self.known]
        existing = {}
        if refs:
            await self.settle()  # on SQLite the previous chunk's rows are read only once written
            existing = await self._existing(refs)
        ids = [c.id for c in existing.values()]
        periods, erased = await self._periods(ids), await self._erased(ids)
        plan = _Plan()
        for row in rows:
            stored = existing.get(row.external_ref)
            if stored is None:
                plan.create(row)
                result.created += 1
            elif stored.id in erased:
                result.erased += 1
            elif (bad := self._contradiction(row, stored)) is not None:
                result.refuse(bad)
            elif plan.change(row, stored, periods.get(stored.id, []), self):
                result.changed += 1
            else:
                result.unchanged += 1
        if self.apply:
            await self.settle()  # one chunk written at a time: memory holds two at most
            await self._write(plan)

    async def settle(self) -> None:
        """Wait for the chunk being written; a customer registered by another writer meanwhile
        (on PostgreSQL, whose COPY is not run in the background, raised at once) is a Duplicate."""
        try:
            await self.bulk.settle()
        except Exception as error:
            if not _unique_violation(error):
                raise
            raise Duplicate("a customer of the file was registered meanwhile: run the import again",
                            field="externalRef") from None

    def _contradiction(self, row: CustomerRow, stored: sa.Row) -> BadRow | None:
        """Why the row would rewrite the registry's past, or contradict a rule of
        `cancel_customer`; None when it does neither."""
        if row.registered_on != stored.registered_on:
            return BadRow(row.line, "registeredOn", ErrorCode.INVALID_INPUT,
                          f"registeredOn differs from the registry's {stored.registered_on}: "
                          "a sync does not rewrite the past")
        recorded = stored.cancelled_on
        if recorded is not None and row.cancelled_on is not None and row.cancelled_on != recorded:
            return BadRow(row.line, "cancelledOn", ErrorCode.INVALID_TRANSITION,
                          f"the customer cancels on {recorded} already")
        if recorded is not None and row.cancelled_on is None and recorded <= self.today:
            return BadRow(row.line, "cancelledOn", ErrorCode.INVALID_TRANSITION,
                          f"the cancellation in effect since {recorded} cannot be withdrawn: "
                          "a sync does not rewrite the past")
        return None

    def _among(self, column: sa.Column, values: list) -> sa.ColumnElement[bool]:
        """`column IN values` with one parameter, as thousands of parameters, one a value, are
        slow to render (and on PostgreSQL to prepare and plan): `= ANY` of an array on
        PostgreSQL, the values of a JSON array (`json_each`) on SQLite."""
        if self.sqlite:
            return column.in_(sa.select(sa.column("value")).select_from(
                sa.func.json_each(sa.bindparam(None, orjson.dumps(values).decode(), type_=sa.String))))
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))

    async def _existing(self, refs: list[str]) -> dict[str, sa.Row]:
        stmt = sa.select(*_CUSTOMER.columns).where(
            _CUSTOMER.c.business_id == self.business_id, self._among(_CUSTOMER.c.external_ref, refs))
        return {row.external_ref: row for row in await self.conn.execute(stmt)}

    async def _periods(self, ids: list[int]) -> dict[int, list[tuple]]:
        """The item periods of each customer that hold today or begin later."""
        if not ids:
            return {}
        stmt = sa.select(_PERIOD.c.id, _PERIOD.c.customer_id, _PERIOD.c.data_item_id, _PERIOD.c.effective_from,
                         _PERIOD.c.effective_until).where(
            self._among(_PERIOD.c.customer_id, ids),
            sa.or_(_PERIOD.c.effective_until.is_(None), _PERIOD.c.effective_until >= self.today),
        ).order_by(_PERIOD.c.effective_from, _PERIOD.c.id)
        found: dict[int, list[tuple]] = {}
        for row in await self.conn.execute(stmt):
            found.setdefault(row.customer_id, []).append(tuple(row))
        return found

    async def _erased(self, ids: list[int]) -> set[int]:
        """The customers whose DELETION of every item has completed (their data was erased)."""
        if not ids:
            return set()
        request = DataSubjectRequest.__table__
        target = RequestTarget.__table__
        scoped = sa.select(target.c.request_id).where(target.c.request_id == request.c.id,
                                                      target.c.scope == RequestScope.DATA_ITEM.value)
        stmt = sa.select(request.c.customer_id).where(
            self._among(request.c.customer_id, ids), request.c.kind == RequestKind.DELETION.value,
            request.c.status == RequestStatus.COMPLETED.value, ~sa.exists(scoped))
        return set((await self.conn.execute(stmt)).scalars())

    async def _write(self, plan: "_Plan") -> None:
        if plan.new:
            ids = await self._new_ids(len(plan.new))
            now = self.now.isoformat()  # the event's document, in plain JSON types (a million of them)
            event = (self.now, self.actor, ACTION, Customer.__name__)
            items, business_id = self.items, self.business_id
            for customer_id, (row, codes) in zip(ids, plan.new):
                registered, cancelled = row.registered_on, row.cancelled_on
                plan.customers.append((customer_id, business_id, row.external_ref, row.display_name, row.email,
                                       registered, cancelled, 1, self.now, self.now))
                plan.opened += [(customer_id, items[c], registered, None) for c in codes]
                document = (customer_id, business_id, row.external_ref, row.display_name, row.email,
                            registered.isoformat(), cancelled and cancelled.isoformat(), 1, now, now, list(codes))
                plan.events.append((*event, customer_id, None, _json(dict(zip(_NEW_DOCUMENT, document)))))
            try:
                await self.bulk.insert(Customer, _COLUMNS, plan.customers)
            except Exception as error:  # a customer of the chunk registered by another writer meanwhile
                if not _unique_violation(error):
                    raise
                raise Duplicate("a customer of the file was registered meanwhile: run the import again",
                                field="externalRef") from None
        if plan.updates:
            await self._lock(plan.updates)
            await self.conn.execute(_UPDATE_CUSTOMER, plan.updates)
        if plan.closed:
            await self.conn.execute(_CLOSE, [{"p_id": id, "p_day": day} for id, day in plan.closed])
        if plan.moved:
            await self.conn.execute(_MOVE, [{"p_id": id, "p_day": day} for id, day in plan.moved])
        if plan.dropped:
            await self.conn.execute(_PERIOD.delete().where(self._among(_PERIOD.c.id, plan.dropped)))
        await self.bulk.insert(CustomerDataItem, ["customer_id", "data_item_id", "effective_from", "effective_until"],
                               plan.opened)
        await self.bulk.insert(AuditEvent, _EVENT_COLUMNS, plan.events)

    async def _new_ids(self, count: int) -> list[int]:
        if self.sqlite:
            first, self.next_id = self.next_id + 1, self.next_id + count
            return list(range(first, self.next_id + 1))
        stmt = sa.text("SELECT nextval(pg_get_serial_sequence('customer', 'id')) FROM generate_series(1, :n)")
        return list((await self.conn.execute(stmt, {"n": count})).scalars())

    async def _lock(self, updates: list[dict[str, Any]]) -> None:
        """PostgreSQL: lock the rows about to change and make sure no other writer changed
        them since they were read (SQLite's BEGIN IMMEDIATE already kept every writer out)."""
        if self.sqlite:
            return
        read = {u["p_id"]: u["p_version"] for u in updates}
        stmt = sa.select(_CUSTOMER.c.id, _CUSTOMER.c.version).where(
            self._among(_CUSTOMER.c.id, list(read))).with_for_update(key_share=True)
        if any(read[id] != version for id, version in await self.conn.execute(stmt)):
            raise VersionConflict("a customer of the file was changed meanwhile: run the import again",
                                  field="externalRef")

    async def summary(self, result: ImportResult, skip_bad: bool) -> None:
        """The one event of the whole import: counts only, no personal data."""
        after = {"rows": result.rows, "created": result.created, "changed": result.changed,
                 "unchanged": result.unchanged, "erased_skipped": result.erased, "bad": result.bad,
                 "skip_bad": skip_bad}
        await self.bulk.insert(AuditEvent, _EVENT_COLUMNS, [
            (self.now, self.actor, SUMMARY_ACTION, Business.__name__, self.business_id, None, _json(after))])


def _unique_violation(error: Exception) -> bool:
    if isinstance(error, sa.exc.IntegrityError):
        return True
    return type(error).__name__ == "UniqueViolationError"  # asyncpg's, raised by COPY


_EVENT_COLUMNS = ["at", "actor", "action", "entity_type", "entity_id", "before", "after"]


def _param(name: str, column: sa.Column) -> sa.BindParameter:
    """A parameter converted as the column converts its values (dates and UTC stamps)."""
    return sa.bindparam(name, type_=column.type)


_UPDATE_CUSTOMER = _CUSTOMER.update().where(
    _CUSTOMER.c.id == _param("p_id", _CUSTOMER.c.id), _CUSTOMER.c.version == _param("p_version", _CUSTOMER.c.version)
).values(display_name=_param("p_display_name", _CUSTOMER.c.display_name),
         email=_param("p_email", _CUSTOMER.c.email),
         cancelled_on=_param("p_cancelled_on", _CUSTOMER.c.cancelled_on),
         version=_CUSTOMER.c.version + 1,
         updated_at=_param("p_updated_at", _CUSTOMER.c.updated_at))
_CLOSE = _PERIOD.update().where(_PERIOD.c.id == _param("p_id", _PERIOD.c.id)).values(
    effective_until=_param("p_day", _PERIOD.c.effective_until))
_MOVE = _PERIOD.update().where(_PERIOD.c.id == _param("p_id", _PERIOD.c.id)).values(
    effective_from=_param("p_day", _PERIOD.c.effective_from))


def _json(document: dict[str, Any]) -> str:
    """The document as `audit.record` stores one (sorted keys, text as is), dates in ISO form.
    orjson, as a million events are encoded: json.dumps took a sixth of the import's time."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME,
                        default=_plain).decode()


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


@dataclass
class _Plan:
    """The writes one chunk needs, as plain rows."""

    new: list[tuple[CustomerRow, tuple[str, ...]]] = field(default_factory=list)
    customers: list[tuple] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    opened: list[tuple] = field(default_factory=list)  # (customer_id, data_item_id, from, until)
    closed: list[tuple[int, date]] = field(default_factory=list)  # (period id, last day)
    moved: list[tuple[int, date]] = field(default_factory=list)  # (period id, new first day)
    dropped: list[int] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)

    def create(self, row: CustomerRow) -> None:
        self.new.append((row, row.item_codes))

    def change(self, row: CustomerRow, stored: sa.Row, periods: list[tuple], writer: _Writer) -> bool:
        """Plan the row's changes to a known customer; False when it changes nothing. Items
        change from today as `customers.change_items` changes them: a withdrawn item's period
        holding today closes yesterday and one beginning today or later goes; an item given
        again ahead of a later period moves that period's start to today."""
        today = writer.today
        holding = {p[2] for p in periods if p[3] <= today}  # the query kept only periods not ended by today
        wanted = {writer.items[c] for c in row.item_codes}
        added, removed = wanted - holding, holding - wanted
        values = {
            "display_name": row.display_name if row.has_display_name else stored.display_name,
            "email": row.email if row.has_email else stored.email,
            "cancelled_on": row.cancelled_on,
        }
        if not added and not removed and all(values[k] == getattr(stored, k) for k in values):
            return False
        stored = stored._asdict()  # the customer's columns, for the event (only a changed row's)
        for period_id, _, item, start, _ in periods:
            if item in removed:
                if start >= today:
                    self.dropped.append(period_id)
                else:
                    self.closed.append((period_id, today - timedelta(days=1)))
        for item in sorted(added):
            later = [p for p in periods if p[2] == item and p[3] > today]
            if later:
                self.moved.append((later[0][0], today))
            else:
                self.opened.append((stored["id"], item, today, None))
        codes = writer.codes
        before = stored | {"data_item_codes": [codes[i] for i in sorted(holding)]}
        after = stored | values | {"version": stored["version"] + 1, "updated_at": writer.now,
                                   "data_item_codes": [codes[i] for i in sorted(wanted)],
                                   "added": [codes[i] for i in sorted(added)],
                                   "removed": [codes[i] for i in sorted(removed)],
                                   "effective_on": today}
        self.updates.append({"p_id": stored["id"], "p_version": stored["version"], "p_updated_at": writer.now,
                             **{f"p_{k}": v for k, v in values.items()}})
        self.event(writer, stored["id"], before, after)
        return True

    def event(self, writer: _Writer, customer_id: int, before: dict | None, after: dict) -> None:
        self.events.append((writer.now, writer.actor, ACTION, Customer.__name__, customer_id,
                            None if before is None else _json(before), _json(after)))
