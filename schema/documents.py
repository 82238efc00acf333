"""What a GraphQL document may cost before it is validated, and the cache of valid documents.

Parsing and validation cannot be interrupted, so a client could otherwise stall every other
client with one document (issue 10): graphql-core's overlapping-fields rule compares every
pair of fields sharing a response name, so a short document repeating one field costs
seconds of CPU, and every changed string defeats a cache. Each document therefore passes
three bounds, each cheap and each before the costly step:
- its length in characters (`max_chars`), checked before parsing, and its lexical tokens
  (`max_tokens`), which graphql-core's parser counts as it reads;
- a budget checked on the parsed tree in one walk, before graphql-core's rules: the fields
  it selects with fragments expanded (`max_fields`), and how often one response name
  appears in one selection set once fragments are merged (`max_repeats`); unknown fragments
  and fragment cycles are refused here, since the depth limit would trip over them.

Documents over 2 KB are read on a thread of their own (`Reader`), not on the event loop.
What parsing and validating a document cost in CPU is billed to the caller's token by the
rate limit (gateway/limits.py), so that a token sending documents that are costly to read
gets fewer of them through, whatever limit each stays under; a cached document costs nothing.

Valid documents are kept by query text in a cache bounded in bytes, not entries: a
document's parsed tree grows with its tokens (measured with tracemalloc: bench/RESULTS.md),
so a bound of a thousand entries could hold gigabytes where 16 MB hold a few hundred
ordinary queries. Refused documents are not kept: a client sending new ones each time gains
nothing but its own refusals.
"""

import asyncio
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    validate,
)
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema import hooks
from schema.cache import CacheStats

T = TypeVar("T")
BYTES_PER_TOKEN = 550  # a parsed token's share of the tree, locations included (see above)
TOO_COMPLEX = "QUERY_TOO_COMPLEX"
TOO_LARGE = "DOCUMENT_TOO_LARGE"


@dataclass(frozen=True)
class DocumentBudget:
    """The most one document may ask of the parser and the validator."""

    max_chars: int = 16_384
    max_tokens: int = 2_000
    max_fields: int = 2_000
    max_repeats: int = 10
    hide_suggestions: bool = False  # with introspection off, errors name no schema names


def over_budget(document: DocumentNode, budget: DocumentBudget) -> GraphQLError | None:
    """Why the document may not be validated, or None. One walk, stopped at the first excess."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    roots: list[SelectionSetNode] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
            roots.append(definition.selection_set)
        elif isinstance(definition, OperationDefinitionNode):
            roots.append(definition.selection_set)
    problem = _fragment_problem(fragments, roots)
    if problem is not None:
        return problem
    walk = _Walk(fragments, budget)
    try:
        for root in roots:
            walk.merged([root])
    except _Excess as excess:
        return GraphQLError(str(excess), extensions={"code": TOO_COMPLEX})
    return None


class _Excess(Exception):
    pass


class _Walk:
    """Counts fields as validation and execution see them: fragments expanded, and the fields
    of one selection set merged by response name across its fragments."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], budget: DocumentBudget) -> None:
        self.fragments = fragments
        self.budget = budget
        self.fields = 0

    def merged(self, selection_sets: list[SelectionSetNode]) -> None:
        """Walks the merged selection sets level by level (a stack, not recursion: fragments
        can chain deeper than Python's recursion limit)."""
        pending = [selection_sets]
        while pending:
            by_name: dict[str, list[SelectionSetNode]] = {}
            counts: Counter[str] = Counter()
            for field in self._fields_of(pending.pop()):
                self.fields += 1
                if self.fields > self.budget.max_fields:
                    raise _Excess(
                        f"The document selects more than {self.budget.max_fields} fields (fragments expanded): "
                        "split it into several requests."
                    )
                name = (field.alias or field.name).value
                counts[name] += 1
                if counts[name] > self.budget.max_repeats:
                    raise _Excess(
                        f"'{name[:64]}' is selected more than {self.budget.max_repeats} times in one selection "
                        "set: select it once."
                    )
                if field.selection_set is not None:
                    by_name.setdefault(name, []).append(field.selection_set)
            pending.extend(by_name.values())

    def _fields_of(self, selection_sets: list[SelectionSetNode]) -> Iterator[FieldNode]:
        """The fields of these selection sets, with inline fragments and spreads opened."""
        pending = list(reversed(selection_sets))
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    yield selection
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    pending.append(self.fragments[selection.name.value].selection_set)


def _fragment_problem(fragments: dict[str, FragmentDefinitionNode],
                      roots: list[SelectionSetNode]) -> GraphQLError | None:
    """An unknown fragment or a fragment spreading itself, as graphql-core would word it."""
    for root in roots:
        for spread in _spreads_in(root):
            if spread.name.value not in fragments:
                return GraphQLError(f"Unknown fragment '{spread.name.value[:64]}'.", spread)
    spreads = {name: _spreads_in(definition.selection_set) for name, definition in fragments.items()}
    done: set[str] = set()
    for start in fragments:
        if start in done:
            continue
        path, on_path = [(start, iter(spreads[start]))], {start}
        while path:
            name, remaining = path[-1]
            spread = next(remaining, None)
            if spread is None:
                path.pop()
                on_path.discard(name)
                done.add(name)
                continue
            target = spread.name.value
            if target in on_path:
                return GraphQLError(f"Cannot spread fragment '{target[:64]}' within itself.", spread)
            if target not in done:
                path.append((target, iter(spreads[target])))
                on_path.add(target)
    return None


def _spreads_in(selection_set: SelectionSetNode) -> list[FragmentSpreadNode]:
    found, pending = [], [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                found.append(selection)
            elif selection.selection_set is not None:
                pending.append(selection.selection_set)
    return found


def document_cost(query: str, document: DocumentNode) -> int:
    """Bytes a parsed document holds, estimated from its tokens (see the module docstring)."""
    tokens, token = 0, document.loc.start_token if document.loc else None
    while token is not None:
        tokens += 1
        token = token.next
    return BYTES_PER_TOKEN * tokens + sys.getsizeof(query)


class DocumentCache:
    """Valid documents by query text, least recently used first out, bounded in bytes.

    A document costing more than a sixteenth of the bound is not kept: one large document
    must not push out the many small ones dashboards repeat.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[DocumentNode, int]] = OrderedDict()
        self._bytes = 0
        self._hits = self._misses = 0

    def get(self, query: str) -> DocumentNode | None:
        entry = self._entries.get(query)
        if entry is None:
            self._misses += 1
            return None
        self._entries.move_to_end(query)
        self._hits += 1
        return entry[0]

    def put(self, query: str, document: DocumentNode) -> None:
        cost = document_cost(query, document)
        if cost > self.max_bytes // 16 or query in self._entries:
            return
        self._entries[query] = (document, cost)
        self._bytes += cost
        while self._bytes > self.max_bytes:
            _, (_, freed) = self._entries.popitem(last=False)
            self._bytes -= freed

    def stats(self) -> CacheStats:
        return CacheStats(hits=self._hits, misses=self._misses, entries=len(self._entries), bytes=self._bytes,
                          max_bytes=self.max_bytes)


class Reader:
    """Parses and validates documents: short ones on the event loop, longer ones one at a time
    on a thread of their own, so that reading a costly document never holds up the loop that
    answers everyone else (issue 10: a bystander waited behind convoys of such documents).

    Python runs one thread at a time, but it switches threads every few milliseconds: the
    loop then waits at most that long for a document being read, instead of the whole read.
    Each call answers with the CPU it took, which the rate limit bills to the caller.
    """

    def __init__(self, executor: Executor | None = None, inline_chars: int = 2_048) -> None:
        self.executor = executor
        self.inline_chars = inline_chars

    async def run(self, size: int, work: Callable[[], T]) -> tuple[T, float]:
        if self.executor is None or size <= self.inline_chars:
            return _timed(work)
        return await asyncio.get_running_loop().run_in_executor(self.executor, _timed, work)


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    """`work`'s result (or the exception it raised, as the result) and the CPU it took."""
    started = time.thread_time()
    try:
        result = work()
    except GraphQLError as error:
        result = error
    return result, time.thread_time() - started


class Documents(SchemaExtension):
    """Parses and validates within the budget, reusing the cache's valid documents.

    It replaces Strawberry's ParserCache, ValidationCache, MaxTokensLimiter and
    AddValidationRules (`rules` are the extra validation rules), whose caches count entries
    and whose validation runs whatever the document costs; and it refuses a document of
    several operations sent without the name of the one to run. Setting the document
    and the validation errors (an empty list when valid) makes Strawberry skip its own
    parsing and validation.
    """

    def __init__(self, cache: DocumentCache, budget: DocumentBudget, reader: Reader | None = None,
                 rules: Sequence[type[ASTValidationRule]] = ()) -> None:
        self.cache = cache
        self.budget = budget
        self.reader = reader or Reader()
        self.rules = tuple(rules)
        self.cached = False

    def _charge(self, seconds: float) -> None:
        """Adds the CPU this request's document took to `document_seconds` on the request's
        state, where the rate limit bills it to the token (gateway/limits.py). Only documents
        read off the loop are billed: a short one takes well under the 2 ms that cost a
        request, and its thread time would only bill a garbage collection that fell inside."""
        state = getattr(getattr(self.execution_context.context, "request", None), "state", None)
        if state is not None and len(self.execution_context.query or "") > self.reader.inline_chars:
            state.document_seconds = getattr(state, "document_seconds", 0.0) + seconds

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query or ""
        if len(query) > self.budget.max_chars:
            # refused here rather than by the parser, whose error would locate itself in the text
            raise GraphQLError(
                f"The document is {len(query)} characters long; at most {self.budget.max_chars} are accepted: "
                "pass long values as variables.",
                extensions={"code": TOO_LARGE},
            )
        found = self.cache.get(query) if query else None
        if found is not None:
            self.cached = True
        elif query:
            options = {**context.parse_options, "max_tokens": self.budget.max_tokens}
            found, seconds = await self.reader.run(len(query), partial(parse, query, **options))
            self._charge(seconds)
            if isinstance(found, GraphQLError):
                raise found
        context.graphql_document = found
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if self.cached:
            errors = []
        else:
            rules = (*context.validation_rules, *self.rules, MaybeNullValidationRule, OneOfInputValidationRule)
            errors, seconds = await self.reader.run(
                len(context.query or ""),
                partial(_checked, hooks.graphql_schema(context.schema), context.graphql_document, rules, self.budget))
            self._charge(seconds)
            if not errors and context.query:
                self.cache.put(context.query, context.graphql_document)
        context.pre_execution_errors = [*errors, *_operation_unnamed(context)]
        yield


def _operation_unnamed(context) -> list[GraphQLError]:
    """A document with several operations must name the one to run (GraphQL spec,
    GetOperation); Strawberry would silently run the first."""
    document = context.graphql_document
    if document is None or hooks.provided_operation_name(context) is not None:
        return []
    if sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) < 2:
        return []
    return [GraphQLError("This document holds several operations: send operationName to pick one.")]


def _checked(schema, document: DocumentNode, rules: tuple, budget: DocumentBudget) -> list[GraphQLError]:
    """The budget's refusal, or graphql-core's validation errors (none: the document is valid)."""
    problem = over_budget(document, budget)
    if problem is not None:
        return [problem]
    return validate(schema, document, rules, hide_suggestions=budget.hide_suggestions)
