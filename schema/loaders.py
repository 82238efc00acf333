"""DataLoaders: every list or reference field is fetched in batches, one query per level.

Each loader wraps one batched registry read. The session of an operation is used by one
query at a time (SQLAlchemy sessions are not concurrent), which `Context.run` ensures.
"""

import asyncio
import weakref
from collections.abc import Callable
from functools import cached_property, partial
from typing import Any

from strawberry.dataloader import DataLoader

from registry import (
    businesses,
    contracts,
    customers,
    handling,
    joint_uses,
    models,
    notice_versions,
    provisions,
    requests,
    subcontractors,
)
from registry.lookup import customers_by_refs, records_by_column, records_by_ids, rows_by_ids


class Loader(DataLoader):
    """A DataLoader over one batched registry read, which also answers a whole level at once.

    `load` batches the keys asked in one tick into one read, with a future per key (what
    graphql-core's per-object resolvers need). `load_all`, what the fast executor asks for a
    whole level (schema/execution/batching.Batch.many), reads the keys not yet read in one
    read with no future per key: a data map's level is thousands of keys. Both keep what they
    read, so neither reads a key twice, and a key being read is awaited, not read again.
    """

    def __init__(self, context: Any, fetch: Callable, empty: Callable[[], Any]) -> None:
        # Through a weak reference: `load_fn=self.load_all` would make each loader hold itself,
        # so that what it read outlived the operation until the cyclic garbage collector ran
        # (the peak RSS of eight concurrent data maps was 250 MB instead of 180).
        this = weakref.ref(self)

        async def load_fn(keys: list) -> list:
            return await this().load_all(keys)

        super().__init__(load_fn=load_fn)
        self._context, self._fetch, self._empty = context, fetch, empty
        self._known: dict[Any, Any] = {}
        self._reading: dict[Any, asyncio.Task] = {}

    async def load_all(self, keys: list) -> list:
        """The value of every key (`empty()` for a key the read does not answer), in order."""
        known, reading = self._known, self._reading
        wanted = [key for key in dict.fromkeys(keys) if key not in known]
        if wanted:
            new = [key for key in wanted if key not in reading]
            if new:
                task = asyncio.ensure_future(self._read(new))
                reading.update(dict.fromkeys(new, task))
            for task in {reading[key] for key in wanted if key in reading}:
                await task
        return [known[key] for key in keys]

    async def _read(self, keys: list) -> None:
        try:
            found = await self._context.run(self._fetch, keys)
            empty = self._empty
            self._known.update({key: found[key] if key in found else empty() for key in keys})
        finally:
            for key in keys:
                self._reading.pop(key, None)


def _batched(context, fetch: Callable, empty: Callable[[], Any] = lambda: None) -> Loader:
    return Loader(context, fetch, empty)


def _by_id(context, model, *, instances: bool = False) -> DataLoader:
    """Rows by id, as records; as ORM instances with `instances`, for the purposes and items
    whose GraphQL objects are kept on their rows (schema/execution/batching.shared)."""
    read = rows_by_ids if instances else records_by_ids

    async def fetch(session, ids):
        return await read(session, model, ids)

    return _batched(context, fetch)


def _by_column(context, model, column: str) -> DataLoader:
    """Rows by the value of one of their columns, as records."""

    async def fetch(session, keys):
        return await records_by_column(session, model, column, keys)

    return _batched(context, fetch)


class Loaders:
    """The loaders of one operation; dropped after every write so nothing stale is served."""

    def __init__(self, context):
        self._context = context

    def _many(self, fetch) -> DataLoader:
        return _batched(self._context, fetch, list)

    # --- rows by id -------------------------------------------------------------------
    @cached_property
    def business(self) -> DataLoader:
        return _by_id(self._context, models.Business)

    @cached_property
    def subcontractor(self) -> DataLoader:
        return _by_id(self._context, models.Subcontractor)

    @cached_property
    def contract(self) -> DataLoader:
        return _by_id(self._context, models.Contract)

    @cached_property
    def customer(self) -> DataLoader:
        return _by_id(self._context, models.Customer)

    @cached_property
    def recipient(self) -> DataLoader:
        return _by_id(self._context, models.ThirdPartyRecipient)

    @cached_property
    def provision(self) -> DataLoader:
        return _by_id(self._context, models.Provision)

    # --- rows by another key (the keys of federation's entities, schema/federation.py) -----
    @cached_property
    def business_by_code(self) -> DataLoader:
        return _by_column(self._context, models.Business, "code")

    @cached_property
    def subcontractor_by_corporate_number(self) -> DataLoader:
        return _by_column(self._context, models.Subcontractor, "corporate_number")

    @cached_property
    def customer_by_ref(self) -> DataLoader:
        """Keyed by (business code, external reference)."""
        return _batched(self._context, customers_by_refs)

    # --- children -----------------------------------------------------------------------
    @cached_property
    def purposes_of_business(self) -> DataLoader:
        return self._many(businesses.purposes_of)

    @cached_property
    def current_purposes_of_business(self) -> DataLoader:
        """Those not retired before today."""
        return self._many(partial(businesses.purposes_of, not_retired_by=self._context.clock.today()))

    @cached_property
    def items_of_business(self) -> DataLoader:
        return self._many(businesses.data_items_of)

    @cached_property
    def management_system(self) -> DataLoader:
        return _batched(self._context, subcontractors.management_systems)

    @cached_property
    def contract_status(self) -> DataLoader:
        fetch = partial(_current_statuses, today=self._context.clock.today())
        return _batched(self._context, fetch)

    @cached_property
    def children_of_subcontractor(self) -> DataLoader:
        return self._many(subcontractors.children_of)

    @cached_property
    def assessments_of_subcontractor(self) -> DataLoader:
        """Keyed by (subcontractor id, how many): its assessments, newest first."""
        return self._many(_assessments)

    @cached_property
    def contracts_of_subcontractor(self) -> DataLoader:
        return self._many(contracts.contracts_of_subcontractors)

    @cached_property
    def entrustments_of_contract(self) -> DataLoader:
        return self._many(contracts.entrustments_of)

    @cached_property
    def entrustments_of_contract_on(self) -> DataLoader:
        """Keyed by (contract id, day): those in effect that day."""
        return self._many(_by_day(contracts.entrustments_of))

    @cached_property
    def current_entrustments_of_contract(self) -> DataLoader:
        """Those not ended by today (ones that begin later included)."""
        fetch = partial(contracts.entrustments_of, not_ended_on=self._context.clock.today())
        return self._many(fetch)

    @cached_property
    def entrustment_links(self) -> DataLoader:
        return _batched(self._context, _pair_by_key(contracts.entrustment_links), _empty_pair)

    @cached_property
    def provisions_of_recipient(self) -> DataLoader:
        return self._many(provisions.provisions_of_recipients)

    @cached_property
    def provision_links(self) -> DataLoader:
        return _batched(self._context, _pair_by_key(provisions.provision_links), _empty_pair)

    @cached_property
    def current_joint_uses_of_business(self) -> DataLoader:
        """Those not ended by today (ones that begin later included)."""
        return self._many(partial(joint_uses.joint_uses_of, not_ended_on=self._context.clock.today()))

    @cached_property
    def joint_use_links(self) -> DataLoader:
        return _batched(self._context, _pair_by_key(joint_uses.joint_use_links), _empty_pair)

    @cached_property
    def held_items(self) -> DataLoader:
        """Keyed by (customer id, day)."""
        return self._many(_by_day(customers.held_items))

    @cached_property
    def handlings(self) -> DataLoader:
        """Keyed by (customer id, day, include excluded): the customer's handlings that day."""
        context = self._context
        fetch = partial(_handlings, today=context.clock.today(), contexts=context.business_contexts)
        return self._many(fetch)

    @cached_property
    def notice_in_force(self) -> DataLoader:
        """Keyed by (business id, day): the published notice version of that day, or None."""
        return _batched(self._context, notice_versions.in_force)

    @cached_property
    def item_history(self) -> DataLoader:
        return self._many(customers.item_history)

    @cached_property
    def status_history(self) -> DataLoader:
        return self._many(contracts.status_histories)

    @cached_property
    def request_targets(self) -> DataLoader:
        return self._many(requests.targets_of)

    @cached_property
    def purpose(self) -> DataLoader:
        return _by_id(self._context, models.Purpose, instances=True)

    @cached_property
    def data_item(self) -> DataLoader:
        return _by_id(self._context, models.DataItem, instances=True)

    @cached_property
    def requests_of_customer(self) -> DataLoader:
        return self._many(requests.requests_of)

    @cached_property
    def records_of_customer(self) -> DataLoader:
        return self._many(provisions.records_of_customers)

    @cached_property
    def record_items(self) -> DataLoader:
        return self._many(provisions.record_items)


async def _current_statuses(session, ids, *, today):
    return await subcontractors.current_contract_statuses(session, ids, today=today)


async def _assessments(session, keys):
    """One read per number of assessments asked for (one in practice: the default)."""
    counts: dict[int, list] = {}
    for sub_id, first in keys:
        counts.setdefault(first, []).append(sub_id)
    found = {}
    for first, sub_ids in counts.items():
        answer = await subcontractors.assessments_of(session, sub_ids, first=first)
        found.update({(sub_id, first): rows for sub_id, rows in answer.items()})
    return found


async def _handlings(session, keys, *, today, contexts):
    """One resolution per day for every customer asked about that day, excluded parties
    included, then each key's share: asking with and without `includeExcluded` reads once."""
    days: dict[Any, list] = {}
    for customer_id, day, _ in keys:
        days.setdefault(day, []).append(customer_id)
    found = {}
    for day, customer_ids in days.items():
        answer = await handling.resolve_handlings_of(session, customer_ids, as_of=day, today=today,
                                                     include_excluded=True, contexts=contexts)
        found.update({(customer_id, day): handlings for customer_id, handlings in answer.items()})
    return {key: _included(found[key[:2]], key[2]) for key in keys if key[:2] in found}


def _included(handlings: list, include_excluded: bool) -> list:
    return handlings if include_excluded else [h for h in handlings if not h.excluded]


def _by_day(fetch):
    """A fetch of (ids, as_of=day) answering by id, as one answering by (id, day) keys."""

    async def dated(session, keys):
        days: dict[Any, list] = {}
        for key_id, day in keys:
            days.setdefault(day, []).append(key_id)
        found = {}
        for day, key_ids in days.items():
            answer = await fetch(session, key_ids, as_of=day)
            found.update({(key_id, day): rows for key_id, rows in answer.items()})
        return found

    return dated


def _empty_pair() -> tuple[list, list]:
    return [], []


def _pair_by_key(fetch):
    """Turn a fetch answering (purposes by key, items by key) into one answer per key."""

    async def paired(session, keys):
        purposes, items = await fetch(session, keys)
        return {key: (purposes.get(key, []), items.get(key, [])) for key in keys}

    return paired
