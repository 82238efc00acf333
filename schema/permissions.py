"""Strawberry permission classes that enforce the registry's role matrix.

`Requires[capability]` denies a field with a GraphQL error whose `extensions.code` is
FORBIDDEN (or UNAUTHENTICATED when nobody is calling). Personal-data fields use it with
`fail_silently`, so they read as null for roles that may not see them.
"""

from functools import cache
from typing import Any

from graphql import GraphQLError
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from registry.access import Capability


@cache
def requires(capability: Capability) -> type[BasePermission]:
    """The permission class demanding `capability` of the caller's role."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        caller = info.context.caller
        if caller is None:
            raise GraphQLError(
                "Authentication required: send Authorization: Bearer <token>.",
                extensions={"code": "UNAUTHENTICATED"},
            )
        return caller.can(capability)

    # named per capability: the name is also the schema directive documenting the rule
    name = "Requires" + capability.name.title().replace("_", "")
    return type(name, (BasePermission,), {
        "message": f"Your role may not {capability.value}.",
        "error_extensions": {"code": "FORBIDDEN"},
        "has_permission": has_permission,
    })


def deny(capability: Capability) -> list[FieldExtension]:
    """Field extensions enforcing `capability` with an error."""
    return [PermissionExtension(permissions=[requires(capability)()])]


def hide(capability: Capability) -> list[FieldExtension]:
    """Field extensions making a nullable field read null without `capability`."""
    return [PermissionExtension(permissions=[requires(capability)()], fail_silently=True)]
