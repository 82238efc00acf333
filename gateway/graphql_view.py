"""The /graphql endpoint: Strawberry's ASGI view with the gateway's authentication.

Every GraphQL request needs a valid bearer token (HTTP 401 otherwise); the GraphiQL page
itself does not, so a browser can open it and then set the header.
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET

from gateway.auth import AuthFailure, Authenticator
from registry.clock import Clock
from registry.db import Database
from schema.context import Context, Policy


class GraphQLView(GraphQL):
    def __init__(self, schema, *, database: Database, clock: Clock, policy: Policy,
                 authenticator: Authenticator, **options: Any):
        super().__init__(schema, **options)
        self._database = database
        self._clock = clock
        self._policy = policy
        self._authenticator = authenticator

    async def run(self, request, context=UNSET, root_value=UNSET):
        if isinstance(request, Request) and not self._is_ide_page(request):
            caller = await self._authenticator.identify(request.headers.get("authorization"))
            if isinstance(caller, AuthFailure):
                return _unauthenticated(caller.reason)
            request.state.caller = caller
        return await super().run(request, context, root_value)

    def _is_ide_page(self, request: Request) -> bool:
        return bool(self.graphql_ide) and self.should_render_graphql_ide(self.request_adapter_class(request))

    async def get_context(self, request, response) -> Context:
        return Context(
            database=self._database, clock=self._clock, policy=self._policy,
            caller=getattr(request.state, "caller", None), request=request, response=response,
        )


def _unauthenticated(reason: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="pi-gateway"'},
    )
