"""What a client learns of a failure: its own mistakes in full, our bugs only by request ID.

Every error carries a stable `extensions.code`. A syntax error (GRAPHQL_PARSE_FAILED), a
validation error (GRAPHQL_VALIDATION_FAILED), variables that do not fit
(BAD_USER_INPUT), a refused argument, a FORBIDDEN: the client caused it and needs the
message, so it passes unchanged (without "did you mean" suggestions when introspection is
off, since they would leak the schema) and is logged at DEBUG by its code alone. A registry
refusal that a resolver let through unmapped is the client's too: it becomes
BAD_USER_INPUT naming the field, as `schema.errors.bad_argument` would. Any other
exception is a bug or an outage: the client gets "Internal server error" with
`extensions.code` INTERNAL_SERVER_ERROR and the request ID, and the log gets the
exception's type and traceback under the same ID, never its message nor the chained
exceptions' messages: those may quote the input (a customer's name, a query), and no
personal data or query text enters a log.
"""

import json
import logging
import re
import traceback
import uuid
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
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


_SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*$", re.DOTALL)


def client_code(error: GraphQLError, *, executing: bool) -> str:
    """The stable code of an error the client caused, when graphql-core gave it none: a
    syntax error, a validation error, or once execution began, variables or arguments that
    do not fit."""
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    return "BAD_USER_INPUT" if executing else "GRAPHQL_VALIDATION_FAILED"


def with_code(error: GraphQLError, code: str, *, hide_suggestions: bool) -> GraphQLError:
    """The error with its code, and without suggestions when they are hidden (changed in
    place: building it anew would locate it in the source again)."""
    if hide_suggestions:
        error.message = _SUGGESTION.sub("", error.message)
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


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

    hide_suggestions = False  # set by build_schema when introspection is off

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        context = execution_context.context if execution_context else None
        # Strawberry records the result before processing execution errors, and after
        # processing parse and validation errors
        executing = getattr(execution_context, "result", None) is not None
        for index, error in enumerate(errors):
            errors[index] = self._processed(error, context, executing)
            release_frames(error)
            release_frames(errors[index])

    def _processed(self, error: GraphQLError, context: Any, executing: bool) -> GraphQLError:
        if isinstance(error.original_error, RegistryError):
            error = refusal(error)
        if not is_unexpected(error):
            code = (error.extensions or {}).get("code")
            if code is None or self.hide_suggestions:
                error = with_code(error, code or client_code(error, executing=executing),
                                  hide_suggestions=self.hide_suggestions)
            logger.debug(json.dumps({"event": "client_error", "request_id": request_id_of(context),
                                     "code": error.extensions["code"]}))
            return error
        request_id = request_id_of(context)
        logger.error(json.dumps({
            "event": "unexpected_error", "request_id": request_id,
            "path": [str(part)[:64] for part in error.path or ()],
            "error": type(error.original_error).__qualname__,
            "traceback": frames_only(error.original_error),
        }))
        return masked(error, request_id)


def release_frames(error: GraphQLError) -> None:
    """Tracebacks are only read while an error is logged: drop them once it is processed.

    A traceback holds the frames it passed through, and their locals the request (its query,
    its variables): an error kept in the execution context that such a frame also holds is a
    reference cycle, freed only when the cyclic collector runs. Without the frames the
    request is freed as soon as it is answered (issue 10: large requests piled up)."""
    original = error.original_error
    error.__traceback__ = None
    if original is not None:
        original.__traceback__ = None
        original.__context__ = original.__cause__ = None


def frames_only(error: BaseException) -> str:
    """The traceback of `error` and the exceptions it was raised from or during, with each
    exception named by its type alone (its message may quote the input)."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__}\n")
        lines.extend(traceback.format_tb(current.__traceback__))
        current = current.__cause__ or current.__context__
    return "".join(lines)
