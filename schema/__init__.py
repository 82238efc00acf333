"""The GraphQL schema of the gateway: `build_schema(limits)` is its one constructor."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from schema.mutations import Mutation
from schema.queries import Query
from schema.types import AuditEvent, Business, Contract, Customer, DataItem, Provision, Purpose


@dataclass(frozen=True)
class Limits:
    """Per-request limits; the defaults are DESIGN.md's loosest allowed."""

    max_depth: int = 15
    max_aliases: int = 50
    max_tokens: int = 10_000


class CloseSession(SchemaExtension):
    """Closes the operation's database session when the operation ends."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if hasattr(context, "close"):
            await context.close()


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    limits = limits or Limits()
    # Rule classes are built once: the validation cache keys on them (GRAPHQL-NOTES.md).
    rules = (
        QueryDepthLimiter(max_depth=limits.max_depth).validation_rules
        + MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules
    )
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[AuditEvent, Business, Contract, Customer, DataItem, Provision, Purpose],
        extensions=[
            partial(AddValidationRules, rules),
            partial(MaxTokensLimiter, limits.max_tokens),
            partial(ParserCache, 1024),
            partial(ValidationCache, 1024),
            CloseSession,
        ],
        config=StrawberryConfig(),
    )
