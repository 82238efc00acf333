"""Customer-import benchmark (issue 14): `python -m bench.customer_import [--rows N] [--postgres URL]`.

For each backend (SQLite; PostgreSQL too with --postgres naming a server whose user may create
databases) it builds a fresh migrated registry with the demo dataset, generates a CSV of N
fictional members (deterministic: the same N gives the same file), and times
`pi-gateway customers import FILE` run as a child process, reading the child's peak RSS from
wait4. It then changes 1% of the rows (every hundredth member gives or withdraws the phone
number) and imports the file again: the rows written must be exactly those changed, which it
checks by counting the `customer.import` audit events each run added.

Targets: the first import at least 20,000 rows/s on SQLite, the re-import writing only the
changed rows, peak RSS under 300 MB. It prints a Markdown report and writes it to
bench/RESULTS-import.md (or --output): the table, the targets, the command, the commit, and the
machine's load average before and after each backend, since other work on the machine slows
the imports and a reader must know whether it ran.
"""

import argparse
import asyncio
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from registry import migrate
from registry.clock import Clock
from registry.db import Database
from registry.demo import seed_demo

HEADER = "externalRef,registeredOn,cancelledOn,items,displayName,email"
RESULTS = Path(__file__).with_name("RESULTS-import.md")
SCRATCH = "bench_import"
TARGET_ROWS_PER_S = 20_000
TARGET_RSS_MB = 300


def member(n: int, rng: random.Random, today: date, *, changed: bool) -> str:
    """Member n: name and email always, the voluntary phone for about 60% (the other way round
    when `changed`), payment data for most, about 5% cancelled."""
    items = ["name", "email"]
    phone = rng.random() < 0.6
    if phone != changed:
        items.append("phone")
    if rng.random() < 0.85:
        items.append("amount")
        if rng.random() < 0.65:
            items.append("credit_card_number")
    registered = today - timedelta(days=30 + n % 2000)
    cancelled = registered + timedelta(days=1 + n % 20) if rng.random() < 0.05 else ""
    return f"BENCH-{n:07d},{registered},{cancelled},{';'.join(items)},Member {n} (fictional),m{n}@example.test"


def write_file(path: Path, rows: int, today: date, *, change_every: int | None = None) -> int:
    """The members file; with `change_every`, every such member changes. The rows changed."""
    rng, changed = random.Random(14), 0
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for n in range(1, rows + 1):
            change = change_every is not None and n % change_every == 0
            changed += change
            out.write(member(n, rng, today, changed=change) + "\n")
    return changed


async def fresh_registry(url: str) -> None:
    migrate.upgrade(url)
    database = Database.connect(url)
    try:
        async with database.session(write=True) as session:
            await seed_demo(session, clock=Clock())
    finally:
        await database.dispose()


async def count_events(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(sa.text("SELECT count(*) FROM audit_event WHERE action = 'customer.import'"))
    finally:
        await engine.dispose()


async def admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


def run_import(url: str, path: Path) -> dict:
    """`pi-gateway customers import` in a child process: wall time, peak RSS, its summary line."""
    env = os.environ | {"DATABASE_URL": url}
    command = [sys.executable, "-c", "from gateway.cli import app; app()", "customers", "import", str(path)]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        summary, errors = out.read().decode().strip(), err.read().decode()
    if child.returncode != 0:
        raise RuntimeError(f"import failed ({child.returncode}): {summary}\n{errors[-2000:]}")
    return {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024, "summary": summary.splitlines()[-1]}


def measure(url: str, folder: Path, rows: int) -> dict:
    today = Clock().today()
    asyncio.run(fresh_registry(url))
    first_file, second_file = folder / "members.csv", folder / "members-changed.csv"
    write_file(first_file, rows, today)
    expected = write_file(second_file, rows, today, change_every=100)
    load_before = os.getloadavg()
    first = run_import(url, first_file)
    events = asyncio.run(count_events(url))
    second = run_import(url, second_file)
    written = asyncio.run(count_events(url)) - events
    return {"first": first, "first_events": events, "second": second, "written": written, "expected": expected,
            "load": (load_before, os.getloadavg())}


def loads(results: dict[str, dict]) -> list[str]:
    """The load averages (1, 5, 15 minutes) before the first import and after the re-import:
    above about 1 on 2 CPUs, other work shared the machine and the figures are lower bounds."""
    show = lambda load: " / ".join(f"{x:.2f}" for x in load)  # noqa: E731
    return [f"- {name}: load average before {show(r['load'][0])}, after {show(r['load'][1])}"
            for name, r in results.items()]


def commit() -> str:
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                               cwd=Path(__file__).parent, check=True)
        return found.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(rows: int, results: dict[str, dict], argv: list[str]) -> str:
    """bench/RESULTS-import.md: how the figures were made, the table, the targets, the load."""
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Customer import (issue 14)", "",
        f"Made by `python -m bench.customer_import {' '.join(argv)}` on {made}, commit {commit()}"
        f"{' (scratch database `' + SCRATCH + '`, dropped afterwards)' if 'PostgreSQL' in results else ''}. "
        "Each import is `pi-gateway customers import FILE` in a child process: wall clock including "
        "interpreter start, peak RSS from wait4. The file holds fictional members generated "
        "deterministically into a fresh migrated demo registry; the re-import changes 1% of the rows "
        "(every hundredth member gives or withdraws the phone). Regenerated whole by each run.", "",
        table(rows, results), "", *verdicts(rows, results), "",
        "Load on the machine (the import being measured counts for 1 to 2 of it; more means other work "
        "shared the 2 CPUs, and the figures are lower bounds):", "", *loads(results), "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}",
    ]
    return "\n".join(lines) + "\n"


def table(rows: int, results: dict[str, dict]) -> str:
    names = list(results)
    line = lambda label, cell: f"| {label} | " + " | ".join(cell(results[n]) for n in names) + " |"  # noqa: E731
    out = [f"| measure ({rows:,} rows) | " + " | ".join(names) + " |", "|---|" + "---|" * len(names),
           line("first import: wall clock (rows/s)",
                lambda r: f"{r['first']['seconds']:.1f} s ({rows / r['first']['seconds']:,.0f} rows/s)"),
           line("first import: peak RSS", lambda r: f"{r['first']['rss_mb']:.1f} MiB"),
           line("first import: summary", lambda r: f"`{r['first']['summary']}`"),
           line("re-import, 1% changed: wall clock (rows/s)",
                lambda r: f"{r['second']['seconds']:.1f} s ({rows / r['second']['seconds']:,.0f} rows/s)"),
           line("re-import: peak RSS", lambda r: f"{r['second']['rss_mb']:.1f} MiB"),
           line("re-import: summary", lambda r: f"`{r['second']['summary']}`"),
           line("re-import: customers written (audit events) / rows changed",
                lambda r: f"{r['written']:,} / {r['expected']:,}")]
    return "\n".join(out)


def verdicts(rows: int, results: dict[str, dict]) -> list[str]:
    found = []
    if "SQLite" in results:
        rate = rows / results["SQLite"]["first"]["seconds"]
        found.append(f"- first import on SQLite >= {TARGET_ROWS_PER_S:,} rows/s: "
                     f"{'met' if rate >= TARGET_ROWS_PER_S else 'MISSED'} ({rate:,.0f})")
    for name, r in results.items():
        found.append(f"- {name}: re-import writes only the changed rows: "
                     f"{'met' if r['written'] == r['expected'] else 'MISSED'} ({r['written']:,} of {r['expected']:,})")
        peak = max(r["first"]["rss_mb"], r["second"]["rss_mb"])
        found.append(f"- {name}: peak RSS < {TARGET_RSS_MB} MB: {'met' if peak < TARGET_RSS_MB else 'MISSED'} "
                     f"({peak:.1f} MiB)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server URL (postgresql+asyncpg://...); "
                        f"a scratch database {SCRATCH!r} is created there and dropped afterwards")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"where the report goes [{RESULTS.name}]")
    args = parser.parse_args()
    argv = [sa.make_url(a).render_as_string(hide_password=True) if a == args.postgres else a for a in sys.argv[1:]]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-import-") as work:
        folder = Path(work)
        if not args.no_sqlite:
            results["SQLite"] = measure(f"sqlite+aiosqlite:///{folder / 'registry.db'}", folder, args.rows)
            print(f"SQLite done: {results['SQLite']}", file=sys.stderr)
        if args.postgres:
            scratch = sa.make_url(args.postgres).set(database=SCRATCH).render_as_string(hide_password=False)
            asyncio.run(admin(args.postgres, f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
            asyncio.run(admin(args.postgres, f'CREATE DATABASE "{SCRATCH}"'))
            try:
                results["PostgreSQL"] = measure(scratch, folder, args.rows)
            finally:
                asyncio.run(admin(args.postgres, f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
    text = report(args.rows, results, argv)
    print(text)
    args.output.write_text(text, encoding="utf-8")
    print(f"written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
