"""The benchmark harness of issue 7: `make bench` (or `python -m bench.run --help`).

For each backend (SQLite; PostgreSQL too when PI_GATEWAY_BENCH_POSTGRES_URL names a server
whose user may create databases) it builds two scale databases with `seed_scale` (a small
one and the main one), counts the SQL statements of one Q-map and one Q-handlings request
in process (a before_cursor_execute listener around schema.execute), then starts the real
gateway (`pi-gateway serve`, production settings, its own port, a rate limit too high to
matter) and bench/raw.py under uvicorn, checks that both answer Q-map with the same `data`,
and drives them from a separate load-generator process (bench/load.py): Q-map throughput
of GraphQL against B-raw, Q-handlings latency of random customers at both sizes, and
updateSubcontractor throughput, sampling the server's RSS meanwhile. It prints a table
and writes it to bench/RESULTS.md with the machine's description.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.queries import Q_HANDLINGS, Q_MAP
from registry import migrate
from registry.clock import Clock
from registry.db import Database
from registry.enums import Role
from registry.scale import seed_scale
from registry.tokens import create_token

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "RESULTS.md"
BIN = Path(sys.executable).parent
TIMEZONE = "Asia/Tokyo"
PACKAGES = ["strawberry-graphql", "graphql-core", "starlette", "uvicorn", "sqlalchemy", "sqlmodel", "aiosqlite",
            "asyncpg", "httpx", "orjson"]


@dataclass
class Size:
    customers: int
    subcontractors: int

    @property
    def label(self) -> str:
        return f"{self.customers:,} customers / {self.subcontractors:,} subcontractors"


@dataclass
class Results:
    """One backend's measurements, keyed by table row."""

    backend: str
    rows: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, value) -> None:
        self.rows[key] = str(value)
        print(f"  [{self.backend}] {key}: {value}", flush=True)


# --- databases ----------------------------------------------------------------------------


def sqlite_url(size: Size) -> str:
    return f"sqlite+aiosqlite:///{DATA / f'scale-{size.customers}-{size.subcontractors}.db'}"


async def fresh_postgres(server_url: str, name: str) -> str:
    admin = sa.ext.asyncio.create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def build(url: str, size: Size) -> float:
    """Migrate and seed the scale data; the seconds the seeding took."""
    if url.startswith("sqlite"):
        path = Path(sa.make_url(url).database)
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
    migrate.upgrade(url)

    async def seed() -> float:
        database = Database.connect(url)
        started = time.perf_counter()
        try:
            await seed_scale(database, customers=size.customers, subcontractors=size.subcontractors,
                             clock=Clock(timezone=TIMEZONE))
            return time.perf_counter() - started
        finally:
            await database.dispose()

    return asyncio.run(seed())


def admin_token(url: str) -> str:
    async def create() -> str:
        database = Database.connect(url)
        try:
            async with database.session(write=True) as session:
                _, secret = await create_token(session, name="bench", role=Role.ADMIN)
                return secret
        finally:
            await database.dispose()

    return asyncio.run(create())


# --- statements per request, in process ------------------------------------------------------


def statements_per_request(url: str, query: str, operation: str, variables: dict | None = None) -> int:
    """How many SQL statements one execution of `query` sends (the second run: caches warm)."""
    from schema import build_schema
    from schema.context import Caller, Context

    async def count() -> int:
        database = Database.connect(url)
        schema = build_schema()
        seen = [0]

        def on_execute(*_args) -> None:
            seen[0] += 1

        for engine in {database.reader, database.writer}:
            sa.event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
        try:
            for _ in range(2):
                seen[0] = 0
                context = Context(database=database, clock=Clock(timezone=TIMEZONE),
                                  caller=Caller("bench", Role.ADMIN))
                result = await schema.execute(query, variable_values=variables, context_value=context,
                                              operation_name=operation)
                assert not result.errors, result.errors
            return seen[0]
        finally:
            await database.dispose()

    return asyncio.run(count())


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(command: list[str], url: str, log: Path):
    """A server process on `url`'s database, up and answering /healthz."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": url, "PI_GATEWAY_TIMEZONE": TIMEZONE, "PI_GATEWAY_PORT": str(port),
        # the bench token must never be throttled: the rate limit is a setting of the process
        "PI_GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000", "PI_GATEWAY_RATE_LIMIT_BURST": "1000000",
        # slow answers are measured, not cut short (8 interleaved Q-maps can pass the default 10 s)
        "PI_GATEWAY_EXECUTION_TIMEOUT_SECONDS": "300",
    }
    with open(log, "ab") as out:
        process = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=out, stderr=out,
                                   cwd=ROOT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # up to 30 s
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}; see {log}")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{command[0]} did not answer /healthz; see {log}")
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def gateway(url: str, log: Path):
    return server([str(BIN / "pi-gateway"), "serve"], url, log)


def raw(url: str, log: Path):
    return server([sys.executable, "-m", "uvicorn", "bench.raw:create_app", "--factory", "--log-level", "info"],
                  url, log)


def rss_kib(pid: int) -> int:
    """Resident memory of the process and its children (uvicorn workers), in KiB."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            with open(f"/proc/{current}/task/{current}/children") as children:
                pids += [int(child) for child in children.read().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


@contextmanager
def peak_rss(pid: int):
    """Samples the server's RSS every 50 ms; the peak in MiB lands in the yielded list."""
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    result: list[float] = []
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result.append(round(peak[0] / 1024, 1))


def load(base: str, path: str, *, kind: str, duration: float, concurrency: int, token: str | None = None,
         body: str | None = None, customers: int = 0) -> dict:
    spec = {"url": base + path, "token": token, "kind": kind, "body": body, "customers": customers,
            "duration": duration, "concurrency": concurrency, "warmup": 1.0}
    out = subprocess.run([sys.executable, "-m", "bench.load", json.dumps(spec)], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    if answer["errors"]:
        print(f"  ! {answer['errors']} failed requests, the first: {answer.get('first_error')}", flush=True)
    return answer


def post(base: str, path: str, body: str, token: str | None = None) -> dict:
    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {token}"} if token else {})
    response = httpx.post(base + path, content=body, headers=headers, timeout=120)
    response.raise_for_status()
    return response.json()


# --- one backend --------------------------------------------------------------------------------


def bench_backend(backend: str, urls: dict[str, str], sizes: dict[str, Size], args) -> Results:
    out = Results(backend)
    small, main = sizes["small"], sizes["main"]
    for name in ("small", "main"):
        reuse = backend == "sqlite" and not args.rebuild and Path(sa.make_url(urls[name]).database).exists()
        if reuse:
            out.put(f"seed {sizes[name].label}", "reused (pass --rebuild to time it)")
        else:
            out.put(f"seed {sizes[name].label}", f"{build(urls[name], sizes[name]):.1f} s")
    q_map = json.dumps({"query": Q_MAP, "operationName": "QMap"})
    rnd = random.Random(1)
    for first in (10, 1000):  # 100 times the rows, the same statements
        out.put(f"SQL statements per Q-map (first {first:,} subcontractors)",
                statements_per_request(urls["main"], Q_MAP, "QMap", {"first": first}))
    for name in ("small", "main"):
        variables = {"id": _gid("Customer", rnd.randint(1, sizes[name].customers))}
        out.put(f"SQL statements per Q-handlings ({sizes[name].customers:,} customers)",
                statements_per_request(urls[name], Q_HANDLINGS, "QHandlings", variables))
    log = DATA / f"{backend}-servers.log"
    token = admin_token(urls["main"])
    with gateway(urls["main"], log) as (gql, gql_pid), raw(urls["main"], log) as (bare, raw_pid):
        graphql_data = post(gql, "/graphql", q_map, token)
        raw_data = post(bare, "/raw/map", "{}")
        assert "errors" not in graphql_data, graphql_data.get("errors")
        assert graphql_data["data"] == raw_data["data"], "B-raw's answer differs from the GraphQL answer"
        edges = len(raw_data["data"]["subcontractors"]["edges"])
        out.put("Q-map answer", f"identical on both ({edges:,} subcontractors, "
                f"{len(json.dumps(raw_data)) / 1e6:.2f} MB)")
        common = dict(duration=args.duration, concurrency=args.concurrency)
        mapping = dict(duration=args.map_duration, concurrency=args.concurrency)
        with peak_rss(gql_pid) as gql_rss:
            graphql = load(gql, "/graphql", kind="post", body=q_map, token=token, **mapping)
        with peak_rss(raw_pid) as raw_rss:
            bare_map = load(bare, "/raw/map", kind="post", body="{}", **mapping)
        out.put("Q-map GraphQL req/s (answers; p50)",
                f"{graphql['rps']} ({graphql['requests']}; {graphql['p50_ms']} ms)")
        out.put("Q-map B-raw req/s (answers; p50)",
                f"{bare_map['rps']} ({bare_map['requests']}; {bare_map['p50_ms']} ms)")
        out.put("Q-map GraphQL / B-raw", f"{graphql['rps'] / bare_map['rps']:.3f}" if bare_map["rps"] else "-")
        with peak_rss(gql_pid) as handling_rss:
            handlings_main = load(gql, "/graphql", kind="handlings", token=token, customers=main.customers,
                                  duration=args.duration, concurrency=1)
        with peak_rss(gql_pid) as update_rss:
            updates = load(gql, "/graphql", kind="update", token=token, **common)
        out.put("updateSubcontractor req/s (p50)", f"{updates['rps']} ({updates['p50_ms']} ms)")
        out.put("peak RSS MiB: gateway Q-map / handlings / updates",
                f"{gql_rss[0]} / {handling_rss[0]} / {update_rss[0]}")
        out.put("peak RSS MiB: B-raw Q-map", raw_rss[0])
    small_token = admin_token(urls["small"])
    with gateway(urls["small"], log) as (gql, _pid):
        handlings_small = load(gql, "/graphql", kind="handlings", token=small_token, customers=small.customers,
                               duration=args.duration, concurrency=1)
    for name, measured in (("small", handlings_small), ("main", handlings_main)):
        out.put(f"Q-handlings p50 / p95 ms ({sizes[name].customers:,} customers)",
                f"{measured['p50_ms']} / {measured['p95_ms']}")
    if handlings_small["p95_ms"]:
        out.put("Q-handlings p95 main / small", f"{handlings_main['p95_ms'] / handlings_small['p95_ms']:.2f}")
    failures = sum(m["errors"] for m in (graphql, bare_map, handlings_main, handlings_small, updates))
    out.put("failed requests", failures)
    return out


def _gid(type_name: str, key: int) -> str:
    from bench.load import gid

    return gid(type_name, key)


# --- report ------------------------------------------------------------------------------------


def machine(postgres_url: str | None) -> list[str]:
    with open("/proc/meminfo") as meminfo:
        total = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or "unknown")
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    lines = [f"- {os.cpu_count()} CPUs ({cpu}), {total / 1024 / 1024:.1f} GiB memory, {platform.platform()}",
             f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
             f"- {versions}"]
    if postgres_url:
        lines.append(f"- PostgreSQL: {_postgres_version(postgres_url)}")
    return lines


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _postgres_version(url: str) -> str:
    async def ask() -> str:
        engine = sa.ext.asyncio.create_async_engine(url, poolclass=sa.pool.NullPool)
        async with engine.connect() as conn:
            version = (await conn.execute(sa.text("SHOW server_version"))).scalar_one()
        await engine.dispose()
        return version

    return asyncio.run(ask())


def table(results: list[Results]) -> str:
    keys = list(dict.fromkeys(key for r in results for key in r.rows))
    lines = ["| measure | " + " | ".join(r.backend for r in results) + " |",
             "|---|" + "---|" * len(results)]
    lines += [f"| {key} | " + " | ".join(r.rows.get(key, "-") for r in results) + " |" for key in keys]
    return "\n".join(lines)


def write_results(results: list[Results], args, command: str) -> None:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([
        "# Benchmark results (issue 7)",
        "",
        f"Made by `{command}` on {when}. Sizes: small = {args.small_customers:,} customers / "
        f"{args.small_subcontractors:,} subcontractors, main = {args.customers:,} customers / "
        f"{args.subcontractors:,} subcontractors. Each load phase: {args.duration:g} s ({args.map_duration:g} s for Q-map) after 1 s of warm-up, "
        "counting the answers completed inside that window; "
        f"Q-map and updates with {args.concurrency} concurrent clients, Q-handlings with 1 (latency without "
        "queueing). One gateway worker (`pi-gateway serve`, production settings and request log, except a rate "
        "limit too high to matter and a 300 s operation timeout); B-raw is bench/raw.py under the same uvicorn "
        "(no authentication). The load generator (bench/load.py, httpx) runs in its own "
        "process on the same machine, so client and server share its CPUs.",
        "",
        "Machine:",
        "",
        *machine(args.postgres_url),
        "",
        table(results),
        "",
    ])
    RESULTS.write_text(text)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--subcontractors", type=int, default=1_000)
    parser.add_argument("--large", action="store_true", help="1,000,000 customers and 5,000 subcontractors")
    parser.add_argument("--small-customers", type=int, default=1_000)
    parser.add_argument("--small-subcontractors", type=int, default=None,
                        help="default: as many as the main size, so that Q-handlings compares customers only")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load phase")
    parser.add_argument("--map-duration", type=float, default=30.0, help="seconds per Q-map phase (slow answers)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true", help="rebuild SQLite databases even when present")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--postgres-url", default=os.environ.get("PI_GATEWAY_BENCH_POSTGRES_URL"),
                        help="a server whose user may create databases [PI_GATEWAY_BENCH_POSTGRES_URL]")
    args = parser.parse_args(argv)
    if args.large:
        args.customers, args.subcontractors = 1_000_000, 5_000
    if args.small_subcontractors is None:
        args.small_subcontractors = args.subcontractors
    sizes = {"small": Size(args.small_customers, args.small_subcontractors),
             "main": Size(args.customers, args.subcontractors)}
    DATA.mkdir(parents=True, exist_ok=True)
    results = []
    if not args.no_sqlite:
        print("SQLite", flush=True)
        urls = {name: sqlite_url(size) for name, size in sizes.items()}
        results.append(bench_backend("SQLite", urls, sizes, args))
    if args.postgres_url:
        print("PostgreSQL", flush=True)
        urls = {name: asyncio.run(fresh_postgres(args.postgres_url, f"pigw_bench_{name}")) for name in sizes}
        results.append(bench_backend("PostgreSQL", urls, sizes, args))
    print()
    print(table(results))
    write_results(results, args, "make bench" + (" BENCH_ARGS=" + " ".join(argv or sys.argv[1:])
                                                 if (argv or sys.argv[1:]) else ""))


if __name__ == "__main__":
    main()
