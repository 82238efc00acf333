"""The demo supergraph: the booking subgraph (bookings.py), pi-gateway as a Federation v2
subgraph, and Hive Gateway over their composition (`make supergraph`; tests/federation use
`Supergraph` too).

    python federation/supergraph.py [--port 4000]

Seeds the demo registry into DATABASE_URL (as `make demo` does) when it is empty, makes one
token per role, starts the two subgraphs, composes them (compose.mjs, @theguild/federation-
composition) and serves the supergraph with Hive Gateway (gateway.config.mjs: it forwards the
client's Authorization header to the subgraphs), then prints the gateway's GraphiQL URL and
the tokens. Ctrl-C stops all three. Node.js and `make federation-deps` are needed.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
HIVE_GATEWAY = HERE / "node_modules" / ".bin" / "hive-gateway"
COMPOSITION = HERE / "node_modules" / "@theguild" / "federation-composition"
START_TIMEOUT = 60.0  # seconds a process may take to answer
STOP_TIMEOUT = 10.0


def missing() -> str | None:
    """Why the supergraph cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed (Node.js 20+ runs Hive Gateway)"
    if not HIVE_GATEWAY.exists() or not COMPOSITION.exists():
        return f"the gateway's packages are not installed in {HERE}/node_modules (run `make federation-deps`)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Supergraph:
    """The three processes, each in a session of its own, stopped together by `stop()`."""

    def __init__(self, workdir: Path, *, pi_gateway: list[str], env: dict[str, str] | None = None,
                 gateway_port: int | None = None) -> None:
        self.workdir = workdir
        self.pi_gateway = pi_gateway  # the command that runs `pi-gateway`
        self.env = {**os.environ, **(env or {})}
        self.ports = {"bookings": free_port(), "registry": free_port(), "gateway": gateway_port or free_port()}
        self.processes: dict[str, subprocess.Popen] = {}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/graphql"

    def start(self, token: str) -> None:
        """Start the subgraphs, compose them with `token` (any role reads the SDL), serve."""
        self._spawn("bookings", [sys.executable, str(HERE / "bookings.py"), "--port", str(self.ports["bookings"])],
                    ready="/graphql?query=%7B__typename%7D")
        self._spawn("registry", [*self.pi_gateway, "serve", "--federation", "--host", "127.0.0.1",
                                 "--port", str(self.ports["registry"])], ready="/healthz")
        supergraph = self.workdir / "supergraph.graphql"
        composed = subprocess.run(
            ["node", str(HERE / "compose.mjs"), str(supergraph), f"registry={self.url('registry')}",
             f"bookings={self.url('bookings')}"],
            env={**self.env, "PI_GATEWAY_TOKEN": token}, capture_output=True, text=True, timeout=START_TIMEOUT)
        if composed.returncode != 0:
            self.stop()
            raise RuntimeError(f"composition failed:\n{composed.stderr}")
        self._spawn("gateway", [str(HIVE_GATEWAY), "supergraph", str(supergraph), "-c", str(HERE / "gateway.config.mjs"),
                                "--host", "127.0.0.1", "--port", str(self.ports["gateway"])], ready="/readiness")

    def _spawn(self, name: str, argv: list[str], *, ready: str) -> None:
        with open(self.workdir / f"{name}.log", "wb") as log:
            self.processes[name] = subprocess.Popen(argv, cwd=HERE, env=self.env, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{self.ports[name]}{ready}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                break
            try:
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        log_text = self.log(name)
        self.stop()
        raise RuntimeError(f"{name} did not start:\n{log_text}")

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to each process's group (its session), SIGKILL after STOP_TIMEOUT."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT)
        self.processes.clear()


DEFAULT_DATABASE = "sqlite+aiosqlite:///./pi-gateway.db"  # gateway/settings.py's default


def absolute_sqlite(url: str) -> str:
    """A SQLite URL with a relative path made absolute from the current directory; others as given."""
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or url[len(prefix):].startswith("/") or url.endswith(":memory:"):
        return url
    return prefix + str(Path.cwd() / url[len(prefix):])


def main() -> None:
    parser = argparse.ArgumentParser(description="Start the demo supergraph (see the module docstring).")
    parser.add_argument("--port", type=int, default=4000, help="Hive Gateway's port [4000].")
    args = parser.parse_args()
    reason = missing()
    if reason:
        sys.exit(f"make supergraph: {reason}")
    # the subgraphs run in federation/: a relative SQLite path (the default) must name the same
    # file there as here, where the demo is seeded and the tokens are made
    os.environ["DATABASE_URL"] = absolute_sqlite(os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    pi_gateway = [str(Path(sys.executable).parent / "pi-gateway")]
    subprocess.run([*pi_gateway, "seed", "--demo"], check=True)
    tokens = {}
    for role in ("ADMIN", "PRIVACY_OFFICER", "VENDOR_MANAGER", "VIEWER"):
        made = subprocess.run([*pi_gateway, "token", "create", "--role", role, "--name",
                               f"supergraph-{role.lower().replace('_', '-')}"],
                              check=True, capture_output=True, text=True)
        tokens[role] = made.stdout.strip().splitlines()[-1]
    workdir = HERE / ".run"
    workdir.mkdir(exist_ok=True)
    supergraph = Supergraph(workdir, pi_gateway=pi_gateway, gateway_port=args.port)
    supergraph.start(tokens["ADMIN"])
    print(f"booking subgraph  {supergraph.url('bookings')}")
    print(f"pi-gateway        {supergraph.url('registry')} (subgraph)")
    print(f"supergraph        {supergraph.url('gateway')}  <- GraphiQL here; logs in {workdir}")
    print("tokens (send one as `Authorization: Bearer <token>`, in GraphiQL's Headers tab):")
    for role, secret in tokens.items():
        print(f"  {role:<16} {secret}")
    print('try: { customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0001") '
          "{ displayName bookings { room checkIn } handlings { role party { name } purposes { code } } } }")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a TERM stops the three as Ctrl-C does
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        supergraph.stop()


if __name__ == "__main__":
    main()
