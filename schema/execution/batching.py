"""Fields read a level at a time, and GraphQL objects built once per row.

A field declared with `batched` is one DataLoader read: graphql-core calls its resolver per
object (the DataLoader still batches the reads into one query), and the fast executor
(schema/execution/executor.py) finds its `Batch` and resolves a whole level in one call.
`shared` builds a row's GraphQL object once, so answers that name the same rows (every
customer's handlings name the business context's rows) are built from the same objects.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strawberry.types import Info


@dataclass(frozen=True)
class Batch:
    """A field that is one DataLoader read: `wrap(await loaders.<loader>.load(key(obj)))`, and
    null when the key is (a subcontractor without a parent)."""

    loader: str
    key: Callable[[Any], Any]
    wrap: Callable[[Any], Any]
    when_defaults: bool = False  # a field with arguments, batched while every one is at its default

    async def one(self, info: Info, obj: Any) -> Any:
        key = self.key(obj)
        return None if key is None else self.wrap(await getattr(info.context.loaders, self.loader).load(key))

    async def many(self, context: Any, objects: list[Any]) -> list[Any]:
        """The field for every object at once, one read of the loader (what the executor
        calls for a whole level, schema/loaders.Loader.load_all); what the loader has read
        is kept, so two fields of one loader (an entrustment's purposes and items) read once."""
        loader = getattr(context.loaders, self.loader)
        keys = [self.key(obj) for obj in objects]
        unique = [key for key in dict.fromkeys(keys) if key is not None]
        found = dict(zip(unique, await loader.load_all(unique)))
        return [None if key is None else self.wrap(found[key]) for key in keys]


def batched(loader: str, wrap: Callable[[Any], Any], key: Callable[[Any], Any] = lambda obj: obj._row.id):
    """Makes the decorated stub `async def field(self, info) -> T` resolve as a `Batch`.

    graphql-core calls the resolver per object (the DataLoader still batches the reads);
    the fast path finds the `Batch` on it and resolves a whole level in one call."""
    spec = Batch(loader, key, wrap)

    def build(stub: Callable) -> Callable:
        async def resolve(self, info: Info):
            return await spec.one(info, self)

        resolve.__name__, resolve.__qualname__, resolve.__doc__ = stub.__name__, stub.__qualname__, stub.__doc__
        resolve.__module__ = stub.__module__
        resolve.__annotations__ = dict(stub.__annotations__)
        resolve.batch = spec
        return resolve

    return build


def batched_by_default(loader: str, wrap: Callable[[Any], Any], key: Callable[[Any], Any] = lambda obj: obj._row.id):
    """Marks a hand-written resolver of a field with arguments as one loader read while every
    argument is at its default, which must be null or false: the fast executor then reads a
    whole level in one call
    (`wrap(await loaders.<loader>.load(key(obj)))`, which must equal what the resolver answers
    with its defaults); with other arguments the resolver runs per object."""

    def mark(resolver: Callable) -> Callable:
        resolver.batch = Batch(loader, key, wrap, when_defaults=True)
        return resolver

    return mark


def shared(row: Any, convert: Callable[[Any], Any]) -> Any:
    """`convert(row)`, built once per row object and kept on the row itself.

    Many answers name the very same rows: handlings are derived from the business context
    that registry/handling.py keeps per registry version, so every customer's answer names
    the same contract, party, purpose and item rows, and a data map's thousands of
    entrustments name the same few purposes and items. Rows are read-only on read paths and
    GraphQL objects are only read, so sharing is safe; a row read later is a new object, and
    the conversion lives exactly as long as its row (no table of them anywhere). A record
    (registry.lookup.records) has no room for it and is converted each time.
    """
    slots = getattr(row, "__dict__", None)
    if slots is None:
        return convert(row)
    memo = slots.get(_CONVERTED)
    if memo is None:
        memo = slots[_CONVERTED] = {}
    found = memo.get(convert)
    if found is None:
        found = memo[convert] = convert(row)
    return found


_CONVERTED = "_pi_graphql"  # the key, in a row's __dict__, of its GraphQL conversions
