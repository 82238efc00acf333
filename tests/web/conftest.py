"""Browser tests: the gateway with its web pages as a live process, driven by Playwright in
Debian's Chromium (never a downloaded browser).

The server runs `gateway.app:create_app` under uvicorn on a free port, on a
SQLite file seeded with the demo registry by `pi-gateway seed --demo`; tokens come from
`pi-gateway token create`. Skipped, with the reason shown, when /usr/bin/chromium, the
Python playwright package or the built assets (`make web`) are missing.
With PI_GATEWAY_TEST_BROWSER=required (set by .ci/run once Chromium is there) a missing
piece fails the tests instead. Screenshots go to test-artifacts/ at the repository root.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.web import DIST, GRAPHIQL_PAGE, MAP_PAGE, STATIC_DIR, VENDORS_PAGE
from registry.enums import Role
from tests.gateway.live import LiveServer

CHROMIUM = Path(os.environ.get("PI_GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def missing_for_browser_tests() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is missing: pip install -e '.[test]'"
    for page in (GRAPHIQL_PAGE, MAP_PAGE, VENDORS_PAGE):
        if not (STATIC_DIR / DIST / page).exists():
            return f"the web assets are not built ({STATIC_DIR / DIST / page} missing): run `make web`"
    return None


class WebServer(LiveServer):
    """LiveServer serving the test entry that adds the web pages to create_app()."""

    def start(self) -> str:
        assert self.process is None, "already running"
        self.starts += 1
        log = open(self.log_dir / f"server-{self.starts}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=REPO, env=self.environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self._wait_healthy()
        return self.base_url


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    reason = missing_for_browser_tests()
    if reason and os.environ.get("PI_GATEWAY_TEST_BROWSER") == "required":
        pytest.fail(f"PI_GATEWAY_TEST_BROWSER=required but {reason}")
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("web")
    server = WebServer(f"sqlite+aiosqlite:///{folder / 'web.db'}", folder)
    server.command("migrate")
    server.seed_demo()
    server.start()
    server.tokens = {role: server.create_token(role, f"browser-{role.lower()}") for role in (Role.ADMIN, Role.VIEWER)}
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(web_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, web_server):
    """A fresh browser context (empty storage) recording every request the page makes."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=web_server.base_url)
    page = context.new_page()
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    try:
        yield page
    finally:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path
