"""The GraphQL schema of the gateway: `build_schema(limits)` is its one constructor."""

import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from graphql import GraphQLError, StringValueNode
from graphql.validation import NoSchemaIntrospectionCustomRule, ValidationRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from schema.cache import CacheResponses, ResponseCache
from schema.documents import DocumentBudget, DocumentCache, Documents, Reader
from schema.execution import FastExecution, FastPath
from schema.federation import subgraph_schema
from schema.masking import MaskingSchema, request_id_of
from schema.mutations import Mutation
from schema.permissions import CheckMutationRoots
from schema.queries import Query
from schema.scalars import date_scalar
from schema.types import SHARED_TYPES, AuditEvent, Business, Contract, Customer, DataItem, Provision, Purpose


@dataclass(frozen=True)
class Limits:
    """Per-request limits; depth and aliases default to DESIGN.md's loosest allowed, tokens
    and the rest to what keeps one document's parsing and validation within a few
    milliseconds (schema/documents.py; DESIGN.md allows 10,000 tokens at most).

    With `introspection` off, `__schema` and `__type` are refused at validation and
    "did you mean" suggestions are dropped too, since they would leak the schema
    piecemeal.
    """

    max_depth: int = 15
    max_aliases: int = 50
    max_tokens: int = 2_000
    max_document_chars: int = 16_384
    max_fields: int = 2_000
    max_repeats: int = 10
    introspection: bool = True
    earliest_date: date = date(1900, 1, 1)
    latest_date: date = date(2199, 12, 31)

    def budget(self) -> DocumentBudget:
        return DocumentBudget(
            max_chars=self.max_document_chars, max_tokens=self.max_tokens, max_fields=self.max_fields,
            max_repeats=self.max_repeats, hide_suggestions=not self.introspection,
        )


class CloseSession(SchemaExtension):
    """Closes the operation's database session when the operation ends.

    When a field error nulls the whole answer, graphql-core cancels the sibling fields
    still running, possibly in the middle of a query; the driver then drops that
    connection and closing the session fails. The client's answer is already decided
    (the field error), so the failure is logged, not turned into an internal error; the
    pool discards the dead connection.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not hasattr(context, "finish"):
            return
        try:
            await context.finish()
        except Exception as error:  # a connection broken by a cancelled query
            logging.getLogger("pi_gateway.errors").warning(json.dumps({
                "event": "session_close_failed", "request_id": request_id_of(context), "error": repr(error),
            }))


class NoNulCharacters(ValidationRule):
    """String literals may not carry U+0000: no registry text can hold it (PostgreSQL refuses it)."""

    def enter_string_value(self, node: StringValueNode, *_args) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError(
                "Strings may not contain the NUL character (U+0000).", node,
                extensions={"code": "BAD_USER_INPUT"},
            ))


def validation_rules(limits: Limits) -> list:
    """The extra validation rules, each class built once: the validation cache keys on them."""
    rules = (
        QueryDepthLimiter(max_depth=limits.max_depth).validation_rules
        + MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules
        + [NoNulCharacters]
    )
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def build_schema(
    limits: Limits | None = None, *, extensions: Sequence = (), cache: ResponseCache | None = None,
    documents: DocumentCache | None = None, reader: Reader | None = None, fast_path: bool | FastPath = True,
    federation: bool = False,
) -> MaskingSchema:
    """The served schema; `extensions` are the gateway's own (e.g. request metrics). Without a
    `cache` (or with a zero-byte one) every query executes; `documents` keeps valid documents
    (16 MB when not given); a `reader` with an executor reads long documents off the event loop
    (without one, every document is read on it); with `fast_path` (True, or the app's FastPath with its counts and strict mode) queries run on schema/execution's executor where it
    can answer, else on graphql-core (tests compare them). With `federation`, the same schema as an
    Apollo Federation v2 subgraph (schema/federation.py)."""
    limits = limits or Limits()
    documents = documents if documents is not None else DocumentCache(max_bytes=16 * 2**20)
    caching = [partial(CacheResponses, cache)] if cache is not None and cache.max_bytes > 0 else []
    schema = (subgraph_schema if federation else MaskingSchema)(
        query=Query,
        mutation=Mutation,
        types=[AuditEvent, Business, Contract, Customer, DataItem, Provision, Purpose],
        extensions=[
            partial(Documents, documents, limits.budget(), reader, validation_rules(limits)),
            CloseSession,
            CheckMutationRoots,  # before any execution extension: a refusal leaves them nothing to run
            *caching,  # before any execution extension: a hit leaves it nothing to do
            # after the cache: it answers what the cache did not
            *([partial(FastExecution, fast_path if isinstance(fast_path, FastPath) else FastPath(shared_types=SHARED_TYPES))]
              if fast_path else []),
            *extensions,
        ],
        # Suggestions stay on for authenticated callers (GraphiQL users and dashboard authors
        # whose role already lets them introspect); unauthenticated callers never reach
        # validation (HTTP 401 first). With introspection off they would leak the schema.
        config=StrawberryConfig(
            disable_field_suggestions=not limits.introspection,
            scalar_map={date: date_scalar(limits.earliest_date, limits.latest_date)},
        ),
    )
    schema.hide_suggestions = not limits.introspection
    return schema
