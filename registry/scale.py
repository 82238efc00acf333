"""Scale data: a realistic registry of any size, for benchmarks and capacity planning (issue 7).

The business, its purposes P1..P5, its data items and the provision to financial
institutions are the demo's (seed §2, §7, §11), written through the registry's own write
functions like the demo. Everything else - thousands of fictional subcontractors with their
contracts, entrustments and assessments, up to millions of customers with their held items,
requests and APPI Art. 29 provision records - is bulk-inserted (executemany on SQLite, COPY
on PostgreSQL) and bypasses the per-row write functions, which would take hours at this size.
The bulk rows still respect every rule those functions enforce:

- a contract that ever became ACTIVE (ACTIVE, SUSPENDED, TERMINATED, or ACTIVE past its
  expiry: EXPIRED) has all required clauses and its subcontractor's latest assessment is
  ADEQUATE or CONDITIONAL (APPI Art. 25);
- a re-entrusted subcontractor's parent holds an ACTIVE contract consenting to
  sub-entrustment (SUB_ENTRUSTMENT_CONSENT), chains are at most three deep and acyclic, and
  a child is entrusted no more than part of its parent's scope;
- versions count the writes the functions would have made; a completed DELETION has erased
  the customer's name and email (APPI Art. 35); provision records are kept three years
  (Art. 29) and exist only for active customers who have not stopped provision.

The whole seeding leaves one audit event, `registry.seed_scale`, on the business. Random
choices come from a seeded generator, so a given size always gives the same registry.
"""

import asyncio
import random
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry import demo, version
from registry.audit import record
from registry.businesses import get_business
from registry.clock import Clock
from registry.db import Database, is_sqlite
from registry.enums import (
    AssessmentResult,
    Certification,
    ContractClause,
    ContractStatus,
    ForeignTransferBasis,
    RequestKind,
    RequestStatus,
)
from registry.errors import InvalidInput
from registry.models import (
    Assessment,
    Business,
    Contract,
    ContractStatusChange,
    Customer,
    CustomerDataItem,
    DataItem,
    DataSubjectRequest,
    Entrustment,
    EntrustmentDataItem,
    EntrustmentPurpose,
    Provision,
    ProvisionDataItem,
    ProvisionRecord,
    ProvisionRecordDataItem,
    Purpose,
    Subcontractor,
    ThirdPartyRecipient,
)
from registry.provisions import RETENTION_YEARS

ACTOR = "scale-seed"
BATCH = 10_000  # rows per executemany / COPY
SQLITE_PARAMETERS = 999  # a statement's parameters at most, in every SQLite build
REQUEST_DUE_DAYS = 14
MAX_CHAIN_DEPTH = 3

Progress = Callable[[str, int, int], None]  # (stage, done, total)

COUNTRIES_ABROAD = ["US", "SG", "DE", "IE", "KR", "IN", "TW", "VN"]
JOBS = [
    "Payment processing", "Customer support desk", "Questionnaires and monitoring research",
    "Hosting and operations", "Newsletter delivery", "Invoice printing and mailing",
    "Usage analytics", "Data entry", "Identity verification", "Backup storage",
]
# (stored status, share); EXPIRED is stored ACTIVE with expires_on in the past
STATUS_MIX = [
    (ContractStatus.ACTIVE, 0.55), (ContractStatus.EXPIRED, 0.10), (ContractStatus.SUSPENDED, 0.07),
    (ContractStatus.TERMINATED, 0.08), (ContractStatus.DRAFT, 0.10), (ContractStatus.UNDER_REVIEW, 0.10),
]
WAS_ACTIVE = {ContractStatus.ACTIVE, ContractStatus.EXPIRED, ContractStatus.SUSPENDED, ContractStatus.TERMINATED}
REGISTRY_YEARS = 6  # the business's purposes and provision begin this many years before seeding
CUSTOMER_AGE_DAYS = (800, 1800)  # a customer registered between these many days ago

TRANSITIONS = {  # how many lifecycle moves lead to the status (each bumps the contract's version)
    ContractStatus.DRAFT: 0, ContractStatus.UNDER_REVIEW: 1, ContractStatus.ACTIVE: 2,
    ContractStatus.EXPIRED: 2, ContractStatus.SUSPENDED: 3, ContractStatus.TERMINATED: 3,
}
COMPLETED_KINDS = [RequestKind.DELETION, RequestKind.STOP_USE, RequestKind.STOP_THIRD_PARTY_PROVISION]


@dataclass
class ScaleSummary:
    """How many rows of each kind the seeding wrote."""

    business_code: str
    counts: dict[str, int] = field(default_factory=dict)


async def seed_scale(
    database: Database,
    *,
    customers: int,
    subcontractors: int,
    clock: Clock,
    progress: Progress | None = None,
    seed: int = 7,
) -> ScaleSummary:
    """Fill an empty, migrated registry with the demo business and `subcontractors`
    subcontractors and `customers` customers of realistic variety (see the module's
    docstring for the rules the bulk rows keep). Refuses a database that already holds a
    registry (INVALID_INPUT): scale data never mixes with real data."""
    if customers < 0 or subcontractors < 1:
        raise InvalidInput("scale seeding needs at least one subcontractor and no negative count",
                           field="subcontractors")
    report = progress or (lambda stage, done, total: None)
    async with database.session(write=True) as session:
        await _require_empty(session)
        since = clock.today() - timedelta(days=REGISTRY_YEARS * 365)  # before every generated date
        await demo.seed_business(session, since=since)
        await demo.seed_financial_institutions(session, since=since)
        scope = await _Scope.load(session)
    world = _World(random.Random(seed), clock, scope)
    summary = ScaleSummary(demo.BUSINESS)
    async with database.writer.begin() as conn:
        bulk = Bulk(conn, summary.counts)
        await world.write_subcontractors(bulk, subcontractors, report)
        await world.write_customers(bulk, customers, report)
        await bulk.reset_sequences()
        async with AsyncSession(bind=conn) as session:
            business = await get_business(session, demo.BUSINESS)
            await record(session, actor=ACTOR, action="registry.seed_scale", entity=business, before=None,
                         after={"customers": customers, "subcontractors": subcontractors, "rows": summary.counts})
            await session.flush()
        await version.bump(conn)  # the bulk rows bypass the writer session, which bumps by itself
    if not is_sqlite(database.url):
        async with database.writer.connect() as conn:  # fresh statistics for the planner
            await conn.execute(sa.text("ANALYZE"))
            # ANALYZE's statistics are transactional: a connection left without a commit rolls
            # them back (while pg_stat_user_tables still shows the analyse), and the planner then
            # scanned all 4 million item periods for 100 customers' held items (156 ms, 3 ms so)
            await conn.commit()
    return summary


async def _require_empty(session: AsyncSession) -> None:
    for model in (Business, Subcontractor, Customer, Contract, ThirdPartyRecipient):
        if (await session.exec(select(model.id).limit(1))).first() is not None:
            raise InvalidInput(
                f"the database already holds a registry ({model.__tablename__} has rows): scale data "
                "goes into an empty, migrated database only",
                field="scale",
            )


@dataclass
class _Scope:
    """The demo business's ids: purposes and items by code, the billing provision."""

    business_id: int
    purposes: dict[str, int]
    items: dict[str, int]
    voluntary: frozenset[int]
    provision_id: int
    provided_items: frozenset[int]

    @classmethod
    async def load(cls, session: AsyncSession) -> "_Scope":
        business = await get_business(session, demo.BUSINESS)
        purposes = (await session.exec(select(Purpose.code, Purpose.id).where(
            Purpose.business_id == business.id))).all()
        items = (await session.exec(select(DataItem.code, DataItem.id, DataItem.voluntary).where(
            DataItem.business_id == business.id))).all()
        provision_id = (await session.exec(select(Provision.id).where(
            Provision.business_id == business.id))).one()
        provided = (await session.exec(select(ProvisionDataItem.data_item_id).where(
            ProvisionDataItem.provision_id == provision_id))).all()
        return cls(business.id, dict(purposes), {code: id for code, id, _ in items},
                   frozenset(id for _, id, voluntary in items if voluntary), provision_id, frozenset(provided))


class Bulk:
    """Inserts plain tuples into one table at a time, converted by the columns' own types
    (so stored values read back exactly as the ORM's would): executemany on SQLite, COPY on
    PostgreSQL.

    With `background`, an insert on SQLite returns once its statement is queued on the
    connection's thread (aiosqlite runs a connection's statements there, one after another in
    the order given): the caller prepares its next rows while SQLite writes these. `settle`
    waits for the statements queued and raises the first failure; the caller settles before it
    relies on them (before reading what they wrote, before the commit)."""

    def __init__(self, conn, counts: dict[str, int], *, background: bool = False):
        self.conn = conn
        self.dialect = conn.dialect
        self.sqlite = conn.dialect.name == "sqlite"
        self.counts = counts
        self.tables: set[str] = set()
        self.background = background and self.sqlite
        self.pending: list[asyncio.Future] = []

    async def insert(self, model, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table = model.__table__
        converters = [(n, c) for n, name in enumerate(columns) if (c := self._converter(table.c[name].type))]
        if converters:
            rows = _converted(rows, converters)
        if self.sqlite:
            for sql, parameters in _sqlite_inserts(table.name, columns, rows, self.dialect.identifier_preparer.quote):
                if self.background:
                    driver = (await self.conn.get_raw_connection()).driver_connection
                    self.pending.append(asyncio.ensure_future(driver.executemany(sql, parameters)))
                    await asyncio.sleep(0)  # the task's first step queues the statement, before any later one
                else:
                    await self.conn.exec_driver_sql(sql, parameters)
        else:
            raw = await self.conn.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(table.name, records=rows, columns=list(columns))
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        if "id" in columns:
            self.tables.add(table.name)

    async def settle(self) -> None:
        """Wait for the inserts still running in the background; raise the first one's failure."""
        pending, self.pending = self.pending, []
        failures = [f for f in await asyncio.gather(*pending, return_exceptions=True) if isinstance(f, BaseException)]
        if failures:
            raise failures[0]

    def _converter(self, column_type: sa.types.TypeEngine) -> Callable[[object], object] | None:
        """The conversion the ORM applies on this dialect (its own type for the column): on
        SQLite dates and timestamps become the very text an ORM write stores, so executemany
        gets plain text rather than calling sqlite3's Python adapter for every value."""
        return column_type.dialect_impl(self.dialect).bind_processor(self.dialect)

    async def reset_sequences(self) -> None:
        """PostgreSQL: the id sequences continue after the ids given explicitly."""
        if self.sqlite:
            return
        for name in sorted(self.tables):
            await self.conn.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM \"{name}\"))"))


def _sqlite_inserts(table: str, columns: Sequence[str], rows: list[tuple], quote) -> list[tuple[str, list]]:
    """The statements and parameters that insert `rows` on SQLite: as many rows a statement as
    SQLITE_PARAMETERS allows, so the work of running a statement is shared by those rows (the
    item periods of 200,000 customers took 29% less time), the rest one a statement."""
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    one = f"({', '.join('?' for _ in columns)})"
    width = max(1, SQLITE_PARAMETERS // len(columns))
    whole = len(rows) - len(rows) % width
    inserts = []
    if whole:
        inserts.append((head + ", ".join([one] * width),
                        [tuple(chain.from_iterable(rows[n:n + width])) for n in range(0, whole, width)]))
    if whole < len(rows):
        inserts.append((head + one, rows[whole:]))
    return inserts


def _converted(rows: list[tuple], converters: list[tuple[int, Callable[[object], object]]]) -> list[tuple]:
    """The rows with the given columns converted, column by column: each distinct value is
    converted once and the rest is table lookups (a column of dates holds a few hundred)."""
    columns = list(zip(*rows))
    for n, convert in converters:
        try:
            table = {value: convert(value) for value in set(columns[n])}
        except TypeError:  # an unhashable value (a JSON list)
            columns[n] = [convert(value) for value in columns[n]]
        else:
            columns[n] = list(map(table.__getitem__, columns[n]))
    return list(zip(*columns))


def _chunks(total: int) -> Iterable[range]:
    for start in range(1, total + 1, BATCH):
        yield range(start, min(start + BATCH, total + 1))


def corporate_number(rng: random.Random) -> str:
    """A fictional but well-formed Japanese corporate number (check digit per the NTA rule)."""
    base = "".join(str(rng.randrange(10)) for _ in range(12))
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(base[::-1], start=1))
    return f"{9 - total % 9}{base}"


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class _World:
    """The random but rule-abiding facts of one scale registry."""

    def __init__(self, rng: random.Random, clock: Clock, scope: _Scope):
        self.rng, self.clock, self.scope = rng, clock, scope
        self.now, self.today = clock.now(), clock.today()

    # --- subcontractors, assessments, contracts, entrustments ---------------------------

    async def write_subcontractors(self, bulk: Bulk, total: int, report: Progress) -> None:
        rng = self.rng
        statuses = rng.choices([s for s, _ in STATUS_MIX], [w for _, w in STATUS_MIX], k=total + 1)
        parents, depth, consenting = self._chains(total, statuses)
        subs, assessments, contracts, changes = [], [], [], []
        entrustments, ent_purposes, ent_items = [], [], []
        scope_of: dict[int, tuple[list[int], list[int]]] = {}
        next_assessment = next_entrustment = 1
        for sub_id in range(1, total + 1):
            status = statuses[sub_id]
            abroad = rng.random() < 0.15
            country = rng.choice(COUNTRIES_ABROAD) if abroad else "JP"
            number = corporate_number(rng) if not abroad and rng.random() < 0.7 else None
            certifications = sorted(rng.sample(list(Certification), rng.choice([0, 1, 1, 2])))
            basis = ForeignTransferBasis.EQUIVALENT_MEASURES if abroad else None  # APPI Art. 28, recorded
            subs.append((sub_id, f"Scale Vendor {sub_id:05d} K.K. (fictional)", country, number,
                         parents.get(sub_id), certifications, basis, 1, self.now, self.now))
            for result, assessed_on in self._assessments(status):
                assessments.append((next_assessment, sub_id, result, assessed_on,
                                    assessed_on + timedelta(days=365), None, self.now))
                next_assessment += 1
            scopes = self._entrustment_scopes(scope_of.get(parents.get(sub_id)))
            scope_of[sub_id] = scopes[0]
            contracts.append(self._contract(sub_id, status, consenting.get(sub_id, False), len(scopes)))
            start, stored = contracts[-1][6], contracts[-1][4]
            if stored is not ContractStatus.DRAFT:  # one dated change: the status from the start (or today)
                changes.append((sub_id, stored, min(start, self.today), self.now, ACTOR, None))
            for purposes, items in scopes:
                entrustments.append((next_entrustment, sub_id, rng.choice(JOBS), self.now, start))
                ent_purposes += [(next_entrustment, p) for p in purposes]
                ent_items += [(next_entrustment, i) for i in items]
                next_entrustment += 1
        report("subcontractors", 0, total)
        await bulk.insert(Subcontractor, ["id", "name", "country", "corporate_number", "parent_id",
                                          "certifications", "foreign_transfer_basis", "version", "created_at",
                                          "updated_at"], subs)
        await bulk.insert(Assessment, ["id", "subcontractor_id", "result", "assessed_on", "next_due_on", "note",
                                       "created_at"], assessments)
        await bulk.insert(Contract, ["id", "business_id", "subcontractor_id", "reference", "status", "signed_on",
                                     "effective_from", "expires_on", "clauses", "version", "created_at",
                                     "updated_at"], contracts)
        # contract ids are the subcontractor ids: one contract each
        await bulk.insert(ContractStatusChange, ["contract_id", "status", "effective_on", "at", "actor", "reason"],
                          changes)
        await bulk.insert(Entrustment, ["id", "contract_id", "description", "created_at", "effective_from"],
                          entrustments)
        await bulk.insert(EntrustmentPurpose, ["entrustment_id", "purpose_id"], ent_purposes)
        await bulk.insert(EntrustmentDataItem, ["entrustment_id", "data_item_id"], ent_items)
        report("subcontractors", total, total)

    def _chains(self, total: int, statuses: list[ContractStatus]):
        """About 10% of subcontractors are re-entrusted by an earlier one whose contract is
        ACTIVE today (and so may consent), at most MAX_CHAIN_DEPTH deep."""
        rng = self.rng
        parents: dict[int, int] = {}
        depth = [1] * (total + 1)
        consenting: dict[int, bool] = {}
        eligible: list[int] = []  # ACTIVE today, depth below the maximum
        deep: list[int] = []  # eligible and themselves re-entrusted
        for sub_id in range(1, total + 1):
            if eligible and rng.random() < 0.10:
                parent = rng.choice(deep) if deep and rng.random() < 0.5 else rng.choice(eligible)
                parents[sub_id], depth[sub_id] = parent, depth[parent] + 1
                consenting[parent] = True
            if statuses[sub_id] is ContractStatus.ACTIVE and depth[sub_id] < MAX_CHAIN_DEPTH:
                eligible.append(sub_id)
                if depth[sub_id] > 1:
                    deep.append(sub_id)
        return parents, depth, consenting

    def _assessments(self, status: ContractStatus) -> list[tuple[AssessmentResult, date]]:
        """A contract that became ACTIVE needed an ADEQUATE or CONDITIONAL latest assessment."""
        rng = self.rng
        if status in WAS_ACTIVE:
            latest = rng.choices([AssessmentResult.ADEQUATE, AssessmentResult.CONDITIONAL], [0.8, 0.2])[0]
        elif rng.random() < 0.3:
            return []  # never assessed yet
        else:
            latest = rng.choices(list(AssessmentResult), [0.1, 0.5, 0.25, 0.15])[0]
        assessed_on = self.today - timedelta(days=rng.randrange(30, 400))
        history = [(latest, assessed_on)]
        if rng.random() < 0.4:
            history.insert(0, (rng.choice(list(AssessmentResult)), assessed_on - timedelta(days=365)))
        return history

    def _entrustment_scopes(self, parent_scope) -> list[tuple[list[int], list[int]]]:
        """1 to 3 (purposes, items) scopes; a re-entrusted party gets part of its parent's first."""
        rng, purposes, items = self.rng, list(self.scope.purposes.values()), list(self.scope.items.values())
        if parent_scope is not None:
            purposes, items = parent_scope
        scopes = []
        for _ in range(rng.randint(1, 3)):
            chosen_purposes = sorted(rng.sample(purposes, rng.randint(1, min(2, len(purposes)))))
            chosen_items = sorted(rng.sample(items, rng.randint(1, min(4, len(items)))))
            scopes.append((chosen_purposes, chosen_items))
        return scopes

    def _contract(self, sub_id: int, status: ContractStatus, consenting: bool, entrustments: int) -> tuple:
        rng, today = self.rng, self.today
        if status is ContractStatus.EXPIRED:
            expires = today - timedelta(days=rng.randrange(1, 400))
            start = expires - timedelta(days=365 * rng.randint(1, 3))
        elif status in (ContractStatus.DRAFT, ContractStatus.UNDER_REVIEW):
            start = today + timedelta(days=rng.randrange(0, 90))
            expires = start + timedelta(days=365 * rng.randint(1, 3))
        else:
            start = today - timedelta(days=rng.randrange(30, 1000))
            expiring = status is ContractStatus.ACTIVE and rng.random() < 0.08
            expires = today + timedelta(days=rng.randrange(1, 60) if expiring else rng.randrange(60, 1100))
        clauses = list(demo.REQUIRED)
        if consenting:
            clauses += [ContractClause.SUB_ENTRUSTMENT_CONSENT, ContractClause.AUDIT_RIGHTS]
        elif status not in WAS_ACTIVE and rng.random() < 0.2:
            clauses = clauses[:-1]  # a draft still missing a clause
        stored = ContractStatus.ACTIVE if status is ContractStatus.EXPIRED else status
        version = 1 + entrustments + TRANSITIONS[status]
        return (sub_id, self.scope.business_id, sub_id, f"LIJ-SC-{sub_id:05d}", stored,
                start - timedelta(days=14), start, expires, [c.value for c in clauses], version, self.now, self.now)

    # --- customers, held items, requests, provision records ----------------------------

    async def write_customers(self, bulk: Bulk, total: int, report: Progress) -> None:
        next_request = next_record = 1
        report("customers", 0, total)
        for chunk in _chunks(total):
            rows, held_rows, requests, records, record_items = [], [], [], [], []
            for customer_id in chunk:
                customer, held, completed, open_request = self._customer(customer_id)
                rows.append(customer)
                until = None
                if completed is not None:
                    requests.append(self._completed_request(next_request, customer_id, completed))
                    next_request += 1
                    if completed is RequestKind.DELETION:  # the periods close the day before it took effect
                        until = requests[-1][8] - timedelta(days=1)
                held_rows += [(customer_id, item, customer[5], until) for item in held]
                if open_request:
                    requests.append(self._open_request(next_request, customer_id))
                    next_request += 1
                if completed is None and customer[6] is None and self.rng.random() < 0.10:
                    provided_on = self.today - timedelta(days=self.rng.randrange(1, 400))
                    records.append((next_record, self.scope.provision_id, customer_id, provided_on,
                                    years_after(provided_on, RETENTION_YEARS), self.now))
                    record_items += [(next_record, item) for item in held if item in self.scope.provided_items]
                    next_record += 1
            await bulk.insert(Customer, ["id", "business_id", "external_ref", "display_name", "email",
                                         "registered_on", "cancelled_on", "version", "created_at", "updated_at"],
                              rows)
            await bulk.insert(CustomerDataItem, ["customer_id", "data_item_id", "effective_from", "effective_until"],
                              held_rows)
            await bulk.insert(DataSubjectRequest, ["id", "customer_id", "kind", "status", "detail", "received_at",
                                                   "due_on", "resolved_at", "resolved_on", "note", "version"],
                              requests)
            await bulk.insert(ProvisionRecord, ["id", "provision_id", "customer_id", "provided_on", "retain_until",
                                                "created_at"], records)
            await bulk.insert(ProvisionRecordDataItem, ["record_id", "data_item_id"], record_items)
            report("customers", chunk[-1], total)

    def _customer(self, customer_id: int):
        """One customer: name and email always, phone (voluntary) for about 60%, payment data
        for most; about 5% cancelled; about 1% with a completed DELETION, STOP_USE or
        STOP_THIRD_PARTY_PROVISION, and a few with an open disclosure request."""
        rng, items = self.rng, self.scope.items
        held = [items["name"], items["email"]]
        if rng.random() < 0.6:
            held.append(items["phone"])
        if rng.random() < 0.85:
            held.append(items["amount"])
            if rng.random() < 0.65:
                held.append(items["credit_card_number"])
            if rng.random() < 0.3:
                held.append(items["bank_account"])
        version = 1
        cancelled_on = None
        if rng.random() < 0.05:
            cancelled_on = self.today - timedelta(days=rng.randrange(1, 700))
            version += 1
        low, high = CUSTOMER_AGE_DAYS
        registered_on = self.today - timedelta(days=low + customer_id % (high - low))
        completed = rng.choice(COMPLETED_KINDS) if rng.random() < 0.01 else None
        name, email = f"Customer {customer_id} (fictional)", f"c{customer_id}@example.test"
        if completed is RequestKind.DELETION:
            name = email = None  # erased on completion (APPI Art. 35)
            version += 1
        row = (customer_id, self.scope.business_id, f"LIJ-S{customer_id:07d}", name, email, registered_on,
               cancelled_on, version, self.now, self.now)
        return row, held, completed, rng.random() < 0.003

    def _completed_request(self, request_id: int, customer_id: int, kind: RequestKind) -> tuple:
        received = self.now - timedelta(days=self.rng.randrange(20, 400))
        resolved = received + timedelta(days=self.rng.randrange(1, 14))
        return (request_id, customer_id, kind, RequestStatus.COMPLETED, None, received,
                self.clock.local_date(received) + timedelta(days=REQUEST_DUE_DAYS), resolved,
                self.clock.local_date(resolved), "scale seed: handled", 3)

    def _open_request(self, request_id: int, customer_id: int) -> tuple:
        received = self.now - timedelta(days=self.rng.randrange(0, 10))
        return (request_id, customer_id, RequestKind.DISCLOSURE, RequestStatus.RECEIVED,
                "Please disclose what you hold about me.", received,
                self.clock.local_date(received) + timedelta(days=REQUEST_DUE_DAYS), None, None, None, 1)
