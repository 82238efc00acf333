"""The response cache: a read query's answer, reused until the registry changes.

Dashboards send the same few queries all day (the data map is megabytes of JSON built from
thousands of rows), and the registry changes far less often than it is read. Each query
reads the registry version first (the context's `registry_version`: the newest committed
one, without opening a session, registry/version.py). An answer is kept under that version,
and its data, read afterwards, is of that version or newer; it is reused only by a query that
reads the same version, which is at least that of every write committed before it asked. So
a write through any worker or host makes every process's entries unusable at once, and a hit
opens no database session; a process keeps the entries of the newest version it has seen
and drops the rest.

An answer is reused only for the same query text, operation name, variables, caller role
and business date: what a caller may see depends on its role (personal data is null without
READ_PERSONAL_DATA), and statuses depend on today. `viewer` names the token, so a document
that mentions it is cached per caller name too. Only queries are cached, and only answers
without errors. The cache is bounded in bytes of JSON and evicts the least recently used.

An entry is the answer's `data` already encoded as JSON: its size is then what it holds (the
same answer as Python objects takes several times as much), and a hit costs no decoding. A hit's
`data` is that JSON as an `orjson.Fragment`, which orjson writes out as it is; the gateway's
view encodes its responses with orjson (gateway/graphql_view.py).
"""

from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType


class Key(NamedTuple):
    query: str
    operation_name: str | None
    variables: bytes
    role: str | None
    today: str
    caller_name: str | None  # only for documents that mention `viewer`


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    entries: int
    bytes: int
    max_bytes: int


MAX_REQUEST_BYTES = 16_384


class ResponseCache:
    """Answers (as JSON) of the newest registry version seen, least recently used first out.

    An entry's size is its JSON plus its query and variables; an answer larger than the
    whole bound is not kept, nor one to a request whose text and variables exceed 16 KB: a
    dashboard's queries take a few KB, and one client's distinct large requests would
    otherwise push out everyone's answers.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._version = -1
        self._entries: OrderedDict[Key, tuple[bytes, int]] = OrderedDict()
        self._bytes = 0
        self._hits = self._misses = 0

    def get(self, version: int, key: Key) -> bytes | None:
        entry = self._entries.get(key) if self._adopt(version) else None
        if entry is None:
            self._misses += 1
            return None
        self._entries.move_to_end(key)
        self._hits += 1
        return entry[0]

    def put(self, version: int, key: Key, data: dict) -> None:
        if len(key.query) + len(key.variables) > MAX_REQUEST_BYTES or not self._adopt(version):
            return
        try:
            encoded = orjson.dumps(data)
        except orjson.JSONEncodeError:  # e.g. a lone surrogate: leave it to the view's fallback
            return
        size = len(encoded) + len(key.query) + len(key.variables)
        if size > self.max_bytes:
            return
        self._drop(key)
        while self._bytes + size > self.max_bytes:
            self._drop(next(iter(self._entries)))
        self._entries[key] = (encoded, size)
        self._bytes += size

    def stats(self) -> CacheStats:
        return CacheStats(self._hits, self._misses, len(self._entries), self._bytes, self.max_bytes)

    def _adopt(self, version: int) -> bool:
        """Move on to a newer version, dropping every entry; False for an older one (a reader
        whose snapshot predates a write another reader has already seen)."""
        if version > self._version:
            self._version = version
            self._entries.clear()
            self._bytes = 0
        return version == self._version

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1]


class CacheResponses(SchemaExtension):
    """Answers a query from the cache before execution, and caches what execution answered.

    Setting the execution context's result before yielding makes Strawberry skip execution
    (and so must any later execution extension that finds a result already there).
    """

    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache

    async def on_execute(self) -> AsyncIterator[None]:
        cacheable = await self._cacheable()
        if cacheable is None:
            yield
            return
        version, key = cacheable
        encoded = self.cache.get(version, key)
        if encoded is not None:
            self.execution_context.result = GraphQLExecutionResult(data=orjson.Fragment(encoded))
            yield
            return
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult) and not result.errors and result.data is not None:
            self.cache.put(version, key, result.data)

    async def _cacheable(self) -> tuple[int, Key] | None:
        """The registry version and the key, for a query run with a registry context."""
        context = self.execution_context.context
        if self._operation_type() is not OperationType.QUERY or not hasattr(context, "registry_version"):
            return None
        key = key_of(self.execution_context, context)
        return None if key is None else (await context.registry_version(), key)

    def _operation_type(self) -> OperationType | None:
        try:
            return self.execution_context.operation_type
        except RuntimeError:  # several operations and none chosen: refused before execution anyway
            return None


def key_of(execution_context: Any, context: Any) -> Key | None:
    """What the answer depends on besides the registry; None when the variables are not JSON."""
    try:
        variables = orjson.dumps(execution_context.variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    query = execution_context.query or ""
    caller = context.caller
    return Key(
        query=query,
        operation_name=execution_context.operation_name,
        variables=variables,
        role=caller.role.value if caller else None,
        today=context.clock.today().isoformat(),
        # a field can only be selected by its name, so a document without the word cannot select it
        caller_name=caller.name if caller and "viewer" in query else None,
    )
