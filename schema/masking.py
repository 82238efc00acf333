"""What a client learns of a failure: its own mistakes in full, our bugs only by request ID.

A syntax or validation error, a refused argument, a FORBIDDEN: the client caused it and
needs the message, so it passes unchanged and is logged at DEBUG without a traceback (a
client can send bad queries all day; that must not flood the error log). A registry
refusal that a resolver let through unmapped is the client's too: it becomes
BAD_USER_INPUT naming the field, as `schema.errors.bad_argument` would. Any other
exception is a bug or an outage: the client gets "Internal server error" with
`extensions.code` INTERNAL_SERVER_ERROR and the request ID, and the log gets the full
error, traceback included, under the same ID.
"""

import json
import logging
import traceback
import uuid
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from registry.errors import RegistryError
from schema.errors import bad_argument

logger = logging.getLogger("pi_gateway.errors")

GENERIC_MESSAGE = "Internal server error. Quote the request ID when reporting it."


def request_id_of(context: Any) -> str:
    """The ID the gateway gave this request (X-Request-ID), or a fresh one outside HTTP."""
    state = getattr(getattr(context, "request", None), "state", None)
    found = getattr(state, "request_id", None)
    if found is None:
        found = uuid.uuid4().hex
        if state is not None:
            state.request_id = found
    return found


def is_unexpected(error: GraphQLError) -> bool:
    """True for an exception nobody meant the client to see.

    GraphQL errors are ours or graphql-core's and are meant for the client. graphql-core
    also wraps the ValueError of a scalar that refused a variable's value: such an error
    is attached to the query's nodes and names the client's mistake, so it passes too.
    """
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return error.path is not None or not error.nodes


def refusal(error: GraphQLError) -> GraphQLError:
    """A registry refusal as the client's error, at the field that raised it."""
    original = error.original_error
    shown = bad_argument(original.message, original.field or "")
    return GraphQLError(shown.message, nodes=error.nodes, path=error.path, extensions=shown.extensions)


def masked(error: GraphQLError, request_id: str) -> GraphQLError:
    return GraphQLError(
        GENERIC_MESSAGE, nodes=error.nodes, path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


class MaskingSchema(strawberry.Schema):
    """A Strawberry schema that logs and masks unexpected errors in `process_errors`.

    Strawberry calls `process_errors` once for every result that has errors, on every
    path (parse, validation, execution, an exception in an extension), with the very list
    the client will receive, so replacing unexpected errors in place here masks them
    everywhere; an extension's `on_operation` would miss errors raised by extensions.
    """

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        context = execution_context.context if execution_context else None
        for index, error in enumerate(errors):
            if isinstance(error.original_error, RegistryError):
                errors[index] = error = refusal(error)
            if not is_unexpected(error):
                logger.debug("client error: %s", error.message)
                continue
            request_id = request_id_of(context)
            logger.error(json.dumps({
                "event": "unexpected_error", "request_id": request_id,
                "operation_name": getattr(execution_context, "operation_name", None),
                "path": error.path, "error": repr(error.original_error),
                "traceback": "".join(traceback.format_exception(error.original_error)),
            }))
            errors[index] = masked(error, request_id)
