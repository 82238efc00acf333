"""The real gateway as a separate process, for tests that need a server a client can race or kill.

`LiveServer` runs `pi-gateway serve` (which migrates, then serves with uvicorn) on a free
port against one database, waits for /healthz, and can be stopped, SIGKILLed and started
again on the same database. Tokens come from the `pi-gateway token create` command, the way
an operator makes them.

Test modules use the fixtures by importing them:

    from tests.gateway.live import live_database_url, live_server  # noqa: F401

`live_database_url` yields a migrated, empty database per backend, copied from the session's
template (tests/conftest.py): a SQLite file in the test's folder, and a fresh PostgreSQL
database when PI_GATEWAY_TEST_POSTGRES_URL is set (skipped with that reason otherwise).
Every wait is bounded.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from registry import migrate
from registry.enums import Role
from tests.conftest import BACKENDS, POSTGRES_URL, Templates, migrated_registry, postgres_database

VENV_BIN = Path(sys.executable).parent
START_ATTEMPTS = 300  # x START_PAUSE: how long a start may take before the test fails
START_PAUSE = 0.1
STOP_TIMEOUT = 20.0
COMMAND_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """One gateway process on `database_url`; `start()` again after `kill()` reuses the database."""

    def __init__(self, database_url: str, log_dir: Path, *, log_level: str = "warning"):
        self.database_url = database_url
        self.log_dir = log_dir
        self.log_level = log_level
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PI_GATEWAY_")}
        return env | {
            "DATABASE_URL": self.database_url,
            "PI_GATEWAY_LOG_LEVEL": self.log_level,
            # the tests send hundreds of writes with one token: the rate limit is not under test here
            "PI_GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
            "PI_GATEWAY_RATE_LIMIT_BURST": "100000",
            "PI_GATEWAY_EXECUTION_TIMEOUT_SECONDS": "60",
        }

    def command(self, *args: str) -> str:
        """Run `pi-gateway ARGS` on this database; its stdout, failing the test on a non-zero exit."""
        done = subprocess.run(
            [str(VENV_BIN / "pi-gateway"), *args], env=self.environment(), capture_output=True,
            text=True, timeout=COMMAND_TIMEOUT,
        )
        assert done.returncode == 0, f"pi-gateway {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        return done.stdout

    def create_token(self, role: Role = Role.ADMIN, name: str | None = None) -> str:
        """A new token's secret (printed alone on the command's last line)."""
        output = self.command("token", "create", "--role", role.value, "--name", name or f"live-{role.lower()}")
        return output.strip().splitlines()[-1]

    def seed_demo(self) -> None:
        self.command("seed", "--demo")

    def start(self) -> str:
        """Start the server and wait until /healthz answers; its base URL."""
        assert self.process is None, "already running"
        self.starts += 1
        log = open(self.log_dir / f"server-{self.starts}.log", "wb")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "pi-gateway"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()  # the child holds its own descriptor
        self._wait_healthy()
        return self.base_url

    def _wait_healthy(self) -> None:
        for _ in range(START_ATTEMPTS):
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(START_PAUSE)
        self.kill()
        raise AssertionError(f"the server did not answer /healthz in time:\n{self.log()}")

    def log(self) -> str:
        path = self.log_dir / f"server-{self.starts}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)
        self.process = None

    def stop(self) -> None:
        """A graceful stop (SIGTERM), falling back to SIGKILL."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


@asynccontextmanager
async def backend_database(backend: str, tmp_path: Path, templates: Templates | None = None):
    """A migrated, empty database URL on `backend` (SQLite file or fresh PostgreSQL database),
    a copy of the session's migrated template when given the `templates` fixture."""
    if backend == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL: set PI_GATEWAY_TEST_POSTGRES_URL to run this live-server test on PostgreSQL")
    if templates is not None:
        async with templates.copy(backend, migrated_registry, tmp_path / "live.db") as url:
            yield url
    elif backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
        migrate.upgrade(url)
        yield url
    else:
        async with postgres_database(POSTGRES_URL) as url:
            migrate.upgrade(url)
            yield url


@pytest.fixture(params=BACKENDS)
async def live_database_url(request, tmp_path, templates):
    async with backend_database(request.param, tmp_path, templates) as url:
        yield url


@pytest.fixture
def live_server(live_database_url, tmp_path):
    """A running gateway on the migrated test database; stopped (or killed) afterwards."""
    server = LiveServer(live_database_url, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
