"""How refusals reach clients.

A registry error (a rule or an input problem) becomes `UserError`s in the payload's
`errors`, with the contract's ErrorCode and the input field concerned; an authorization
failure is a GraphQL error with `extensions.code` (see permissions). Nothing else is
decided here.
"""

import strawberry
from graphql import GraphQLError

from registry.errors import RegistryError
from schema.enums import ErrorCode


@strawberry.type(description="Why a write was refused. Nothing was written.")
class UserError:
    code: ErrorCode
    field: str | None = strawberry.field(description="The input field concerned, as named in the input type.")
    message: str


def user_errors(error: RegistryError) -> list[UserError]:
    return [UserError(code=p.code, field=p.field, message=p.message) for p in error.problems]


def bad_argument(message: str, field: str) -> GraphQLError:
    """A malformed argument of a read (a forged ID, a bad cursor): a clear GraphQL error."""
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "field": field})
