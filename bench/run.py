"""The benchmark harness of issue 7: `make bench` (or `python -m bench.run --help`).

For each backend (SQLite; PostgreSQL too when PI_GATEWAY_BENCH_POSTGRES_URL names a server
whose user may create databases) it times `pi-gateway seed --scale` into a throwaway
database, builds two scale databases that differ only in customers (small and main), counts
the SQL statements of one Q-map and one Q-handlings request on the real app in process, then
starts the real gateway (bench/servers.py) and B-raw (bench/raw.py) and drives them from a
separate load-generator process (bench/load.py):

- Q-map uncached (response cache off) against B-raw, loaded in turn round after round at 1
  worker, then at 2 workers;
- Q-map cached (the same query repeated) against B-raw;
- Q-handlings of customers never asked before, on the cached gateway, at both sizes;
- Q-entities (issue 15): federation's `_entities` for 100 customers at once, each request a new
  draw, on a cached gateway serving as a subgraph (`serve --federation`), at both sizes
  (`--only entities` runs just this and its statement counts, into bench/RESULTS-entities.md);
- updateSubcontractor throughput with the audit trail, then a check that the cached gateway
  answers what B-raw reads from the database (no stale answer);
- Q-small (issue 11: one subcontractor with its contracts, where a request's fixed cost
  dominates) on the small database: B-raw, the gateway uncached and cached, in interleaved
  rounds (`--only small` runs just this, into bench/RESULTS-small.md);

checking first that every gateway answers Q-map and Q-small with B-raw's `data`, and sampling
the servers' RSS meanwhile. It prints the table and the targets of issues 7 and 11 with their
verdicts, and writes both to bench/RESULTS.md (or --output) with the machine's description.
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench import abuse
from bench.load import entities_body, gid
from bench.queries import Q_HANDLINGS, Q_MAP, Q_SMALL, REPRESENTATIONS
from bench.report import Results, duration, table, write_results
from bench.servers import BIN, ROOT, TIMEZONE, Peak, Server, environment, gateway, raw, sampled_rss
from bench.targets import (
    MB_PER_MIB,
    NO_FAILED_REQUEST,
    abuse_targets,
    entities_targets,
    issue_targets,
    small_targets,
    targets_table,
)
from registry import migrate
from registry.clock import Clock
from registry.db import Database
from registry.enums import Role
from registry.scale import seed_scale
from registry.tokens import create_token

DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "RESULTS.md"
Q_MAP_BODY = json.dumps({"query": Q_MAP, "operationName": "QMap"})
SMALL_KEY = 7  # Q-small's subcontractor: one contract at the scale databases' sizes
Q_SMALL_BODY = json.dumps({"query": Q_SMALL, "operationName": "QSmall",
                           "variables": {"id": gid("Subcontractor", SMALL_KEY)}})
RAW_SMALL_BODY = json.dumps({"id": gid("Subcontractor", SMALL_KEY)})
STARTED = time.perf_counter()


def say(text: str) -> None:
    """A progress line, stamped with the time since the run began."""
    minutes, seconds = divmod(int(time.perf_counter() - STARTED), 60)
    print(f"[{minutes:02d}:{seconds:02d}] {text}", flush=True)


@dataclass
class Size:
    customers: int
    subcontractors: int

    @property
    def name(self) -> str:
        return f"scale-{self.customers}-{self.subcontractors}"

    @property
    def label(self) -> str:
        return f"{self.customers:,} customers / {self.subcontractors:,} subcontractors"


# --- databases ----------------------------------------------------------------------------


def sqlite_url(name: str) -> str:
    return f"sqlite+aiosqlite:///{DATA / f'{name}.db'}"


def database_file(url: str) -> Path:
    return Path(sa.make_url(url).database)


def remove_sqlite(url: str) -> None:
    path = database_file(url)
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()


async def admin_engine(server_url: str):
    return sa.ext.asyncio.create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


async def fresh_postgres(server_url: str, name: str) -> str:
    admin = await admin_engine(server_url)
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres(server_url: str, name: str) -> None:
    admin = await admin_engine(server_url)
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def build(url: str, size: Size) -> float:
    """Migrate and seed the scale data (a stage line as each finishes); the seconds the seeding took."""
    if url.startswith("sqlite"):
        remove_sqlite(url)
    migrate.upgrade(url)

    shown = set()

    def progress(stage: str, done: int, total: int) -> None:
        quarter = 4 * done // total if total else 4  # long stages (a million customers) show their way
        if (stage, quarter) not in shown and (quarter == 4 or total >= 100_000):
            shown.add((stage, quarter))
            say(f"  {stage}: {done:,}/{total:,}")

    async def seed() -> float:
        database = Database.connect(url)
        started = time.perf_counter()
        try:
            await seed_scale(database, customers=size.customers, subcontractors=size.subcontractors,
                             clock=Clock(timezone=TIMEZONE), progress=progress)
            return time.perf_counter() - started
        finally:
            await database.dispose()

    return asyncio.run(seed())


def seeding_code() -> str:
    """A fingerprint of what a scale database is made of (the generator, the demo business it
    starts from, the tables, the migrations): a SQLite file built by other code is rebuilt."""
    sources = [ROOT / "registry" / name for name in ("scale.py", "demo.py", "models.py")]
    sources += sorted((ROOT / "registry" / "migrations" / "versions").glob("*.py"))
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def prepare(url: str, size: Size, *, reuse: bool) -> str:
    """The scale database at `url`, built unless a complete SQLite build by the same seeding
    code may be reused; the row text."""
    sqlite = url.startswith("sqlite")
    marker = database_file(url).with_suffix(".seeded") if sqlite else None
    seeded = marker.read_text().split() if marker and marker.exists() else []
    if reuse and seeded[1:] == [seeding_code()] and database_file(url).exists():
        say(f"  reusing {database_file(url).relative_to(ROOT)} (the same seeding code)")
        return f"reused (seeded in {seeded[0]} s; --rebuild to redo)"
    say(f"  building {size.label}")
    if marker:
        marker.unlink(missing_ok=True)
    seconds = build(url, size)
    if marker:
        marker.write_text(f"{seconds:.1f} {seeding_code()}\n")
    return f"{seconds:.1f} s"


def timed_seed(url: str, size: Size, log: Path) -> tuple[float, Peak]:
    """The issue's seed target, as an operator meets it: the CLI command's wall-clock time and peak RSS."""
    command = [str(BIN / "pi-gateway"), "seed", "--scale", str(size.customers),
               "--subcontractors", str(size.subcontractors)]
    started = time.perf_counter()
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=environment(url), stdout=out, stderr=out, cwd=ROOT)
    with sampled_rss(process.pid) as peak:
        code = process.wait()
    if code:
        raise RuntimeError(f"`{' '.join(command[1:])}` exited with {code}; see {log}")
    return time.perf_counter() - started, peak


def token_of(url: str, name: str = "bench", role: str = "ADMIN") -> str:
    """A new token's secret on `url`'s registry."""
    async def create() -> str:
        database = Database.connect(url)
        try:
            async with database.session(write=True) as session:
                _, secret = await create_token(session, name=name, role=Role(role))
                return secret
        finally:
            await database.dispose()

    return asyncio.run(create())


# --- statements per request, in process ------------------------------------------------------


def statements_per_request(url: str, token: str, body: str, *, federation: bool = False) -> int:
    """How many SQL statements the gateway sends for one request: the second of two identical
    ones to the real app (response cache off, the token lookup cached), counted on its engines;
    `federation`: the app serving as a subgraph."""
    from gateway.app import create_app
    from gateway.settings import load_settings

    async def count() -> int:
        database = Database.connect(url)
        seen = [0]

        def on_execute(*_args) -> None:
            seen[0] += 1

        for engine in {database.reader, database.writer}:
            sa.event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
        settings = load_settings(database_url=url, timezone=TIMEZONE, log_level="warning", auth_cache_seconds=3600,
                                 response_cache_mb=0, federation=federation)
        app = create_app(settings, database=database)
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
                for _ in range(2):
                    seen[0] = 0
                    response = await client.post("/graphql", content=body, headers=headers, timeout=300)
                    assert response.status_code == 200 and "errors" not in response.json(), response.text[:300]
            return seen[0]
        finally:
            await database.dispose()

    return asyncio.run(count())


def handlings_body(customer: int) -> str:
    return json.dumps({"query": Q_HANDLINGS, "operationName": "QHandlings",
                       "variables": {"id": gid("Customer", customer)}})


# --- load and answers -------------------------------------------------------------------------


def load(base: str, path: str, *, kind: str, duration: float, concurrency: int, token: str | None = None,
         body: str | None = None, customers: int = 0, distinct: bool = False, client: str = "httpx") -> dict:
    spec = {"url": base + path, "token": token, "kind": kind, "body": body, "customers": customers,
            "distinct": distinct, "duration": duration, "concurrency": concurrency, "warmup": 1.0, "client": client}
    out = subprocess.run([sys.executable, "-m", "bench.load", json.dumps(spec)], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"the load generator failed:\n{out.stderr[-2000:]}")
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    if answer["errors"]:
        print(f"    ! {answer['errors']} failed requests, the first: {answer.get('first_error')}", flush=True)
    return answer


def post(base: str, path: str, body: str, token: str | None = None) -> dict:
    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {token}"} if token else {})
    response = httpx.post(base + path, content=body, headers=headers, timeout=300)
    response.raise_for_status()
    return response.json()


def throughput(measured: dict) -> str:
    return f"{measured['rps']} ({measured['requests']}; {measured['p50_ms']} ms)"


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def combined(rounds: list[dict]) -> dict:
    """Several rounds of one load as one: answers over seconds, and the median round's p50."""
    requests, seconds = sum(m["requests"] for m in rounds), sum(m["seconds"] for m in rounds)
    rps = round(requests / seconds, 1) if seconds else 0.0
    p50 = sorted(m["p50_ms"] or 0.0 for m in rounds)[len(rounds) // 2]
    return {"rps": rps, "requests": requests, "p50_ms": p50, "shown": f"{rps} ({requests}; {p50} ms)"}


class Answers:
    """The identical-answer checks of one backend: each gateway's Q-map `data` against B-raw's."""

    def __init__(self, out: Results):
        self.out, self.checked, self.differing = out, [], []

    def check(self, name: str, graphql: dict, bare: dict) -> None:
        self.checked.append(name)
        if "errors" in graphql or graphql.get("data") != bare["data"]:
            self.differing.append(name)
            say(f"  ! Q-map differs from B-raw: {name}: {str(graphql.get('errors') or 'other data')[:300]}")

    def report(self, bare: dict, renamed: int) -> None:
        size = f"{len(bare['data']['subcontractors']['edges']):,} subcontractors, {len(json.dumps(bare)) / 1e6:.2f} MB"
        verdict = (f"DIFFERS: {', '.join(self.differing)}" if self.differing
                   else f"identical: {', '.join(self.checked)}")
        self.out.put("Q-map answer vs B-raw", f"{verdict} ({size}; {renamed} renamed by the writes)")
        self.out.values["answers_identical"] = not self.differing


# --- one backend --------------------------------------------------------------------------------


@dataclass
class Databases:
    small: str
    main: str
    seed: str  # the throwaway database of the seed-time row
    drop_seed: Callable[[], None]


class BackendRun:
    """Every measurement on one database backend, in the order they run; `run()` returns the Results."""

    def __init__(self, backend: str, dbs: Databases, sizes: dict[str, Size], args):
        self.out, self.dbs, self.sizes, self.args = Results(backend), dbs, sizes, args
        self.log = DATA / f"{backend.lower()}-servers.log"  # the servers' and seeder's output, this run's only
        self.log.write_text("")
        self.answers = Answers(self.out)
        self.measured: list[dict] = []  # every load phase, for the failed-request count
        self.peaks: dict[str, Peak] = {}
        self.tokens: dict[str, str] = {}

    def say(self, text: str) -> None:
        say(f"{self.out.backend}: {text}")

    def load(self, server: Server, path: str = "/graphql", **spec) -> dict:
        spec.setdefault("duration", self.args.duration)
        spec.setdefault("concurrency", self.args.concurrency)
        measured = load(server.base, path, **spec)
        self.measured.append(measured)
        return measured

    def q_map(self, server: Server, **spec) -> dict:
        spec.setdefault("duration", self.args.map_duration)
        return self.load(server, kind="post", body=Q_MAP_BODY, token=self.tokens["main"], **spec)

    def gateway_map(self, server: Server) -> dict:
        return post(server.base, "/graphql", Q_MAP_BODY, self.tokens["main"])

    def run(self) -> Results:
        if self.args.only in ("abuse", "small"):
            self.prepare_databases(("small",))
        elif self.args.only == "entities":
            self.prepare_databases()
            self.count_entities_statements()
            self.entities()
            self.report_failures()
        else:
            self.run_issue_7()
        if self.args.only in (None, "small"):
            self.small()
            self.report_failures()
        if self.args.only in (None, "abuse"):
            self.abuse()
        return self.out

    def abuse(self) -> None:
        """Issue 10's phase (bench/abuse.py), on the small scale database."""
        rows, values = abuse.measure(self.dbs.small, self.log, self.args.abuse_duration, self.say)
        for key, value in rows.items():
            self.out.put(key, value)
        self.out.values.update(values)

    def run_issue_7(self) -> None:
        self.time_seed()
        self.prepare_databases()
        self.count_statements()
        with raw(self.dbs.main, self.log) as bare:
            before = post(bare.base, "/raw/map", "{}")
            self.uncached(bare, before)
            renamed = self.cached(bare, before)
        self.answers.report(before, renamed)
        self.report_memory()
        if self.args.only == "issue7":
            self.report_failures()

    def report_failures(self) -> None:
        failed = sum(measured["errors"] for measured in self.measured)
        self.out.put("failed requests", failed)
        self.out.values["failed_requests"] = failed

    def time_seed(self) -> None:
        size = Size(self.args.seed_customers, self.args.seed_subcontractors)
        command = f"seed --scale {size.customers:,} --subcontractors {size.subcontractors:,}"
        self.say(f"timing `pi-gateway {command}` into a throwaway database")
        seconds, peak = timed_seed(self.dbs.seed, size, self.log)
        self.dbs.drop_seed()
        self.out.put(f"`{command}` (the command, wall clock; peak RSS)", f"{seconds:.1f} s; {peak.total} MiB")
        self.out.values["seed_seconds"] = round(seconds, 1)

    def prepare_databases(self, names: tuple[str, ...] = ("small", "main")) -> None:
        self.say("scale databases")
        reuse = self.out.backend == "SQLite" and not self.args.rebuild
        for name in names:
            url = getattr(self.dbs, name)
            self.out.put(f"seed {self.sizes[name].label}", prepare(url, self.sizes[name], reuse=reuse))
            self.tokens[name] = token_of(url)

    def count_statements(self) -> None:
        self.say("SQL statements per request (in process, response cache off)")
        map_counts, handling_counts = [], []
        for first in (10, 1000):  # 100 times the rows, the same statements
            body = json.dumps({"query": Q_MAP, "operationName": "QMap", "variables": {"first": first}})
            map_counts.append(statements_per_request(self.dbs.main, self.tokens["main"], body))
            self.out.put(f"SQL statements per Q-map (first {first:,} subcontractors)", map_counts[-1])
        rnd = random.Random(1)
        for name in ("small", "main"):
            body = handlings_body(rnd.randint(1, self.sizes[name].customers))
            handling_counts.append(statements_per_request(getattr(self.dbs, name), self.tokens[name], body))
            self.out.put(f"SQL statements per Q-handlings ({self.sizes[name].customers:,} customers)",
                         handling_counts[-1])
        self.out.values["map_statements"] = max(map_counts)
        self.out.values["map_statements_constant"] = len(set(map_counts)) == 1
        self.out.values["handlings_statements_constant"] = len(set(handling_counts)) == 1
        self.count_entities_statements()

    def count_entities_statements(self) -> None:
        """Q-entities on the app serving as a subgraph: for one representation and for a hundred,
        at both sizes (issue 15: the statements do not grow with the representations)."""
        rnd, counts = random.Random(2), []
        for name in ("small", "main"):
            customers = self.sizes[name].customers
            drawn = rnd.sample(range(1, customers + 1), min(REPRESENTATIONS, customers))
            for numbers in (drawn[:1], drawn):
                body = entities_body(numbers)
                counts.append(statements_per_request(getattr(self.dbs, name), self.tokens[name], body,
                                                     federation=True))
                self.out.put(f"SQL statements per Q-entities ({len(numbers)} of {customers:,} customers)",
                             counts[-1])
        self.out.values["entities_statements"] = max(counts)
        self.out.values["entities_statements_constant"] = len(set(counts)) == 1

    def uncached(self, bare: Server, bare_answer: dict) -> None:
        """Q-map with the response cache off, against B-raw, at 1 and at 2 workers. The gateway
        at 1 worker and B-raw are loaded in turn, round after round (`--small-rounds` rounds
        sharing `--map-duration`), so that the machine's other load falls on both alike."""
        rounds = max(1, self.args.small_rounds)
        each = self.args.map_duration / rounds
        measured: dict[str, list[dict]] = {"uncached": [], "B-raw": []}
        with gateway(self.dbs.main, self.log, cache_mb="0") as gql:
            self.answers.check("uncached", self.gateway_map(gql), bare_answer)
            with sampled_rss(gql.pid) as self.peaks["uncached Q-map"], \
                    sampled_rss(bare.pid) as self.peaks["B-raw Q-map"]:
                for number in range(1, rounds + 1):
                    self.say(f"Q-map round {number}/{rounds}: uncached 1 worker, B-raw, {each:g} s each")
                    measured["uncached"].append(self.q_map(gql, duration=each))
                    measured["B-raw"].append(self.load(bare, "/raw/map", kind="post", body="{}", duration=each))
        one, bare_map = combined(measured["uncached"]), combined(measured["B-raw"])
        seconds = f"{self.args.map_duration:g} s"
        with gateway(self.dbs.main, self.log, cache_mb="0", workers=2) as gql:
            self.answers.check("2 workers", self.gateway_map(gql), bare_answer)
            self.say(f"Q-map uncached, 2 workers, {seconds}")
            with sampled_rss(gql.pid) as self.peaks["uncached Q-map, 2 workers"]:
                two = self.q_map(gql)
        out = self.out
        out.put("Q-map B-raw req/s (answers; p50)", throughput(bare_map))
        out.put("Q-map uncached req/s, 1 worker (answers; p50)", throughput(one))
        out.values["bare_rps"] = bare_map["rps"]
        out.values["map_ratio"] = ratio(one["rps"], bare_map["rps"])
        out.put("Q-map uncached / B-raw", out.values["map_ratio"])
        out.put("Q-map uncached req/s, 2 workers (answers; p50)", throughput(two))
        out.values["workers_ratio"] = ratio(two["rps"], one["rps"])
        out.put("Q-map uncached 2 workers / 1 worker", out.values["workers_ratio"])

    def cached(self, bare: Server, before: dict) -> int:
        """Q-map cached, Q-handlings at both sizes and the writes, all with the response cache on;
        how many subcontractors of the Q-map answer the writes renamed."""
        out = self.out
        with gateway(self.dbs.main, self.log, cache_mb=None) as gql:
            for name in ("cached (miss)", "cached (hit)"):
                self.answers.check(name, self.gateway_map(gql), before)
            self.say(f"Q-map cached, {self.args.map_duration:g} s")
            with sampled_rss(gql.pid) as self.peaks["cached Q-map"]:
                cached = self.q_map(gql)
            out.put("Q-map cached req/s (answers; p50)", throughput(cached))
            out.values["map_cached_ratio"] = ratio(cached["rps"], out.values["bare_rps"])
            out.put("Q-map cached / B-raw", out.values["map_cached_ratio"])
            self.handlings(gql)
            self.say(f"updateSubcontractor, cache on, {self.args.duration:g} s")
            with sampled_rss(gql.pid) as self.peaks["cached updates"]:
                updates = self.load(gql, kind="update", token=self.tokens["main"])
            out.put("updateSubcontractor req/s, cache on (answers; p50)", throughput(updates))
            after = post(bare.base, "/raw/map", "{}")
            self.answers.check("cached after the writes", self.gateway_map(gql), after)
        edges = zip(before["data"]["subcontractors"]["edges"], after["data"]["subcontractors"]["edges"])
        return sum(old != new for old, new in edges)

    def handlings(self, gql: Server) -> None:
        """Q-handlings of customers never asked before, on the cached gateway: at the main size
        on `gql`, at the small size on a second gateway."""
        measured = {}
        self.say(f"Q-handlings, {self.sizes['main'].customers:,} customers, {self.args.duration:g} s")
        with sampled_rss(gql.pid) as self.peaks["cached handlings"]:
            measured["main"] = self.handlings_load(gql, "main")
        with gateway(self.dbs.small, self.log, cache_mb=None) as small:
            self.say(f"Q-handlings, {self.sizes['small'].customers:,} customers, {self.args.duration:g} s")
            measured["small"] = self.handlings_load(small, "small")
        for name in ("small", "main"):
            m, ran_out = measured[name], ", every customer asked" if measured[name]["exhausted"] else ""
            self.out.put(f"Q-handlings p50 / p95 ms ({self.sizes[name].customers:,} customers; answers)",
                         f"{m['p50_ms']} / {m['p95_ms']} ({m['requests']}{ran_out})")
        main, small_p95 = measured["main"]["p95_ms"], measured["small"]["p95_ms"]
        self.out.values["handlings_p95_main"] = main
        if main and small_p95:
            self.out.values["handlings_ratio"] = ratio(main, small_p95)
            self.out.put("Q-handlings p95 main / small", self.out.values["handlings_ratio"])
        self.entities()

    def entities(self) -> None:
        """Q-entities (issue 15) on a cached gateway serving as a subgraph, at both sizes, one
        client (latency without queueing, as Q-handlings), each request a new draw of customers."""
        for name in ("small", "main"):
            size = self.sizes[name]
            with gateway(getattr(self.dbs, name), self.log, cache_mb=None, federation=True) as subgraph:
                self.say(f"Q-entities, {REPRESENTATIONS} of {size.customers:,} customers, {self.args.duration:g} s")
                with sampled_rss(subgraph.pid) as self.peaks[f"cached entities ({name})"]:
                    m = self.load(subgraph, kind="entities", token=self.tokens[name], customers=size.customers,
                                  concurrency=1)
            each = f"{m['p50_ms'] / REPRESENTATIONS:.2f}" if m["p50_ms"] else "-"
            self.out.put(f"Q-entities p50 / p95 ms ({REPRESENTATIONS} of {size.customers:,} customers; answers; "
                         "p50 per customer)", f"{m['p50_ms']} / {m['p95_ms']} ({m['requests']}; {each})")
            self.out.values[f"entities_p95_{name}"] = m["p95_ms"]

    def handlings_load(self, server: Server, size: str) -> dict:
        return self.load(server, kind="handlings", token=self.tokens[size], distinct=True,
                         customers=self.sizes[size].customers, concurrency=1)

    def small(self) -> None:
        """Q-small on the small database: B-raw, the gateway with the response cache off and on,
        all three up at once and loaded in turn, round after round, so that the machine's other
        load falls on each alike; req/s is each one's answers over its seconds in all rounds."""
        token, put = self.tokens["small"], self.out.put
        put("SQL statements per Q-small (response cache off)",
            statements_per_request(self.dbs.small, token, Q_SMALL_BODY))
        with (raw(self.dbs.small, self.log) as bare, gateway(self.dbs.small, self.log, cache_mb="0") as uncached,
              gateway(self.dbs.small, self.log, cache_mb=None) as cached):
            expected = post(bare.base, "/raw/small", RAW_SMALL_BODY)
            answers = {"uncached": post(uncached.base, "/graphql", Q_SMALL_BODY, token)}
            for name in ("cached (miss)", "cached (hit)"):
                answers[name] = post(cached.base, "/graphql", Q_SMALL_BODY, token)
            self.check_small(expected, answers)
            phases = {"B-raw": (bare, "/raw/small", RAW_SMALL_BODY, None), "uncached": (uncached, "/graphql",
                      Q_SMALL_BODY, token), "cached": (cached, "/graphql", Q_SMALL_BODY, token)}
            rounds: dict[str, list[dict]] = {name: [] for name in phases}
            for number in range(1, self.args.small_rounds + 1):
                self.say(f"Q-small round {number}/{self.args.small_rounds}: B-raw, uncached, cached, "
                         f"{self.args.duration:g} s each")
                for name, (server, path, body, secret) in phases.items():
                    rounds[name].append(self.load(server, path, kind="post", body=body, token=secret,
                                                  client="plain"))
        rates = {name: combined(measured) for name, measured in rounds.items()}
        put("Q-small B-raw req/s (answers; median p50)", rates["B-raw"]["shown"])
        for name in ("uncached", "cached"):
            put(f"Q-small {name} req/s (answers; median p50)", rates[name]["shown"])
            key = "small_ratio" if name == "uncached" else "small_cached_ratio"
            self.out.values[key] = ratio(rates[name]["rps"], rates["B-raw"]["rps"])
            put(f"Q-small {name} / B-raw", self.out.values[key])

    def check_small(self, expected: dict, answers: dict[str, dict]) -> None:
        differing = [name for name, answer in answers.items() if "errors" in answer or answer != expected]
        for name in differing:
            self.say(f"! Q-small differs from B-raw: {name}: {str(answers[name])[:300]}")
        verdict = f"DIFFERS: {', '.join(differing)}" if differing else f"identical: {', '.join(answers)}"
        self.out.put("Q-small answer vs B-raw", f"{verdict} ({len(json.dumps(expected))} bytes)")
        self.out.values["small_answers_identical"] = not differing

    def report_memory(self) -> None:
        peaks, put = self.peaks, self.out.put
        put("peak RSS MiB: gateway uncached Q-map, 1 worker", peaks["uncached Q-map"].describe())
        put("peak RSS MiB: gateway uncached Q-map, 2 workers (the tree; each process)",
            peaks["uncached Q-map, 2 workers"].describe())
        put("peak RSS MiB: gateway cached Q-map / handlings / updates",
            " / ".join(peaks[name].describe() for name in ("cached Q-map", "cached handlings", "cached updates")))
        put("peak RSS MiB: B-raw Q-map", peaks["B-raw Q-map"].describe())
        serving = max(peak.largest_process for name, peak in peaks.items() if not name.startswith("B-raw"))
        self.out.values["rss_peak_mb"] = round(serving * MB_PER_MIB, 1)


# --- the run ------------------------------------------------------------------------------------


def sqlite_databases(sizes: dict[str, Size]) -> Databases:
    seed = sqlite_url("seed-timing")
    remove_sqlite(seed)
    return Databases(small=sqlite_url(sizes["small"].name), main=sqlite_url(sizes["main"].name), seed=seed,
                     drop_seed=lambda: remove_sqlite(seed))


def postgres_databases(server_url: str) -> Databases:
    def fresh(name: str) -> str:
        return asyncio.run(fresh_postgres(server_url, f"pigw_bench_{name}"))

    return Databases(small=fresh("small"), main=fresh("main"), seed=fresh("seed"),
                     drop_seed=lambda: asyncio.run(drop_postgres(server_url, "pigw_bench_seed")))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="the main size's customers")
    parser.add_argument("--subcontractors", type=int, default=1_000, help="both sizes' subcontractors")
    parser.add_argument("--small-customers", type=int, default=1_000)
    parser.add_argument("--small-subcontractors", type=int, default=None,
                        help="default: as many as the main size, so that Q-handlings compares customers only")
    parser.add_argument("--seed-customers", type=int, default=1_000_000, help="the seed-time row's customers")
    parser.add_argument("--seed-subcontractors", type=int, default=5_000, help="the seed-time row's subcontractors")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load phase")
    parser.add_argument("--map-duration", type=float, default=30.0, help="seconds per Q-map phase (slow answers)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--abuse-duration", type=float, default=20.0,
                        help="seconds the bystander is measured alone, then under attack (issue 10)")
    parser.add_argument("--small-rounds", type=int, default=3,
                        help="Q-small's rounds, each loading B-raw, uncached and cached for --duration")
    parser.add_argument("--only", choices=["issue7", "abuse", "small", "entities"], default=None,
                        help="run only issue 7's phases, only issue 10's abuse phase, only issue 11's Q-small, "
                             "or only issue 15's Q-entities")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the SQLite databases even when present")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--postgres-url", default=os.environ.get("PI_GATEWAY_BENCH_POSTGRES_URL"),
                        help="a server whose user may create databases [PI_GATEWAY_BENCH_POSTGRES_URL]")
    parser.add_argument("--output", type=Path, default=None,
                        help="where the results go [bench/RESULTS.md; with --only abuse, small or entities, "
                             "bench/RESULTS-abuse.md, bench/RESULTS-small.md or bench/RESULTS-entities.md]")
    args = parser.parse_args(argv)
    if args.output is None:
        separate = ("abuse", "small", "entities")
        args.output = RESULTS.with_name(f"RESULTS-{args.only}.md") if args.only in separate else RESULTS
    if args.small_subcontractors is None:
        args.small_subcontractors = args.subcontractors
    return args


def cache_default() -> str:
    """The response cache the cached phases run with, as the product defines it."""
    from gateway.settings import Settings

    return f"{Settings.model_fields['response_cache_mb'].default} MB"


def command(args, argv: list[str]) -> str:
    """The command line that made this run, as the README gives it (never a password)."""
    if not args.postgres_url:
        return "make bench" + (f' BENCH_ARGS="{" ".join(argv)}"' if argv else "")
    url, masked = args.postgres_url, sa.make_url(args.postgres_url).render_as_string()
    shown = " ".join(argv).replace(url, masked)
    server = "" if url in argv or f"--postgres-url={url}" in argv else f"PI_GATEWAY_BENCH_POSTGRES_URL={masked} "
    return server + "make bench" + (f' BENCH_ARGS="{shown}"' if argv else "")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    sizes = {"small": Size(args.small_customers, args.small_subcontractors),
             "main": Size(args.customers, args.subcontractors)}
    DATA.mkdir(parents=True, exist_ok=True)
    cache = cache_default()
    say(f"main {sizes['main'].label}, small {sizes['small'].label}; response cache: {cache}")
    results = []
    if not args.no_sqlite:
        results.append(BackendRun("SQLite", sqlite_databases(sizes), sizes, args).run())
    if args.postgres_url:
        results.append(BackendRun("PostgreSQL", postgres_databases(args.postgres_url), sizes, args).run())
    targets = [] if args.only in ("abuse", "small", "entities") else issue_targets(
        args.small_customers, args.customers, args.seed_customers, args.seed_subcontractors)
    targets += entities_targets(args.small_customers, args.customers) if args.only in (None, "issue7",
                                                                                       "entities") else []
    targets += [NO_FAILED_REQUEST] if args.only == "entities" else []
    targets += small_targets() if args.only in (None, "small") else []
    targets += [NO_FAILED_REQUEST] if args.only == "small" else []
    targets += abuse_targets() if args.only in (None, "abuse") else []
    seconds = time.perf_counter() - STARTED
    print(f"\n{table(results)}\n\n{targets_table(targets, results)}\n")
    write_results(args.output, results, targets, args, command=command(args, argv), cache=cache, seconds=seconds)
    say(f"written to {args.output}; the run took {duration(seconds)}")


if __name__ == "__main__":
    main()
