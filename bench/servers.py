"""The processes the harness measures: the real gateway (`pi-gateway serve`), B-raw and the
scale seeder, each started like production starts it, and their resident memory.

A server gets its own port, the production settings and a rate limit too high to matter (the
bench token must never be throttled), and is up once it answers /healthz. Memory is sampled
every 50 ms over the whole process tree, because `serve --workers N` is a supervisor, N
workers and multiprocessing's resource tracker: the issue's RSS bound applies to what the
gateway costs the machine, and to each worker.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TIMEZONE = "Asia/Tokyo"
CACHE_SETTING = "PI_GATEWAY_RESPONSE_CACHE_MB"


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(url: str, **settings: str | None) -> dict[str, str]:
    """The process environment on `url`'s database; a setting given as None is removed, so
    that the product's default applies."""
    env = os.environ | {"DATABASE_URL": url, "PI_GATEWAY_TIMEZONE": TIMEZONE}
    for name, value in settings.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@contextmanager
def server(command: list[str], env: dict[str, str], log: Path, *, rate_limited: bool = False):
    """A server process, up and answering /healthz; stopped with its whole process group.
    `rate_limited` keeps the product's rate limit and execution timeout (the abuse phase)."""
    port = free_port()
    env = env | {"PI_GATEWAY_PORT": str(port)}
    if not rate_limited:
        env |= {
            "PI_GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000", "PI_GATEWAY_RATE_LIMIT_BURST": "1000000",
            # slow answers are measured, not cut short (8 interleaved naive Q-maps can pass the default 10 s)
            "PI_GATEWAY_EXECUTION_TIMEOUT_SECONDS": "300",
        }
    with open(log, "ab") as out:
        process = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=out, stderr=out,
                                   cwd=ROOT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base, command[0], log)
        yield Server(base, process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_up(process: subprocess.Popen, base: str, name: str, log: Path) -> None:
    for _ in range(600):  # up to 60 s: serve migrates first
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer /healthz; see {log}")


def gateway(url: str, log: Path, *, cache_mb: str | None, workers: int = 1, rate_limited: bool = False,
            federation: bool = False):
    """`pi-gateway serve` on `url`; `cache_mb` None leaves the response cache at its default;
    `federation` serves it as a Federation v2 subgraph (`serve --federation`)."""
    command = [str(BIN / "pi-gateway"), "serve", "--workers", str(workers), *(["--federation"] if federation else [])]
    return server(command, environment(url, **{CACHE_SETTING: cache_mb}), log, rate_limited=rate_limited)


def raw(url: str, log: Path):
    command = [sys.executable, "-m", "uvicorn", "bench.raw:create_app", "--factory", "--log-level", "info"]
    return server(command, environment(url), log)


# --- memory ---------------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """The process and its descendants, whichever of its threads started them."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in children.read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
    except (FileNotFoundError, ProcessLookupError):
        return 0


def role_of(pid: int, root: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return "gone"
    if b"spawn_main" in command:
        return "worker"
    if b"resource_tracker" in command:
        return "resource tracker"
    return "main" if pid == root else "child"


@dataclass
class Peak:
    """The largest resident memory seen, in MiB: of the process tree at once, and of each process."""

    total: float = 0.0
    processes: dict[int, tuple[str, float]] = field(default_factory=dict)

    def observe(self, root: int) -> None:
        sizes = {pid: rss_kib(pid) / 1024 for pid in process_tree(root)}
        self.total = max(self.total, round(sum(sizes.values()), 1))
        for pid, mib in sizes.items():
            role, seen = self.processes.get(pid) or (role_of(pid, root), 0.0)
            self.processes[pid] = (role, max(seen, round(mib, 1)))

    @property
    def largest_process(self) -> float:
        """The peak of the process that serves: the one worker, or the largest of several."""
        serving = [mib for role, mib in self.processes.values() if role == "worker"]
        return max(serving or [self.total])

    def describe(self) -> str:
        if len(self.processes) <= 1:
            return f"{self.total}"
        parts = sorted(self.processes.values(), key=lambda part: (part[0] != "worker", -part[1]))
        return f"{self.total} (" + ", ".join(f"{role} {mib}" for role, mib in parts) + ")"


@contextmanager
def sampled_rss(pid: int):
    """Samples the process tree's RSS every 50 ms while the block runs; yields the Peak."""
    peak, stop = Peak(), threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak.observe(pid)
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak.observe(pid)
