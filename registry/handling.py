"""Handling resolution: who handles which of a customer's data items, for which purposes.

DESIGN.md "Handling resolution", for customer C of business B on date D (`as_of`), every
fact read as it stood on D (DESIGN.md "Time", registry/periods.py):
0. Before C's registration nobody handles C (CUSTOMER_NOT_REGISTERED).
1. Held items H: the items whose held periods hold on D (a completed DELETION or CORRECTION,
   a withdrawal, closed the others' periods).
2. Permitted purposes P: B's purposes in effect on D while C is active on D; once cancelled
   on or before D, only those usable after cancellation (seed §5); less the purposes a
   COMPLETED STOP_USE resolved on or before D names (all when it names none; USE_STOPPED).
3. B itself handles H for P (CONTROLLER).
4. Each contract of B: its subcontractor handles union(items) ∩ H for union(purposes) ∩ P
   over the entrustments in effect on D, while the contract's status on D is ACTIVE and D
   lies in effective_from..expires_on (seed §9). A re-entrusted subcontractor handles at most
   what its parent handles, only while the parent handles (CHAIN_BROKEN) and under a parent
   contract that consents to sub-entrustment (SUB_ENTRUSTMENT_NOT_PERMITTED). A contract none
   of whose entrustments is in effect on D puts nothing of C's in question: it is excluded
   with NO_ENTRUSTMENT_IN_EFFECT within its term, CONTRACT_NOT_IN_EFFECT outside it, and
   never with NO_HELD_DATA_ITEMS or NO_PERMITTED_PURPOSES, which are about C.
5. Each provision in effect on D (seed §7, APPI Art. 27): its recipient handles provided
   items ∩ H for provided purposes ∩ P, until a COMPLETED STOP_THIRD_PARTY_PROVISION that
   names it (or names none).
6. A subcontractor or recipient outside Japan on D with no APPI Art. 28 basis recorded for D
   handles nothing (FOREIGN_TRANSFER_WITHOUT_BASIS), and so neither does anyone it re-entrusted
   (registry/jurisdictions.py: for today and later the party's own columns, for an earlier day
   its dated history, read for all the business's parties in one query).
A party failing a condition or left with no items or no purposes is excluded, with every
reason that applies; an excluded party's items and purposes show what it would handle.

The rules are evaluated by `derive_handlings` on a customer-independent `BusinessContext`
and a `CustomerState`, so breach impact (registry/breach.py) applies the very same rules.

A business's context (all its contracts, entrustments and chains: about a thousand contracts
at scale) is the bulk of a resolution's reading, and the same for every customer, so a caller
that serves many resolutions (the gateway) hands in a `BusinessContexts`, which keeps the last
few under the registry version they were read at (registry/version.py): any write anywhere
makes them unusable at once. Deriving a thousand contracts' handlings is the bulk of the
remaining work, and its result depends on the customer only through their `CustomerState`,
which many customers share (the same held items, both active), so the derived handlings are
kept under the same version too. Without one (the CLI, most tests) everything is read afresh:
the registry itself holds no state between calls.

`resolve_handlings_of` resolves many customers in one go (a page of customers, federation's
`_entities`): the same few queries whatever their number, each distinct state derived once.
`resolve_handlings`, for one customer, is that call with one id.
"""

from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry import jurisdictions, version
from registry.contract_status import recorded_status_on
from registry.db import writes
from registry.enums import (
    ContractClause,
    ContractStatus,
    ExclusionReason,
    HandlingRole,
    RequestKind,
    RequestStatus,
)
from registry.errors import NotFound
from registry.models import (
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
    ProvisionPurpose,
    Purpose,
    RequestTarget,
    Subcontractor,
    ThirdPartyRecipient,
)
from registry.periods import Period, in_effect

_REASON_ORDER = {reason: n for n, reason in enumerate(ExclusionReason)}
HOME_COUNTRY = "JP"  # APPI's: a party elsewhere receives a foreign transfer (Art. 28)


def lacks_foreign_basis(party) -> bool:
    """A party (or its `jurisdictions.Jurisdiction` on a day) outside Japan with no APPI Art. 28
    basis recorded: it may not receive the data."""
    return party.country != HOME_COUNTRY and party.foreign_transfer_basis is None


Jurisdictions = dict[tuple[str, int], jurisdictions.Jurisdiction]  # on a day, by `party_key`


@dataclass(frozen=True)
class Handling:
    party: Business | Subcontractor | ThirdPartyRecipient
    role: HandlingRole
    data_items: list[DataItem]
    purposes: list[Purpose]
    contract: Contract | None = None
    provision: Provision | None = None
    chain: list[Subcontractor] = field(default_factory=list)
    excluded: bool = False
    exclusion_reasons: list[ExclusionReason] = field(default_factory=list)


@dataclass(frozen=True)
class Entrusted:
    """One entrustment as resolution reads it: its period, items and purposes."""

    period: Period
    items: frozenset[int]
    purposes: frozenset[int]


@dataclass(frozen=True)
class BusinessContext:
    """Everything about a business that handling resolution needs, whoever the customer and
    whatever the day: every period and dated change, read once, asked per day."""

    business: Business
    purposes: dict[int, Purpose]
    items: dict[int, DataItem]
    contracts: list[Contract]
    history: dict[int, list[ContractStatusChange]]  # per contract, in the order made
    entrusted: dict[int, list[Entrusted]]  # per contract
    subcontractors: dict[int, Subcontractor]
    provisions: list[Provision]
    recipients: dict[int, ThirdPartyRecipient]
    provision_items: dict[int, frozenset[int]]
    provision_purposes: dict[int, frozenset[int]]

    def purposes_on(self, day: date, *, cancelled: bool = False) -> frozenset[int]:
        """The purposes in effect on `day`; once cancelled, only those usable after it."""
        return frozenset(p.id for p in self.purposes.values()
                         if Period.of(p).holds_on(day) and (p.usable_after_cancellation or not cancelled))

    def entrusted_on(self, contract_id: int, day: date) -> tuple[frozenset[int], frozenset[int]] | None:
        """The items and purposes the contract's entrustments in effect on `day` name; None
        when none is in effect that day (not begun yet, or all ended)."""
        current = [e for e in self.entrusted.get(contract_id, ()) if e.period.holds_on(day)]
        if not current:
            return None
        return (frozenset().union(*(e.items for e in current)), frozenset().union(*(e.purposes for e in current)))

    def provisions_on(self, day: date) -> list[Provision]:
        return [p for p in self.provisions if Period.of(p).holds_on(day)]


@dataclass(frozen=True)
class CustomerState:
    """What a customer's situation on a date contributes: held items H and purposes P, and
    what their completed requests stopped (for the reasons given)."""

    held: frozenset[int]
    permitted: frozenset[int]  # in effect, allowed by the customer's status, not stopped
    stopped: frozenset[int] = frozenset()  # purposes a completed STOP_USE stops
    stopped_recipients: frozenset[int] | None = frozenset()  # None: every recipient
    registered: bool = True

    def provision_stopped(self, recipient_id: int) -> bool:
        return self.stopped_recipients is None or recipient_id in self.stopped_recipients


# --- Loading ------------------------------------------------------------------------


async def _links(session: AsyncSession, owner_col, target_col, where) -> dict[int, frozenset[int]]:
    rows = (await session.exec(select(owner_col, target_col).where(where))).all()
    grouped: dict[int, set[int]] = defaultdict(set)
    for owner, target in rows:
        grouped[owner].add(target)
    return {owner: frozenset(targets) for owner, targets in grouped.items()}


async def _chain_subcontractors(session: AsyncSession, business_id: int) -> dict[int, Subcontractor]:
    """The subcontractors under contract with the business and all their parents, any depth."""
    reach = select(Contract.subcontractor_id.label("id")).where(Contract.business_id == business_id)
    reach = reach.cte("reach", recursive=True)
    # UNION (not UNION ALL) drops rows already seen, so a parent cycle terminates
    reach = reach.union(
        select(Subcontractor.parent_id).join(reach, Subcontractor.id == reach.c.id)
        .where(Subcontractor.parent_id.is_not(None))
    )
    rows = await session.exec(select(Subcontractor).where(Subcontractor.id.in_(select(reach.c.id))))
    return {s.id: s for s in rows}


async def _rows(session: AsyncSession, stmt) -> list:
    return list((await session.exec(stmt)).all())


async def load_business_context(session: AsyncSession, business: Business,
                                contexts: "BusinessContexts | None" = None) -> BusinessContext:
    """The business's context as the session's transaction sees it, reused from `contexts`
    when it holds one read at the same registry version (a writer's session, which may see its
    own uncommitted changes, always reads afresh and caches nothing).

    A context is shared by every request that finds it: its rows are detached from the session
    that read them, all their columns loaded, and nobody may change them.
    """
    if contexts is None or writes(session):
        return await _read_business_context(session, business)
    cache = contexts
    at = await version.current(session)  # the session's snapshot, which the context is read from
    found = cache.get(at, business.id)
    if found is None:
        found = await _read_business_context(session, business)
        for row in _rows_of(found):
            if row in session:
                session.expunge(row)
        cache.put(at, business.id, found)
    return found


async def _read_business_context(session: AsyncSession, business: Business) -> BusinessContext:
    """The business's purposes, items, contracts with their entrustments, subcontractors
    (with their parent chains) and active provisions, in a fixed number of queries."""
    bid = business.id
    contract_of_business = Contract.business_id == bid
    provisions = await _rows(session, select(Provision, ThirdPartyRecipient).join(
        ThirdPartyRecipient, ThirdPartyRecipient.id == Provision.recipient_id,
    ).where(Provision.business_id == bid).order_by(Provision.id))
    of_business = Provision.business_id == bid
    entrustments = await _rows(session, select(Entrustment).join(Contract, Contract.id == Entrustment.contract_id)
                               .where(contract_of_business).order_by(Entrustment.id))
    of_contracts = sa.and_(Entrustment.contract_id == Contract.id, contract_of_business)
    entrusted_items = await _links(session, EntrustmentDataItem.entrustment_id, EntrustmentDataItem.data_item_id,
                                   sa.and_(EntrustmentDataItem.entrustment_id == Entrustment.id, of_contracts))
    entrusted_purposes = await _links(session, EntrustmentPurpose.entrustment_id, EntrustmentPurpose.purpose_id,
                                      sa.and_(EntrustmentPurpose.entrustment_id == Entrustment.id, of_contracts))
    entrusted: dict[int, list[Entrusted]] = defaultdict(list)
    for e in entrustments:
        entrusted[e.contract_id].append(Entrusted(Period.of(e), entrusted_items.get(e.id, frozenset()),
                                                  entrusted_purposes.get(e.id, frozenset())))
    history: dict[int, list[ContractStatusChange]] = defaultdict(list)
    for change in await _rows(session, select(ContractStatusChange).join(
            Contract, Contract.id == ContractStatusChange.contract_id).where(contract_of_business)
            .order_by(ContractStatusChange.id)):
        history[change.contract_id].append(change)
    return BusinessContext(
        business=business,
        purposes={p.id: p for p in await _rows(session, select(Purpose).where(Purpose.business_id == bid))},
        items={i.id: i for i in await _rows(session, select(DataItem).where(DataItem.business_id == bid))},
        contracts=await _rows(session, select(Contract).where(contract_of_business).order_by(Contract.id)),
        history=dict(history),
        entrusted=dict(entrusted),
        subcontractors=await _chain_subcontractors(session, bid),
        provisions=[p for p, _ in provisions],
        recipients={r.id: r for _, r in provisions},
        provision_items=await _links(
            session, ProvisionDataItem.provision_id, ProvisionDataItem.data_item_id,
            sa.and_(ProvisionDataItem.provision_id == Provision.id, of_business)),
        provision_purposes=await _links(
            session, ProvisionPurpose.provision_id, ProvisionPurpose.purpose_id,
            sa.and_(ProvisionPurpose.provision_id == Provision.id, of_business)),
    )


def _rows_of(ctx: BusinessContext) -> list[SQLModel]:
    return [ctx.business, *ctx.purposes.values(), *ctx.items.values(), *ctx.contracts,
            *(change for changes in ctx.history.values() for change in changes),
            *ctx.subcontractors.values(), *ctx.provisions, *ctx.recipients.values()]


class BusinessContexts:
    """The business contexts of one database and the handlings derived from them, at the
    latest registry version seen, the least recently used out first. One per database: the
    gateway makes one in `create_app`."""

    SIZE = 8  # businesses: a registry serves a handful
    DERIVED = 32  # customer states over all businesses; each ~0.5 MB at a thousand contracts

    def __init__(self) -> None:
        self.version = -1
        self.entries: OrderedDict[int, BusinessContext] = OrderedDict()
        self.derived: OrderedDict[tuple, list[Handling]] = OrderedDict()

    def get(self, at: int, business_id: int) -> BusinessContext | None:
        return self._get(self.entries, at, business_id)

    def put(self, at: int, business_id: int, ctx: BusinessContext) -> None:
        self._put(self.entries, self.SIZE, at, business_id, ctx)

    def get_derived(self, at: int, key: tuple) -> list[Handling] | None:
        return self._get(self.derived, at, key)

    def put_derived(self, at: int, key: tuple, handlings: list[Handling]) -> None:
        self._put(self.derived, self.DERIVED, at, key, handlings)

    def _get(self, entries: OrderedDict, at: int, key):
        found = entries.get(key) if at == self.version else None
        if found is not None:
            entries.move_to_end(key)
        return found

    def _put(self, entries: OrderedDict, size: int, at: int, key, value) -> None:
        if at < self.version:  # a reader behind a write that another reader has already seen
            return
        if at > self.version:
            self.version = at
            self.entries.clear()
            self.derived.clear()
        entries[key] = value
        while len(entries) > size:
            entries.popitem(last=False)


def is_cancelled_on(customer: Customer, as_of: date) -> bool:
    """Cancelled on or before `as_of` (a cancellation may be scheduled for a later day)."""
    return customer.cancelled_on is not None and customer.cancelled_on <= as_of


def is_registered_on(customer: Customer, as_of: date) -> bool:
    return customer.registered_on <= as_of


async def completed_stops(session: AsyncSession, customer_ids: list[int], day: date) -> dict[int, list[tuple]]:
    """Per customer, their completed STOP_USE and STOP_THIRD_PARTY_PROVISION requests resolved
    on or before `day`, as rows (request id, kind, named target or None), a thousand customers
    a query."""
    found: dict[int, list[tuple]] = defaultdict(list)
    for n in range(0, len(customer_ids), 1000):
        rows = await session.exec(
            select(DataSubjectRequest.customer_id, DataSubjectRequest.id, DataSubjectRequest.kind,
                   RequestTarget.target_id)
            .outerjoin(RequestTarget, RequestTarget.request_id == DataSubjectRequest.id)
            .where(DataSubjectRequest.customer_id.in_(customer_ids[n:n + 1000]),
                   DataSubjectRequest.kind.in_([RequestKind.STOP_USE, RequestKind.STOP_THIRD_PARTY_PROVISION]),
                   DataSubjectRequest.status == RequestStatus.COMPLETED, DataSubjectRequest.resolved_on <= day))
        for customer_id, *stop in rows.all():
            found[customer_id].append(tuple(stop))
    return found


def customer_state(ctx: BusinessContext, as_of: date, *, held: frozenset[int], cancelled: bool,
                   registered: bool = True, stops=()) -> CustomerState:
    """The state of a customer on `as_of` from what was read about them: `stops` are rows
    (request id, kind, named target or None) of their completed STOP_USE and
    STOP_THIRD_PARTY_PROVISION requests resolved on or before `as_of`. Breach impact
    (registry/breach.py) builds the states of many customers at once with it."""
    named: dict[tuple[int, str], set[int]] = defaultdict(set)
    for request_id, kind, target in stops:
        named[(request_id, kind)].update(() if target is None else (target,))
    in_effect_purposes = ctx.purposes_on(as_of, cancelled=cancelled)
    stopped: set[int] = set()
    stopped_recipients: set[int] | None = set()
    for (_, kind), targets in named.items():
        if kind == RequestKind.STOP_USE:
            stopped |= targets or set(ctx.purposes)
        elif stopped_recipients is not None:
            stopped_recipients = (stopped_recipients | targets) if targets else None
    return CustomerState(
        held=held,
        permitted=in_effect_purposes - stopped,
        stopped=frozenset(stopped) & in_effect_purposes,
        stopped_recipients=None if stopped_recipients is None else frozenset(stopped_recipients),
        registered=registered,
    )


async def resolve_handlings(session: AsyncSession, customer_id: int, *, as_of: date, today: date | None = None,
                            include_excluded: bool = False,
                            contexts: BusinessContexts | None = None) -> list[Handling]:
    """Who handles which of the customer's data items on `as_of`, for which purposes and on
    what footing: the business first, then subcontractors by contract, then third parties
    by provision. Excluded parties only with `include_excluded`; `contexts` reuses what
    earlier resolutions read at the same registry version. Given `today`, a day from it on
    reads the parties' jurisdictions from their columns; an earlier day, or any without it,
    from their history."""
    found = await resolve_handlings_of(session, [customer_id], as_of=as_of, today=today,
                                       include_excluded=include_excluded, contexts=contexts)
    if customer_id not in found:
        raise NotFound(f"No customer with id {customer_id}", field="id")
    return found[customer_id]


async def resolve_handlings_of(session: AsyncSession, customer_ids: Iterable[int], *, as_of: date,
                               today: date | None = None, include_excluded: bool = False,
                               contexts: BusinessContexts | None = None) -> dict[int, list[Handling]]:
    """`resolve_handlings` for many customers at once, by id (an id naming no customer is
    left out), in a number of queries that does not grow with the customers: the customers
    with their businesses, their held items and their completed stop requests a thousand
    customers a query, each business's context once, and for a day before `today` each
    business's jurisdictions once (only when some handlings are not already derived)."""
    ids = list(dict.fromkeys(customer_ids))
    customers = await _customers_with_businesses(session, ids)
    held = await _held_items(session, [c.id for c, _ in customers], as_of)
    stops = await completed_stops(session, [c.id for c, _ in customers], as_of)
    ctxs: dict[int, BusinessContext] = {}
    derive = _Derivation(session, as_of, today, contexts)
    found: dict[int, list[Handling]] = {}
    for customer, business in customers:
        if business.id not in ctxs:
            ctxs[business.id] = await load_business_context(session, business, contexts)
        ctx = ctxs[business.id]
        state = customer_state(ctx, as_of, held=held.get(customer.id, frozenset()),
                               cancelled=is_cancelled_on(customer, as_of),
                               registered=is_registered_on(customer, as_of), stops=stops.get(customer.id, ()))
        handlings = await derive.handlings(ctx, state)
        found[customer.id] = list(handlings) if include_excluded else [h for h in handlings if not h.excluded]
    return found


async def _customers_with_businesses(session: AsyncSession, ids: list[int]) -> list[tuple[Customer, Business]]:
    """The customers of `ids` that exist, in the order of `ids`, each with its business."""
    rows: dict[int, tuple[Customer, Business]] = {}
    for n in range(0, len(ids), 1000):
        found = await session.exec(select(Customer, Business).join(Business, Business.id == Customer.business_id)
                                   .where(Customer.id.in_(ids[n:n + 1000])))
        rows.update((customer.id, (customer, business)) for customer, business in found.all())
    return [rows[i] for i in ids if i in rows]


async def _held_items(session: AsyncSession, customer_ids: list[int], day: date) -> dict[int, frozenset[int]]:
    """Per customer, the ids of the items held on `day` (none: absent), a thousand customers a query."""
    held: dict[int, set[int]] = defaultdict(set)
    for n in range(0, len(customer_ids), 1000):
        rows = await session.exec(select(CustomerDataItem.customer_id, CustomerDataItem.data_item_id).where(
            CustomerDataItem.customer_id.in_(customer_ids[n:n + 1000]), in_effect(CustomerDataItem, day)))
        for customer_id, item_id in rows.all():
            held[customer_id].add(item_id)
    return {customer_id: frozenset(items) for customer_id, items in held.items()}


class _Derivation:
    """The handlings of each (business, customer state) on one day, derived once per batch and
    reused across batches through `contexts` (shared: nobody may change the lists or what they
    hold); the parties' jurisdictions on a past day read once per business, when first needed."""

    def __init__(self, session: AsyncSession, as_of: date, today: date | None,
                 contexts: BusinessContexts | None) -> None:
        self.session, self.as_of, self.today = session, as_of, today
        self.contexts = None if contexts is None or writes(session) else contexts
        self.derived: dict[tuple, list[Handling]] = {}
        self.on_day: dict[int, Jurisdictions] = {}

    async def handlings(self, ctx: BusinessContext, state: CustomerState) -> list[Handling]:
        key = (ctx.business.id, state, self.as_of)
        found = self.derived.get(key)
        if found is not None:
            return found
        at = None if self.contexts is None else await version.current(self.session)
        found = None if at is None else self.contexts.get_derived(at, key)
        if found is None:
            found = derive_handlings(ctx, state, self.as_of, await self._jurisdictions(ctx))
            if at is not None:
                self.contexts.put_derived(at, key, found)
        self.derived[key] = found
        return found

    async def _jurisdictions(self, ctx: BusinessContext) -> Jurisdictions | None:
        """Their columns from today on (their open period, which began by today), else their history."""
        if self.today is not None and self.as_of >= self.today:
            return None
        bid = ctx.business.id
        if bid not in self.on_day:
            self.on_day[bid] = await jurisdictions.on_day(self.session, bid, self.as_of)
        return self.on_day[bid]


# --- The rules ------------------------------------------------------------------------


def derive_handlings(ctx: BusinessContext, state: CustomerState, as_of: date,
                     on_day: Jurisdictions | None = None) -> list[Handling]:
    """Every party's handling for a customer in `state` on `as_of`, excluded ones included;
    each party's jurisdiction that day from `on_day` when it is there, else its columns (what
    holds today and on)."""
    reach = _Reach(ctx, state, as_of, on_day or {})
    return (
        [_controller(ctx, state, as_of)]
        + [reach.contract_handling(c) for c in ctx.contracts]
        + [_third_party(ctx, state, p, on_day or {}) for p in ctx.provisions_on(as_of)]
    )


def _emptiness_reasons(state: CustomerState, items: frozenset, purposes: frozenset,
                       wanted: frozenset) -> list[ExclusionReason]:
    """Why a party handles nothing: no held items, or no purposes left of those it would
    handle (`wanted`): USE_STOPPED when the customer's STOP_USE took them, else
    NO_PERMITTED_PURPOSES. Before registration, CUSTOMER_NOT_REGISTERED first."""
    reasons = _registration_reasons(state)
    if not items:
        reasons.append(ExclusionReason.NO_HELD_DATA_ITEMS)
    if not purposes:
        stopped = wanted & state.stopped
        reasons.append(ExclusionReason.USE_STOPPED if stopped else ExclusionReason.NO_PERMITTED_PURPOSES)
    return reasons


def _registration_reasons(state: CustomerState) -> list[ExclusionReason]:
    """Before the customer's registration nobody handles them (DESIGN.md "Time")."""
    return [] if state.registered else [ExclusionReason.CUSTOMER_NOT_REGISTERED]


def _handling(ctx: BusinessContext, party, role, items, purposes, reasons, **extra) -> Handling:
    reasons = sorted(set(reasons), key=_REASON_ORDER.__getitem__)
    return Handling(
        party=party, role=role,
        data_items=[ctx.items[i] for i in sorted(items) if i in ctx.items],
        purposes=sorted((ctx.purposes[p] for p in purposes if p in ctx.purposes), key=lambda p: p.ordinal),
        excluded=bool(reasons), exclusion_reasons=reasons, **extra,
    )


def _controller(ctx: BusinessContext, state: CustomerState, as_of: date) -> Handling:
    reasons = _emptiness_reasons(state, state.held, state.permitted, ctx.purposes_on(as_of))
    return _handling(ctx, ctx.business, HandlingRole.CONTROLLER, state.held, state.permitted, reasons)


def _jurisdiction(party: Subcontractor | ThirdPartyRecipient, on_day: Jurisdictions):
    return on_day.get(party_key(party), party)


def _third_party(ctx: BusinessContext, state: CustomerState, provision: Provision,
                 on_day: Jurisdictions) -> Handling:
    provided = ctx.provision_purposes.get(provision.id, frozenset())
    items = ctx.provision_items.get(provision.id, frozenset()) & state.held
    purposes = provided & state.permitted
    reasons = _emptiness_reasons(state, items, purposes, provided)
    if state.provision_stopped(provision.recipient_id):
        reasons.append(ExclusionReason.THIRD_PARTY_PROVISION_STOPPED)
    recipient = ctx.recipients[provision.recipient_id]
    if lacks_foreign_basis(_jurisdiction(recipient, on_day)):
        reasons.append(ExclusionReason.FOREIGN_TRANSFER_WITHOUT_BASIS)
    return _handling(ctx, recipient, HandlingRole.THIRD_PARTY, items, purposes, reasons, provision=provision)


@dataclass
class _Scope:
    """What a subcontractor handles over all its contracts with the business."""

    handles: bool
    items: frozenset[int]
    purposes: frozenset[int]
    consents: bool = False  # one of its handling contracts consents to sub-entrustment


class _Reach:
    """Contract handlings, each limited by what its subcontractor's parent handles."""

    def __init__(self, ctx: BusinessContext, state: CustomerState, as_of: date, on_day: Jurisdictions):
        self.ctx, self.state, self.as_of, self.on_day = ctx, state, as_of, on_day
        self.by_subcontractor: dict[int, list[Contract]] = defaultdict(list)
        for c in ctx.contracts:
            self.by_subcontractor[c.subcontractor_id].append(c)
        self.scopes: dict[int, _Scope] = {}
        self.visiting: set[int] = set()

    def contract_handling(self, contract: Contract) -> Handling:
        items, purposes, reasons = self._evaluate(contract)
        sub = self.ctx.subcontractors[contract.subcontractor_id]
        return _handling(self.ctx, sub, HandlingRole.SUBCONTRACTOR, items, purposes, reasons,
                         contract=contract, chain=self.chain(sub))

    def chain(self, sub: Subcontractor) -> list[Subcontractor]:
        """The entrusting parents, nearest first; stops at a cycle."""
        chain, seen, parent_id = [], {sub.id}, sub.parent_id
        while parent_id is not None and parent_id not in seen and parent_id in self.ctx.subcontractors:
            parent = self.ctx.subcontractors[parent_id]
            chain.append(parent)
            seen.add(parent_id)
            parent_id = parent.parent_id
        return chain

    def _evaluate(self, contract: Contract):
        """The contract's items, purposes and exclusion reasons on the day. When none of its
        entrustments is in effect that day nothing of the customer's is in question, so
        NO_HELD_DATA_ITEMS, NO_PERMITTED_PURPOSES and USE_STOPPED do not apply: within the
        contract's term the reason is NO_ENTRUSTMENT_IN_EFFECT, outside it CONTRACT_NOT_IN_EFFECT
        says why (entrustments begin within the term)."""
        entrusted = self.ctx.entrusted_on(contract.id, self.as_of)
        entrusted_items, entrusted_purposes = entrusted or (frozenset(), frozenset())
        items = entrusted_items & self.state.held
        purposes = entrusted_purposes & self.state.permitted
        reasons = []
        if recorded_status_on(self.ctx.history.get(contract.id, []), self.as_of) != ContractStatus.ACTIVE:
            reasons.append(ExclusionReason.CONTRACT_NOT_ACTIVE)
        in_term = contract.effective_from <= self.as_of <= contract.expires_on
        if not in_term:
            reasons.append(ExclusionReason.CONTRACT_NOT_IN_EFFECT)
        sub = self.ctx.subcontractors[contract.subcontractor_id]
        if lacks_foreign_basis(_jurisdiction(sub, self.on_day)):
            reasons.append(ExclusionReason.FOREIGN_TRANSFER_WITHOUT_BASIS)
        parent_id = sub.parent_id
        if parent_id is not None:
            parent = self._scope(parent_id)
            items, purposes = items & parent.items, purposes & parent.purposes
            if not parent.handles:
                reasons.append(ExclusionReason.CHAIN_BROKEN)
            elif not parent.consents:
                reasons.append(ExclusionReason.SUB_ENTRUSTMENT_NOT_PERMITTED)
        if entrusted is not None:
            return items, purposes, reasons + _emptiness_reasons(self.state, items, purposes, entrusted_purposes)
        if in_term:
            reasons.append(ExclusionReason.NO_ENTRUSTMENT_IN_EFFECT)
        return items, purposes, reasons + _registration_reasons(self.state)

    def _scope(self, sub_id: int) -> _Scope:
        """The union over the subcontractor's handling contracts; when none handles, it does
        not handle, and the union over all its contracts shows what it would handle."""
        if sub_id in self.scopes:
            return self.scopes[sub_id]
        if sub_id in self.visiting:  # a parent cycle: nobody in it was entrusted by the business
            return _Scope(False, frozenset(), frozenset())
        self.visiting.add(sub_id)
        contracts = self.by_subcontractor.get(sub_id, [])
        evaluated = [(c, *self._evaluate(c)) for c in contracts]
        self.visiting.discard(sub_id)
        handling = [(c, i, p) for c, i, p, reasons in evaluated if not reasons]
        chosen = handling or [(c, i, p) for c, i, p, _ in evaluated]
        scope = _Scope(
            bool(handling),
            frozenset().union(*(i for _, i, _ in chosen)),
            frozenset().union(*(p for _, _, p in chosen)),
            any(ContractClause.SUB_ENTRUSTMENT_CONSENT in c.clauses for c, _, _ in handling),
        )
        self.scopes[sub_id] = scope
        return scope


def party_key(party: SQLModel) -> tuple[str, int]:
    """Identifies a party across businesses: its table and id."""
    return type(party).__name__, party.id


def handled_by(handling: Handling, party: SQLModel) -> bool:
    return party_key(handling.party) == party_key(party)
