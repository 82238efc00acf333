"""The past never changes (issue 12 item 5, DESIGN.md "Rules" and "Time"): the answer of
`handlings(asOf: D, includeExcluded: true)`, once day D is over, is the same whatever the
registry is told afterwards.

Hypothesis plays random histories on a copy of the demo registry (tests/conftest.py's
template, one fresh database per example), on SQLite and on PostgreSQL: days follow each
other on an injected clock, and on each day a few writes, each made as the gateway makes it
(its own writer session, committed or, refused, rolled back): registering a customer (with
the voluntary phone or not), cancelling one (today or scheduled ahead), giving or
withdrawing the phone, a scoped request submitted and completed, a contract's transition,
an entrustment added or removed, an Art. 29 provision record, a subcontractor or the recipient
moved to another country or given or denied an Art. 28 basis. Refusals (RegistryError) are
part of the game. At the end of each day the handlings of a few customers on that day (now
and then on a day a little before) are recorded, and one asked again must not have moved; at
the end of the history each is asked again, afresh and through one BusinessContexts as the
gateway asks, and must be identical. Answers are asked as the gateway asks them, knowing
today (a party's jurisdiction then read from its columns from today on, from its history
before), and at the end also without it (always from the history).

Every write takes effect today or later (none corrects the past on purpose), so no
recorded answer may move. On failure Hypothesis shrinks the history (up to its five minutes
per backend) and prints it, and the notes say what each write did. The size:
PI_GATEWAY_FUZZ_EXAMPLES x 2/5 histories per backend (8 for `make test`, 40 at CI's 100,
.ci/run), derandomized, so a CI run is reproducible.
"""

import itertools
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlmodel import select

from registry import contracts, customers, provisions, requests, subcontractors
from registry.clock import Clock
from registry.db import Database
from registry.demo import BUSINESS
from registry.enums import ContractStatus, ForeignTransferBasis, RequestKind, RequestStatus
from registry.errors import ProvisionNotApplicable, RegistryError
from registry.handling import BusinessContexts, party_key, resolve_handlings
from registry.models import Contract, Customer, Entrustment, Provision, Subcontractor
from tests.conftest import BACKENDS, POSTGRES_URL, demo_registry

EXAMPLES = max(1, int(os.environ.get("PI_GATEWAY_FUZZ_EXAMPLES", "20")) * 2 // 5)  # 8; CI: 40 (.ci/run)
ACTOR = "property-test"
SEEDED_ON = date(2026, 11, 25)  # the demo template's day (tests/conftest.py TEST_CLOCK)
PURPOSES = ["P1", "P2", "P3", "P4", "P5"]
ITEMS = ["name", "email", "phone", "amount", "credit_card_number", "bank_account"]
PROVIDED = ["name", "amount", "credit_card_number", "bank_account"]  # what the demo's provision names
ON_POSTGRES = pytest.param("postgresql", marks=pytest.mark.skipif(
    not POSTGRES_URL, reason="PostgreSQL: set PI_GATEWAY_TEST_POSTGRES_URL to run this test on PostgreSQL"))


# --- The writes of a history: indexes pick among what exists then, modulo its number ----------


@dataclass(frozen=True)
class Register:
    phone: bool
    payment: str | None


@dataclass(frozen=True)
class Cancel:
    customer: int
    days_ahead: int  # 0: today


@dataclass(frozen=True)
class ChangePhone:
    customer: int
    give: bool


@dataclass(frozen=True)
class Request:
    customer: int
    kind: RequestKind
    scope: tuple  # purposes, items, recipients (empty: all) or (code, add) pairs of a correction


@dataclass(frozen=True)
class Transition:
    contract: int  # among the contracts whose stored status allows the move when `fitting`
    to: ContractStatus
    fitting: bool


@dataclass(frozen=True)
class AddEntrustment:
    contract: int
    purposes: tuple[str, ...]
    items: tuple[str, ...]


@dataclass(frozen=True)
class RemoveEntrustment:
    entrustment: int


@dataclass(frozen=True)
class RecordProvision:
    customer: int
    days_back: int
    items: tuple[str, ...]


@dataclass(frozen=True)
class MoveParty:
    party: int  # among the subcontractors and the demo's recipient
    country: str
    basis: ForeignTransferBasis | None


@dataclass(frozen=True)
class Day:
    gap: int  # days after the previous one
    writes: list
    asked: list[tuple[int, int]]  # customers whose handlings that day (or some days before) are recorded


def subset(codes: list[str], min_size: int = 0):
    return st.lists(st.sampled_from(codes), min_size=min_size, max_size=3, unique=True).map(tuple)


pick = st.integers(0, 31)
requests_ = st.one_of(
    st.builds(Request, pick, st.just(RequestKind.STOP_USE), subset(PURPOSES)),
    st.builds(Request, pick, st.just(RequestKind.DELETION), subset(ITEMS)),
    st.builds(Request, pick, st.just(RequestKind.STOP_THIRD_PARTY_PROVISION),
              st.sampled_from([(), ("the demo's recipient",)])),
    st.builds(Request, pick, st.just(RequestKind.CORRECTION), st.lists(
        st.tuples(st.sampled_from(ITEMS), st.booleans()), min_size=1, max_size=3, unique_by=lambda t: t[0]).map(tuple)),
)
writes = st.one_of(
    st.builds(Register, st.booleans(), st.sampled_from([None, "credit_card_number", "bank_account"])),
    st.builds(Cancel, pick, st.sampled_from([0, 0, 1, 7, 30])),
    st.builds(ChangePhone, pick, st.booleans()),
    requests_,
    st.builds(Transition, pick, st.sampled_from([ContractStatus.SUSPENDED, ContractStatus.ACTIVE,
                                                 ContractStatus.TERMINATED, ContractStatus.UNDER_REVIEW]),
              st.booleans()),
    st.builds(AddEntrustment, pick, subset(PURPOSES, 1), subset(ITEMS, 1)),
    st.builds(RemoveEntrustment, pick),
    st.builds(RecordProvision, pick, st.integers(0, 15), subset(PROVIDED, 1)),
    st.builds(MoveParty, pick, st.sampled_from(["JP", "US", "SG"]),
              st.sampled_from([None, ForeignTransferBasis.EQUIVALENT_MEASURES])),
)
days = st.lists(st.builds(Day, st.integers(1, 12), st.lists(writes, min_size=1, max_size=5),
                          st.lists(st.tuples(pick, st.sampled_from([0, 0, 0, 1, 3, 30])), min_size=1, max_size=3)),
                min_size=3, max_size=10)


# --- Playing a history -------------------------------------------------------------------------


def clock_on(day: date) -> Clock:
    """The registry's clock at 10:00 in Tokyo on `day`."""
    return Clock(timezone="Asia/Tokyo", fixed=datetime.combine(day, time(1, 0), tzinfo=timezone.utc))


def of(known: list[int], index: int) -> int:
    return known[index % len(known)]


class World:
    """The ids a history's indexes pick from, growing as writes succeed."""

    def __init__(self, database: Database):
        self.database = database
        self.refs = itertools.count(1)

    async def load(self) -> None:
        async with self.database.session() as session:
            self.customers = list((await session.exec(select(Customer.id).order_by(Customer.id))).all())
            self.contracts = list((await session.exec(select(Contract.id).order_by(Contract.id))).all())
            self.entrustments = list((await session.exec(select(Entrustment.id).order_by(Entrustment.id))).all())
            self.subcontractors = list((await session.exec(select(Subcontractor.id).order_by(Subcontractor.id))).all())
            [self.provision] = (await session.exec(select(Provision))).all()

    async def play(self, write, clock: Clock) -> str:
        """Make one write in a writer session of its own; what came of it, for the notes."""
        async with self.database.session(write=True) as session:
            try:
                return await self._write(session, write, clock)
            except ProvisionNotApplicable as refused:
                return f"refused {refused.code}: {refused.message}"
            except RegistryError as refused:
                assert not isinstance(write, RecordProvision), (write, refused)  # DESIGN.md "Time"
                return f"refused {refused.code}: {refused.message}"

    async def _write(self, session, write, clock: Clock) -> str:
        today = clock.today()
        match write:
            case Register(phone, payment):
                codes = ["name", "email", "amount"] + ["phone"] * phone + [payment] * (payment is not None)
                customer = await customers.register_customer(
                    session, actor=ACTOR, business_code=BUSINESS, external_ref=f"PROP-{next(self.refs)}",
                    display_name="Property (fictional)", data_item_codes=codes, registered_on=today, today=today)
                self.customers.append(customer.id)
                return f"customer {customer.id} registered holding {codes}"
            case Cancel(index, ahead):
                customer = await customers.cancel_customer(session, actor=ACTOR, id=of(self.customers, index),
                                                           cancelled_on=today + timedelta(days=ahead))
                return f"customer {customer.id} cancels on {customer.cancelled_on}"
            case ChangePhone(index, give):
                change = {"add_codes" if give else "remove_codes": ["phone"]}
                customer = await customers.change_customer_items(
                    session, actor=ACTOR, id=of(self.customers, index), effective_on=today, today=today, **change)
                return f"customer {customer.id}: {change}"
            case Request(index, kind, scope):
                return await self._request(session, of(self.customers, index), kind, scope, clock)
            case Transition(index, to, fitting):
                movable = self.contracts
                if fitting:
                    movable = list((await session.exec(select(Contract.id).where(Contract.status.in_(
                        [s for s, moves in contracts.ALLOWED_TRANSITIONS.items() if to in moves]))
                        .order_by(Contract.id))).all()) or self.contracts
                contract = await contracts.get_contract(session, of(movable, index))
                contract = await contracts.transition_contract(
                    session, actor=ACTOR, id=contract.id, expected_version=contract.version, to=to, today=today)
                return f"contract {contract.id} {to} from {today}"
            case AddEntrustment(index, purposes, items):
                entrustment = await contracts.add_entrustment(
                    session, actor=ACTOR, contract_id=of(self.contracts, index), purpose_codes=purposes,
                    data_item_codes=items, today=today)
                self.entrustments.append(entrustment.id)
                return f"entrustment {entrustment.id} under contract {entrustment.contract_id} " \
                       f"from {entrustment.effective_from}"
            case RemoveEntrustment(index):
                entrustment = await contracts.remove_entrustment(session, actor=ACTOR, id=of(self.entrustments, index),
                                                                 today=today)
                return f"entrustment {entrustment.id} ended on {entrustment.effective_until}"
            case RecordProvision(index, back, items):
                row = await provisions.record_provision(
                    session, actor=ACTOR, provision_id=self.provision.id, customer_id=of(self.customers, index),
                    provided_on=today - timedelta(days=back), data_item_codes=items, today=today)
                return f"provision record {row.id} for customer {row.customer_id} on {row.provided_on}"
            case MoveParty(index, country, basis):
                return await self._move(session, index, {"country": country, "foreign_transfer_basis": basis}, today)
        raise AssertionError(write)

    async def _move(self, session, index: int, changes: dict, today: date) -> str:
        parties = self.subcontractors + [None]  # None: the demo's recipient
        sub_id = parties[index % len(parties)]
        if sub_id is None:
            await provisions.update_recipient(session, actor=ACTOR, id=self.provision.recipient_id, changes=changes,
                                              today=today)
            return f"recipient {self.provision.recipient_id}: {changes} from {today}"
        sub = await subcontractors.get_subcontractor(session, sub_id)
        await subcontractors.update_subcontractor(session, actor=ACTOR, id=sub_id, expected_version=sub.version,
                                                  changes=changes, today=today)
        return f"subcontractor {sub_id}: {changes} from {today}"

    async def _request(self, session, customer_id: int, kind: RequestKind, scope: tuple, clock: Clock) -> str:
        named = {
            RequestKind.STOP_USE: lambda: {"purpose_codes": scope},
            RequestKind.DELETION: lambda: {"data_item_codes": scope},
            RequestKind.STOP_THIRD_PARTY_PROVISION: lambda: {"recipient_ids": [self.provision.recipient_id]
                                                             * len(scope)},
            RequestKind.CORRECTION: lambda: {"add_data_item_codes": [code for code, add in scope if add],
                                             "remove_data_item_codes": [code for code, add in scope if not add]},
        }[kind]()
        request = await requests.submit_request(session, actor=ACTOR, customer_id=customer_id, kind=kind,
                                                clock=clock, **named)
        for status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
            request = await requests.transition_request(session, actor=ACTOR, id=request.id, to=status, clock=clock)
        return f"request {request.id} {kind} {named} of customer {customer_id} completed on {request.resolved_on}"


async def answer(database: Database, customer_id: int, day: date, contexts: BusinessContexts | None = None,
                 today: date | None = None) -> list:
    """`handlings(asOf: day, includeExcluded: true)` of the customer, as comparable tuples."""
    async with database.session() as session:
        found = await resolve_handlings(session, customer_id, as_of=day, today=today, include_excluded=True,
                                        contexts=contexts)
    return [(party_key(h.party), h.role, h.excluded, tuple(h.exclusion_reasons),
             tuple(i.code for i in h.data_items), tuple(p.code for p in h.purposes)) for h in found]


@pytest.mark.parametrize("backend", [BACKENDS[0], ON_POSTGRES])
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(history=days)
async def test_no_write_changes_an_answer_recorded_for_a_past_day(backend, templates, tmp_path_factory, history):
    async with templates.copy(backend, demo_registry, tmp_path_factory.mktemp("history") / "registry.db") as url:
        database = Database.connect(url)
        try:
            world = World(database)
            await world.load()
            recorded: dict[tuple[int, date], list] = {}
            day = SEEDED_ON - timedelta(days=1)
            for plan in history:
                day += timedelta(days=plan.gap)
                clock = clock_on(day)
                for write in plan.writes:
                    outcome = await world.play(write, clock)
                    note(f"{day} {write}: {outcome}")
                    refused = outcome.split(":")[0] if outcome.startswith("refused") else "done"
                    event(f"{type(write).__name__}: {refused}")  # --hypothesis-show-statistics
                for index, back in plan.asked:
                    asked = (of(world.customers, index), day - timedelta(days=back))
                    now = await answer(database, *asked, today=day)
                    assert recorded.setdefault(asked, now) == now, "customer {} on {}, asked again".format(*asked)
            contexts = BusinessContexts()  # as the gateway asks: one per database, across versions
            for (customer_id, day), then in recorded.items():
                assert await answer(database, customer_id, day) == then, f"customer {customer_id} on {day}"
                assert await answer(database, customer_id, day, contexts, today=clock.today()) == then, \
                    f"customer {customer_id} on {day}"
        finally:
            await database.dispose()
