"""RESULTS.md: one run's table per database, the machine it ran on, how it was measured, and
the targets of issues 7, 10, 11 and 15 checked against it (bench/targets.py). Hand-written notes go below the
generated part after a run; the next run replaces the whole file.
"""

import asyncio
import os
import platform
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa

from bench.targets import Target, targets_table

PACKAGES = ["strawberry-graphql", "graphql-core", "starlette", "uvicorn", "sqlalchemy", "sqlmodel", "aiosqlite",
            "asyncpg", "httpx", "orjson"]


@dataclass
class Results:
    """One backend's measurements: table rows as shown, and the figures the targets read."""

    backend: str
    rows: dict[str, str] = field(default_factory=dict)
    values: dict[str, float | bool] = field(default_factory=dict)

    def put(self, key: str, value) -> None:
        self.rows[key] = str(value)
        print(f"    {key}: {value}", flush=True)


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


ABUSE_METHOD = [
    "- Issue 10's abuse phase (bench/abuse.py, whose docstring has the detail), on the small scale database, "
    "with the product's defaults, rate limit included: a bystander sends `{ viewer { name } }` at 25 requests a "
    "second over four VIEWER tokens, alone, then while three attacker processes (a VIEWER token and two "
    "connections each, at the lowest CPU priority) send, as fast as they are answered, documents at the limits "
    "(repeated fields; a string literal filling the 16,384 characters), 1.9 MB string literals and 1 MB "
    "variables, every one different. With two CPUs the server has the first to itself, the clients the second.",
    "- Then, on a gateway whose rate limit is out of the way, 2,000 distinct requests of each large kind with the "
    "server's RSS read every 250, and 200 operations named with 16,000 characters before reading /metrics.",
]


def small_method(args, cache: str) -> list[str]:
    return [
        f"- Q-small (issue 11: one subcontractor by ID with its contracts, about 500 bytes) on the small scale "
        f"database ({args.small_customers:,} customers / {args.small_subcontractors:,} subcontractors), with "
        f"{args.concurrency} concurrent clients: B-raw (`/raw/small`, two hand-written statements, no "
        "authentication), the gateway with the response cache off (**uncached**) and with its default "
        f"({cache}; **cached**: the same query repeated, every answer after the first a hit), each request "
        "with a bearer token. The three servers run at once and are loaded in turn, "
        f"{args.small_rounds} rounds of {args.duration:g} s each (after each one's warm-up), so that other load "
        "on the machine falls on all three alike; req/s is each one's answers over its seconds in all rounds, "
        "p50 the median round's. The gateways' answers (uncached, cached miss, cached hit) must equal B-raw's "
        "first.",
    ]


def entities_method(args, cache: str) -> list[str]:
    return [
        "- Q-entities (issue 15): `_entities` for 100 customer representations (`business { code } externalRef`, "
        "each request a new random draw, so the response cache never answers) selecting Q-handlings' fields, "
        "against `pi-gateway serve --federation` with the response cache at its default "
        f"({cache}), one client (latency without queueing, as Q-handlings), at both sizes. Its SQL statements "
        "are counted in process like the others', for 1 and for 100 representations.",
    ]


def method(args, cache: str) -> list[str]:
    """How the figures were taken, for the reader of RESULTS.md."""
    if args.only == "abuse":
        return ABUSE_METHOD
    if args.only == "entities":
        return ["- The gateway is `pi-gateway serve --federation` with the production settings and request log, "
                "except a rate limit too high to matter and a 300 s operation timeout. The load generator "
                "(bench/load.py, httpx) runs in its own process on the same machine.",
                f"- Sizes: small = {args.small_customers:,} customers / {args.small_subcontractors:,} "
                f"subcontractors, main = {args.customers:,} customers / {args.subcontractors:,} subcontractors; "
                f"each phase warms up, then counts the answers of the next {args.duration:g} s.",
                *entities_method(args, cache)]
    if args.only == "small":
        return ["- The gateway is `pi-gateway serve` with the production settings and request log, except a rate "
                "limit too high to matter and a 300 s operation timeout; B-raw is bench/raw.py under the same "
                "uvicorn. The load generator (bench/load.py, httpx) runs in its own process on the same machine, "
                "so client and server share its CPUs.", *small_method(args, cache)]
    return [
        f"- Sizes: small = {args.small_customers:,} customers / {args.small_subcontractors:,} subcontractors, "
        f"main = {args.customers:,} customers / {args.subcontractors:,} subcontractors. The seed-time row times "
        f"`pi-gateway seed --scale {args.seed_customers:,} --subcontractors {args.seed_subcontractors:,}` (the "
        "command, wall clock) into a throwaway database built in every run.",
        "- Each load phase warms up (at least 1 s, and until every client has had an answer), then counts the "
        f"answers completed in the next {args.duration:g} s ({args.map_duration:g} s for Q-map, extended until "
        "every client has had one); req/s is their number over the time from the window's opening to the last "
        f"of them. Q-map and updates run {args.concurrency} concurrent clients, Q-handlings 1 (latency without "
        "queueing).",
        "- The gateway is `pi-gateway serve` with the production settings and request log, except a rate limit "
        "too high to matter and a 300 s operation timeout. **Uncached** phases start it with "
        f"PI_GATEWAY_RESPONSE_CACHE_MB=0, **cached** ones with the setting's default ({cache}). Q-map uncached "
        "runs at `--workers 1` and `--workers 2`; Q-map cached repeats the same query, so every answer after "
        "the first is a hit.",
        "- **Q-handlings runs on the cached gateway (the production setting) and never asks about the same "
        "customer twice in a phase**, so every answer is a cache miss, as for a dashboard looking up random "
        "customers (a phase ends early if every customer has been asked; the answer count is shown).",
        "- updateSubcontractor runs on the cached gateway, each client renaming its own subcontractor with its "
        "audit event; afterwards the cached gateway's Q-map must equal B-raw's again (no stale answer).",
        "- SQL statements are counted in process on the real app (`create_app`, response cache off) with a "
        "cursor listener, for the second of two identical requests (token lookup and warm caches excluded).",
        "- Peak RSS sums the server's process tree, sampled every 50 ms; with 2 workers each process is shown "
        "too (supervisor, workers, multiprocessing's resource tracker). The RSS target reads the serving "
        "process: the one worker, or the largest of two.",
        "- B-raw is bench/raw.py under the same uvicorn (no authentication). The load generator (bench/load.py, "
        "httpx) runs in its own process on the same machine, so client and server share its CPUs; at the "
        "cached rates the client's own work on 1.5 MB answers is part of what limits the figure.",
        *entities_method(args, cache),
        *(small_method(args, cache) if args.only is None else []),
        *(ABUSE_METHOD if args.only is None else []),
    ]


def write_results(path: Path, results: list[Results], targets: list[Target], args, *, command: str,
                  cache: str, seconds: float) -> None:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([
        "# Benchmark results (" + {"abuse": "issue 10", "issue7": "issue 7", "small": "issue 11, Q-small",
                                    "entities": "issue 15, Q-entities"}.get(
            args.only, "issues 7, 10, 11 and 15") + ")",
        "",
        f"Made by `{command}` on {when}; the run took {duration(seconds)}.",
        "",
        *method(args, cache),
        "",
        "Machine:",
        "",
        *machine(args.postgres_url),
        "",
        table(results),
        "",
        "## Targets",
        "",
        "Generated by the harness from the table above.",
        "",
        targets_table(targets, results),
        "",
    ])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
