"""The gateway's own pages: GraphiQL from local assets, the data map at /map and the vendor
managers' console at /vendors.

All are built from `web/` (Vite) into `gateway/static/dist` by `make web`, and served from
this process only: the pages load nothing from elsewhere, so they work on a network with no
route to a CDN. Without the built assets the API still serves; /map then says how to build
them and GraphiQL falls back to Strawberry's page (which loads its scripts from a CDN), with
a warning in the log.
"""

import logging
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
DIST = "dist"
GRAPHIQL_PAGE = "graphiql.html"
MAP_PAGE = "map.html"
VENDORS_PAGE = "vendors.html"
BUILD_HINT = "run `make web` (needs node and npm) to build them into gateway/static/dist"

log = logging.getLogger("pi_gateway.web")
_warned: set[Path] = set()


def web_routes(static_dir: Path | None = None) -> list[BaseRoute]:
    """/static (the built assets, under /static/dist), /map (the data map page) and /vendors
    (the vendor managers' console).

    None needs a token: the pages hold no data; they ask for a token and then read and write
    everything through /graphql with it.
    """
    static_dir = static_dir or STATIC_DIR

    def page_route(name: str, title: str):
        async def serve(request: Request) -> Response:
            page = built_page(name, static_dir)
            if page is None:
                return HTMLResponse(_missing_page(title), status_code=503)
            return HTMLResponse(page, headers={"cache-control": "no-cache"})
        return serve

    return [
        Mount("/static", app=LocalFiles(directory=static_dir, check_dir=False), name="static"),
        Route("/map", page_route(MAP_PAGE, "data map"), methods=["GET", "HEAD"], name="map"),
        Route("/vendors", page_route(VENDORS_PAGE, "vendor console"), methods=["GET", "HEAD"], name="vendors"),
    ]


class LocalFiles(StaticFiles):
    """StaticFiles whose folder may not exist yet (assets not built): 404, not a server error."""

    async def check_config(self) -> None:
        if self.directory is not None and not Path(self.directory).is_dir():
            raise HTTPException(status_code=404)
        await super().check_config()


def graphiql_html(static_dir: Path | None = None) -> str | None:
    """The built GraphiQL page, or None (with a warning logged once) when it was not built."""
    page = built_page(GRAPHIQL_PAGE, static_dir or STATIC_DIR)
    if page is None:
        _warn_missing(static_dir or STATIC_DIR)
    return page


def built_page(name: str, static_dir: Path) -> str | None:
    """One of the built HTML pages (read afresh, so a rebuild shows without a restart)."""
    try:
        return (static_dir / DIST / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _warn_missing(static_dir: Path) -> None:
    if static_dir in _warned:
        return
    _warned.add(static_dir)
    log.warning(
        "web assets missing in %s: GraphiQL falls back to Strawberry's page, which loads its scripts from a CDN; %s",
        static_dir / DIST, BUILD_HINT,
    )


def _missing_page(title: str) -> str:
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>pi-gateway · {title}</title>"
        "<body style='font-family:system-ui,sans-serif;margin:3rem;max-width:40rem'>"
        f"<h1>The {title} is not built</h1>"
        f"<p>The web assets are missing: {BUILD_HINT}. The GraphQL API at <a href='/graphql'>/graphql</a> "
        "works without them.</p></body></html>"
    )
