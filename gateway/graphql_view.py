"""The /graphql endpoint: Strawberry's ASGI view with the gateway's authentication.

Every GraphQL request needs a valid bearer token (HTTP 401 otherwise); the GraphiQL page
itself does not, so a browser can open it and then set the header.

GraphQL over HTTP as the spec and the graphql-http audit expect it: a client that accepts
`application/graphql-response+json` gets it, and then a request error (unparsable,
invalid, bad variables) is HTTP 400 with no `data` key; a mutation sent by GET is HTTP
405 with `Allow: POST`. An operation running longer than the execution timeout is
cancelled and answered with a TIMEOUT GraphQL error.

Responses are encoded with orjson, which writes the data map an order of magnitude faster
than the standard library, and the response cache hands over cached answers as
`orjson.Fragment`s, which only orjson writes out (schema/cache.py).
"""

import asyncio
import json
import re
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import InvalidOperationTypeError
from cross_web import HTTPException
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from gateway.auth import AuthFailure, Authenticator
from gateway.limits import too_many_requests
from gateway.memory import LargeBodies
from gateway.web import graphiql_html
from registry.clock import Clock
from registry.db import Database
from registry.handling import BusinessContexts
from schema.context import Context, Policy


class GraphQLView(GraphQL):
    def __init__(self, schema, *, database: Database, clock: Clock, policy: Policy,
                 authenticator: Authenticator, execution_timeout: float = 10.0,
                 large_bodies: LargeBodies | None = None, business_contexts: BusinessContexts | None = None,
                 **options: Any):
        super().__init__(schema, **options)
        self._business_contexts = business_contexts
        self._large_bodies = large_bodies or LargeBodies()
        self._database = database
        self._clock = clock
        self._policy = policy
        self._authenticator = authenticator
        self._execution_timeout = execution_timeout

    async def run(self, request, context=UNSET, root_value=UNSET):
        if isinstance(request, Request) and not self._is_ide_page(request):
            client = request.client.host if request.client else ""
            caller = await self._authenticator.identify(request.headers.get("authorization"), client)
            if isinstance(caller, AuthFailure):
                return too_many_requests(caller.retry_after) if caller.retry_after else _unauthenticated(caller.reason)
            request.state.caller = caller
        try:
            return await super().run(request, context, root_value)
        finally:
            if isinstance(request, Request):
                self._large_bodies.seen(int(request.headers.get("content-length") or 0))

    async def parse_http_body(self, request):
        """A JSON body that is not an object (nor a batch list) cannot be a GraphQL request:
        HTTP 400 with a clear message, not a crash on the missing `query`."""
        if request.method == "POST" and "application/json" in (request.content_type or ""):
            body = (await request.get_body()).lstrip()
            if body[:1] not in (b"{", b"["):
                found = "an empty body" if not body else "JSON that is not an object"
                example = '{"query": "{ viewer { name } }"}'
                raise HTTPException(400, f"Expected a JSON object such as {example}, got {found}.")
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            problem = unfit_text(item.variables) or unfit_text(item.extensions) or unfit_operation_name(
                item.operation_name)
            if problem:
                raise HTTPException(400, problem)
        return parsed

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the gateway's own built assets; Strawberry's CDN page when they are not built."""
        page = graphiql_html()
        return HTMLResponse(page) if page is not None else await super().render_graphql_ide(request)

    def _is_ide_page(self, request: Request) -> bool:
        return bool(self.graphql_ide) and self.should_render_graphql_ide(self.request_adapter_class(request))

    async def get_context(self, request, response) -> Context:
        return Context(
            database=self._database, clock=self._clock, policy=self._policy,
            business_contexts=self._business_contexts,
            caller=getattr(request.state, "caller", None), request=request, response=response,
        )

    # --- GraphQL over HTTP: media type, request errors, GET mutations, timeout ---------------

    async def get_sub_response(self, request: Request) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiated_media_type(request.headers.get("accept"))
        request.state.sub_response = sub_response
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult):
        response_data = await super().process_result(request, result)
        sub_response = getattr(request.state, "sub_response", None)
        if sub_response is not None and sub_response.media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            response_data.pop("data", None)
            sub_response.status_code = sub_response.status_code or 400
        return response_data

    def create_response(self, response_data, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == GRAPHQL_RESPONSE_JSON:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
        return response

    def decode_json(self, data: str | bytes) -> object:
        """The body's JSON, decoded by orjson (an order of magnitude faster than the standard
        library on large variables). orjson refuses lone surrogates, which JSON can escape: the
        standard library then decodes what orjson refused, so that such text gets the edge's
        clear refusal (`unfit_text`).
        JSON too deeply nested for the parser is malformed JSON (HTTP 400), not a crash."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        try:
            return json.loads(data)
        except RecursionError:
            raise json.JSONDecodeError("JSON nested too deeply", "", 0) from None

    def encode_json(self, data: object) -> bytes:
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:  # a lone surrogate echoed in an error message: escape it
            return json.dumps(data, separators=(",", ":")).encode()

    async def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data):
        try:
            async with asyncio.timeout(self._execution_timeout):
                return await super().execute_single(
                    request=request, request_adapter=request_adapter, sub_response=sub_response,
                    context=context, root_value=root_value, request_data=request_data,
                )
        except TimeoutError:
            await context.abandon()
            return ExecutionResult(data=None, errors=[GraphQLError(
                f"The operation ran longer than {self._execution_timeout:g} s and was cancelled.",
                extensions={"code": "TIMEOUT"},
            )])
        except HTTPException as error:
            if request_adapter.method != "GET" or not isinstance(error.__cause__, InvalidOperationTypeError):
                raise
            sub_response.status_code = 405
            sub_response.headers["allow"] = "POST"
            return ExecutionResult(data=None, errors=[GraphQLError(
                "Mutations must be sent by POST.", extensions={"code": "METHOD_NOT_ALLOWED"},
            )])


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
_NOT_REQUEST_ERRORS = frozenset({"TIMEOUT", "INTERNAL_SERVER_ERROR"})


def negotiated_media_type(accept: str | None) -> str:
    """application/graphql-response+json when the client accepts it at least as much as JSON."""
    weights: dict[str, float] = {}
    for media_range in (accept or "").split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weights[media_type.lower()] = max(quality, weights.get(media_type.lower(), 0.0))
    preferred = weights.get(GRAPHQL_RESPONSE_JSON, 0.0)
    return GRAPHQL_RESPONSE_JSON if preferred > 0 and preferred >= weights.get("application/json", 0.0) else "application/json"


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: the document or the variables were refused (errors have no path)."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(
        e.path is None and (e.extensions or {}).get("code") not in _NOT_REQUEST_ERRORS for e in errors
    )


OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,127}")


def unfit_operation_name(name: Any) -> str | None:
    """Why `operationName` cannot name an operation: GraphQL names are letters, digits and
    underscores; 128 characters are more than any real one (it also labels metrics)."""
    if name is None or (isinstance(name, str) and OPERATION_NAME.fullmatch(name)):
        return None
    return "operationName must be a GraphQL name (letters, digits, _) of at most 128 characters."


def unfit_text(value: Any) -> str | None:
    """Why a decoded JSON value cannot be registry input, or None: every string in it (keys
    included) must be valid Unicode, so no lone surrogate (JSON can escape one, no database
    driver can store it), and no NUL (PostgreSQL cannot store it). Checked once, here."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            if not current.isascii():
                try:
                    current.encode("utf-8")
                except UnicodeEncodeError:
                    return "Strings must be valid Unicode: the variables hold a lone surrogate (e.g. \\ud800)."
            if "\x00" in current:
                return "Strings may not contain the NUL character (U+0000): remove it from the variables."
        elif isinstance(current, dict):
            pending.extend(current.keys())
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return None


def _unauthenticated(reason: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="pi-gateway"'},
    )
