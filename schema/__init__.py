"""The GraphQL schema of the gateway: `build_schema(limits)` is its one constructor."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial

from graphql.validation import NoSchemaIntrospectionCustomRule
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

from schema.masking import MaskingSchema
from schema.mutations import Mutation
from schema.queries import Query
from schema.types import AuditEvent, Business, Contract, Customer, DataItem, Provision, Purpose


@dataclass(frozen=True)
class Limits:
    """Per-request limits; the defaults are DESIGN.md's loosest allowed.

    With `introspection` off, `__schema` and `__type` are refused at validation and
    "did you mean" suggestions are dropped too, since they would leak the schema
    piecemeal.
    """

    max_depth: int = 15
    max_aliases: int = 50
    max_tokens: int = 10_000
    introspection: bool = True


class CloseSession(SchemaExtension):
    """Closes the operation's database session when the operation ends."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if hasattr(context, "close"):
            await context.close()


def validation_rules(limits: Limits) -> list:
    """The extra validation rules, each class built once: the validation cache keys on them."""
    rules = (
        QueryDepthLimiter(max_depth=limits.max_depth).validation_rules
        + MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules
    )
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def build_schema(limits: Limits | None = None, *, extensions: Sequence = ()) -> MaskingSchema:
    """The served schema; `extensions` are the gateway's own (e.g. request metrics)."""
    limits = limits or Limits()
    return MaskingSchema(
        query=Query,
        mutation=Mutation,
        types=[AuditEvent, Business, Contract, Customer, DataItem, Provision, Purpose],
        extensions=[
            partial(AddValidationRules, validation_rules(limits)),
            partial(MaxTokensLimiter, limits.max_tokens),
            partial(ParserCache, 1024),
            partial(ValidationCache, 1024),
            CloseSession,
            *extensions,
        ],
        # Suggestions stay on for authenticated callers (GraphiQL users and dashboard authors
        # whose role already lets them introspect); unauthenticated callers never reach
        # validation (HTTP 401 first). With introspection off they would leak the schema.
        config=StrawberryConfig(disable_field_suggestions=not limits.introspection),
    )
