"""A test-only ASGI entry: the gateway with its web pages, until create_app wires them itself.

`uvicorn tests.web.app_with_web:create_web_app --factory` serves create_app() plus
gateway.web's routes (/static, /map) and GraphiQL from the built assets. Once create_app and
GraphQLView do this themselves, both steps below are skipped (they check first), and the
browser tests may run `pi-gateway serve` directly.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from gateway.app import create_app
from gateway.graphql_view import GraphQLView
from gateway.web import graphiql_html, web_routes


def create_web_app() -> Starlette:
    app = create_app()
    if not any(getattr(route, "path", None) == "/map" for route in app.router.routes):
        app.router.routes.extend(web_routes())
    view = next(r.endpoint for r in app.router.routes if isinstance(r, Route) and r.path == "/graphql")
    assert isinstance(view, GraphQLView)
    if type(view).render_graphql_ide is GraphQL.render_graphql_ide:
        fallback = view.render_graphql_ide

        async def render_graphql_ide(request: Request) -> Response:
            page = graphiql_html()
            return HTMLResponse(page) if page is not None else await fallback(request)

        view.render_graphql_ide = render_graphql_ide
    return app
