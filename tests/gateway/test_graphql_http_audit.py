"""GraphQL over HTTP conformance: the `graphql-http` audit suite against the live server.

The npm package is installed once into tests/.node (git-ignored); the gateway runs under
uvicorn on a free port, on a migrated SQLite database, and every audit request carries a
token. Skipped, with the reason shown, when node or npm is missing.
"""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from registry import migrate, tokens
from registry.db import Database
from registry.enums import Role

NODE_DIR = Path(__file__).resolve().parents[1] / ".node"
GRAPHQL_HTTP = "graphql-http@1.23.1"
AUDIT_SCRIPT = r"""
const { serverAudits } = require('graphql-http');
(async () => {
  const [url, token] = [process.argv[2], process.env.PIGW_TOKEN];
  const fetchFn = (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  const results = [];
  for (const audit of serverAudits({ url, fetchFn })) {
    const result = await audit.fn();
    results.push({ name: audit.name, status: result.status, reason: result.reason || null });
  }
  console.log(JSON.stringify(results));
})().catch((error) => { console.error(error); process.exit(2); });
"""

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm")),
    reason="graphql-http audit: node and npm are needed and are not on PATH",
)


def install_graphql_http() -> Path:
    if not (NODE_DIR / "node_modules" / "graphql-http" / "package.json").exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR), GRAPHQL_HTTP, "graphql@16"],
            check=True, capture_output=True, timeout=300,
        )
    script = NODE_DIR / "audit.js"
    script.write_text(AUDIT_SCRIPT)
    return script


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def issue_token(database_url: str) -> str:
    database = Database.connect(database_url)
    try:
        async with database.session(write=True) as session:
            return (await tokens.create_token(session, name="graphql-http audit", role=Role.VIEWER))[1]
    finally:
        await database.dispose()


@pytest.fixture
def live_server(tmp_path):
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    migrate.upgrade(database_url)
    secret = asyncio.run(issue_token(database_url))
    port = free_port()
    env = os.environ | {"DATABASE_URL": database_url, "PI_GATEWAY_RATE_LIMIT_BURST": "10000",
                        "PI_GATEWAY_LOG_LEVEL": "warning"}
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory", "--port", str(port),
             "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # up to about 30 s for a loaded machine
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text()
            time.sleep(0.1)
        else:
            pytest.fail("the gateway did not start")
        yield f"{url}/graphql", secret
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_graphql_http_audit_passes_every_must_should_and_may(live_server):
    url, secret = live_server
    script = install_graphql_http()
    ran = subprocess.run(
        ["node", str(script), url], env=os.environ | {"PIGW_TOKEN": secret, "NODE_PATH": str(NODE_DIR / "node_modules")},
        cwd=NODE_DIR, capture_output=True, text=True, timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    results = json.loads(ran.stdout)
    counts = Counter((r["name"].split(" ")[0], r["status"] == "ok") for r in results)
    summary = {level: f"{counts[(level, True)]} pass / {counts[(level, False)]} fail" for level in ("MUST", "SHOULD", "MAY")}
    print(f"\ngraphql-http audit ({len(results)} audits): {summary}")
    failed = [f"{r['name']}: {r['status']} {r['reason']}" for r in results if r["status"] != "ok"]
    assert not failed, "\n".join(failed)
    assert len(results) == 61


def test_a_mutation_by_get_is_405_with_allow_post(live_server):
    url, secret = live_server
    response = httpx.get(url, params={"query": "mutation { __typename }"}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
