"""gateway.web without a browser: the built pages are served from local files, and without
them the API still serves, /map says how to build them and GraphiQL falls back with a warning."""

import logging

import httpx
import pytest
from starlette.applications import Starlette

import gateway.web
from gateway.app import create_app
from gateway.web import graphiql_html, web_routes


@pytest.fixture
def static_dir(tmp_path):
    dist = tmp_path / "static" / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "graphiql.html").write_text("<title>local graphiql</title>", encoding="utf-8")
    (dist / "map.html").write_text("<title>local map</title>", encoding="utf-8")
    (dist / "assets" / "map-1.js").write_text("console.log('map')", encoding="utf-8")
    return tmp_path / "static"


def client(routes) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=Starlette(routes=routes)), base_url="http://gw")


async def test_map_page_and_assets_are_served_from_the_built_files(static_dir):
    async with client(web_routes(static_dir)) as http:
        page = await http.get("/map")
        asset = await http.get("/static/dist/assets/map-1.js")
        missing = await http.get("/static/dist/assets/nope.js")
    assert page.status_code == 200 and "local map" in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert asset.status_code == 200 and asset.text == "console.log('map')"
    assert missing.status_code == 404


async def test_map_without_built_assets_says_how_to_build_them(tmp_path):
    async with client(web_routes(tmp_path / "nothing-here")) as http:
        page = await http.get("/map")
        asset = await http.get("/static/dist/assets/map-1.js")
    assert page.status_code == 503
    assert "make web" in page.text
    assert asset.status_code == 404  # a missing static folder is not a server error


def test_graphiql_html_is_the_built_page(static_dir):
    assert graphiql_html(static_dir) == "<title>local graphiql</title>"


def test_graphiql_html_without_built_assets_is_none_and_warns_once(tmp_path, caplog):
    missing = tmp_path / "unbuilt"
    with caplog.at_level(logging.WARNING, logger="pi_gateway.web"):
        assert graphiql_html(missing) is None
        assert graphiql_html(missing) is None
    warnings = [r for r in caplog.records if r.name == "pi_gateway.web" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "make web" in warnings[0].getMessage() and str(missing) in warnings[0].getMessage()


async def test_gateway_serves_graphiql_and_the_map_from_local_assets(static_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.setattr(gateway.web, "STATIC_DIR", static_dir)
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        ide = await http.get("/graphql", headers={"accept": "text/html"})
        api = await http.post("/graphql", json={"query": "{ viewer { name } }"})
        data_map = await http.get("/map")
    assert ide.status_code == 200 and ide.text == "<title>local graphiql</title>"
    assert api.status_code == 401  # the API itself still needs a token
    assert data_map.status_code == 200 and "local map" in data_map.text


async def test_vendor_console_is_served_from_the_built_files_and_says_how_to_build_it_when_missing(static_dir, tmp_path):
    (static_dir / "dist" / "vendors.html").write_text("<title>local vendors</title>", encoding="utf-8")
    async with client(web_routes(static_dir)) as http:
        page = await http.get("/vendors")
    async with client(web_routes(tmp_path / "nothing-here")) as http:
        missing = await http.get("/vendors")
    assert page.status_code == 200 and "local vendors" in page.text
    assert page.headers["cache-control"] == "no-cache"
    assert missing.status_code == 503
    assert "vendor console is not built" in missing.text and "make web" in missing.text
