"""The `pi-gateway` command: run the gateway and operate its registry from a shell.

Each command reads the settings from the environment (DATABASE_URL, PI_GATEWAY_*), opens the
registry database, calls registry functions and prints what they return: the registry
decides every rule, this module only translates. A registry refusal is printed on stderr
with exit status 1; bad usage or settings exit with 2.
"""

import asyncio
import gc
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.settings import Settings, load_settings
from registry import migrate as migrations
from registry import tokens
from registry.clock import Clock
from registry.db import Database
from registry.enums import Role, Severity
from registry.errors import NotFound, RegistryError

T = TypeVar("T")
PURGE_ACTOR = "pi-gateway purge-records"  # the audit actor of a purge run from the shell
PUBLISH_ACTOR = "pi-gateway notice --publish"  # the audit actor of a notice published from the shell

app = typer.Typer(
    help="pi-gateway: who handles which personal data of which customer, for what, and on what footing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


class NoticeFormat(StrEnum):
    markdown = "markdown"
    html = "html"


class NoticeLanguage(StrEnum):  # registry.notice.LANGUAGES
    en = "en"
    ja = "ja"


# --- plumbing -------------------------------------------------------------------------


def fail(message: str, *, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        raise fail(f"invalid settings:\n{exc}", code=2) from None


def clock_of(config: Settings) -> Clock:
    return Clock(timezone=config.timezone)


def refusal(error: RegistryError, *, code: int = 1) -> typer.Exit:
    """A registry refusal as the CLI reports it: every problem on stderr, then `code`."""
    return fail(f"error: {'; '.join(p.message for p in error.problems)}", code=code)


def in_session(
    config: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool = False, refused: int = 1
) -> T:
    """Run `work` in one session on the configured database; a registry refusal exits with
    `refused` (1, or 2 where the only refusal is of a command-line option)."""

    async def main() -> T:
        database = Database.connect(config.database_url)
        try:
            async with database.session(write=write) as session:
                return await work(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except RegistryError as exc:
        raise refusal(exc, code=refused) from None


def require_schema(config: Settings) -> None:
    """Refuse to work on a database the migrations have not brought to this code's revision."""
    at, expected = migrations.current(config.database_url), migrations.head()
    if at != expected:
        raise fail(
            f"the database is at revision {at or 'none'}, this code expects {expected}: "
            "run `pi-gateway migrate` first"
        )


def migrate_database(config: Settings) -> str:
    migrations.upgrade(config.database_url)
    return migrations.current(config.database_url)


# --- commands ---------------------------------------------------------------------------


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (DATABASE_URL) to the newest revision."""
    typer.echo(f"database at revision {migrate_database(settings())}")


@app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo dataset.")] = False,
    scale: Annotated[int | None, typer.Option(
        "--scale", min=0, metavar="CUSTOMERS",
        help="Generate a scale registry with this many customers (an empty database only).")] = None,
    subcontractors: Annotated[int, typer.Option(
        min=1, help="With --scale: how many subcontractors.")] = 1000,
) -> None:
    """Migrate, then load the demo dataset (--demo) or generate scale data (--scale) into an empty registry."""
    if demo == (scale is not None):
        raise fail("seed what? give exactly one of --demo (the demo dataset) and --scale CUSTOMERS", code=2)
    config = settings()
    migrate_database(config)
    if demo:
        seeded = seed_demo(config)
        typer.echo("demo dataset seeded" if seeded else "demo dataset already there: nothing changed")
        return
    seed_scale(config, customers=scale, subcontractors=subcontractors)


def seed_scale(config: Settings, *, customers: int, subcontractors: int) -> None:
    """Bulk scale data with one progress line per stage and tenth; the time taken at the end."""
    import time

    from registry.scale import seed_scale as generate

    started, shown = time.perf_counter(), set()

    def progress(stage: str, done: int, total: int) -> None:
        tenth = 10 * done // total if total else 10
        if (stage, tenth) not in shown:
            shown.add((stage, tenth))
            typer.echo(f"{stage}: {done:,}/{total:,} ({time.perf_counter() - started:.1f} s)", err=True)

    async def main():
        database = Database.connect(config.database_url)
        try:
            return await generate(database, customers=customers, subcontractors=subcontractors,
                                  clock=clock_of(config), progress=progress)
        finally:
            await database.dispose()

    try:
        summary = asyncio.run(main())
    except RegistryError as exc:
        raise refusal(exc) from None
    rows = ", ".join(f"{count:,} {table}" for table, count in summary.counts.items())
    typer.echo(f"scale dataset seeded in {time.perf_counter() - started:.1f} s: {rows}")


def seed_demo(config: Settings) -> bool:
    from registry.demo import seed_demo as seed  # written alongside; imported when asked for

    return in_session(config, lambda session: seed(session, clock=clock_of(config)), write=True)


@token_app.command("create")
def token_create(
    role: Annotated[Role, typer.Option(case_sensitive=False, help="What the token may do.")],
    name: Annotated[str, typer.Option(help="Who holds it: the audit actor of its writes.")],
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Expire after N days.")] = None,
) -> None:
    """Create a token; its secret is printed once, alone on the last line."""
    config = settings()
    require_schema(config)
    expires_at = None if expires_in_days is None else clock_of(config).now() + timedelta(days=expires_in_days)
    token, secret = in_session(
        config,
        lambda session: tokens.create_token(session, name=name, role=role, expires_at=expires_at),
        write=True,
    )
    expiry = "never expires" if token.expires_at is None else f"expires {token.expires_at.isoformat()}"
    typer.echo(f"token {token.id} for {token.name!r} ({token.role}), {expiry}; the secret is shown only now:")
    typer.echo(secret)


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their secrets)."""
    config = settings()
    require_schema(config)
    now = clock_of(config).now()
    for token in in_session(config, tokens.list_tokens):
        state = "active" if tokens.is_usable(token, now=now) else "revoked" if token.revoked_at else "expired"
        expires = token.expires_at.date().isoformat() if token.expires_at else "-"
        typer.echo(f"{token.id:>4}  {state:<8} {token.role:<16} expires {expires:<10}  {token.name}")


@token_app.command("revoke")
def token_revoke(id: Annotated[int, typer.Argument(help="The token's id (see `token list`).")]) -> None:
    """Revoke a token for good."""
    config = settings()
    require_schema(config)
    token = in_session(config, lambda session: tokens.revoke_token(session, id=id), write=True)
    typer.echo(f"token {token.id} ({token.name!r}) revoked")


@app.command()
def notice(
    code: Annotated[str, typer.Argument(help="The business's code.")],
    format: Annotated[NoticeFormat, typer.Option("--format", help="Output format.")] = NoticeFormat.markdown,
    lang: Annotated[NoticeLanguage, typer.Option("--lang", help="Language.")] = NoticeLanguage.en,
    publish: Annotated[bool, typer.Option(
        "--publish", help="Publish it instead, in every language, as the next version (nothing new when "
        "unchanged); print the version, date and content hash of each language.")] = False,
) -> None:
    """Print a business's privacy notice as it reads now, or publish it (--publish)."""
    from registry.notice import render_notice

    config = settings()
    require_schema(config)
    if publish:
        publish_notice(config, code)
        return
    typer.echo(in_session(config, lambda session: render_notice(session, code, fmt=format.value, lang=lang.value)))


def publish_notice(config: Settings, code: str) -> None:
    """One line per language: `version N  YYYY-MM-DD  LANG  SHA-256`; stderr says when the
    notice was unchanged and the latest version stands."""
    from registry.notice_versions import publish

    today = clock_of(config).today()
    published = in_session(config, lambda session: publish(
        session, actor=PUBLISH_ACTOR, business_code=code, today=today), write=True)
    publication = published.publication
    if not published.created:
        typer.echo(f"unchanged since version {publication.version}: nothing published", err=True)
    for lang, digest in publication.content_hashes.items():
        typer.echo(f"version {publication.version}  {publication.published_on.isoformat()}  {lang}  {digest}")


DateOption = Annotated[
    datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], metavar="DATE", help="YYYY-MM-DD (default: today in the business time zone).")
]


def day_of(config: Settings, as_of: datetime | None) -> date:
    """The date asked for, or today in the business's time zone."""
    return as_of.date() if as_of is not None else clock_of(config).today()


async def business_code_of(session: AsyncSession, code: str | None) -> str:
    """The business named, or the only one there is; with several, the operator must choose."""
    from registry.businesses import get_business, list_businesses

    if code is not None:
        return (await get_business(session, code)).code
    codes = [b.code for b in await list_businesses(session)]
    if len(codes) != 1:
        raise fail(f"name the business with --business: {', '.join(codes) or 'there is none'}", code=2)
    return codes[0]


@app.command()
def disclose(
    customer_ref: Annotated[str, typer.Argument(help="The customer's reference in the business (externalRef).")],
    business: Annotated[str | None, typer.Option(help="The business's code (default: the only business).")] = None,
    format: Annotated[NoticeFormat, typer.Option("--format", help="Output format.")] = NoticeFormat.markdown,
    as_of: DateOption = None,
) -> None:
    """Print the answer to a customer's disclosure request (APPI Art. 33).

    It states the data held, who handles it, the provision records (Art. 33(5)) and the requests.
    """
    from registry.customers import find_customer_by_ref
    from registry.disclosure import render_disclosure

    config = settings()
    require_schema(config)
    day = day_of(config, as_of)

    async def answer(session: AsyncSession) -> str:
        code = await business_code_of(session, business)
        customer = await find_customer_by_ref(session, code, customer_ref)
        if customer is None:
            raise NotFound(f"no customer {customer_ref!r} in business {code!r}", field="externalRef")
        return await render_disclosure(session, customer.id, as_of=day, fmt=format.value)

    typer.echo(in_session(config, answer), nl=False)


@app.command("purge-records")
def purge_records(as_of: DateOption = None) -> None:
    """Delete the provision records (APPI Art. 29) past their three-year retention.

    Each deleted record leaves an audit event; running it again deletes none.
    """
    from registry.provisions import purge_expired_records

    config = settings()
    require_schema(config)
    today = clock_of(config).today()
    day = day_of(config, as_of)
    deleted = in_session(config, lambda session: purge_expired_records(
        session, actor=PURGE_ACTOR, today=today, as_of=day), write=True, refused=2)
    typer.echo(f"{deleted} provision record{'' if deleted == 1 else 's'} past retention deleted "
               f"(retained until before {day})")


def describe(subject: SQLModel | None) -> str:
    if subject is None:
        return "-"
    label = getattr(subject, "code", None) or getattr(subject, "reference", None) or getattr(subject, "name", None)
    return f"{type(subject).__name__}#{subject.id}" + (f" ({label})" if label else "")


@app.command()
def check(
    business: Annotated[str | None, typer.Option(help="Only this business's findings.")] = None,
) -> None:
    """Print the compliance findings; exit 1 when any is CRITICAL."""
    from registry.findings import compliance_findings

    config = settings()
    require_schema(config)
    today = clock_of(config).today()
    findings = in_session(
        config, lambda session: compliance_findings(session, today=today, business_code=business)
    )
    for finding in findings:
        typer.echo(f"{finding.severity:<8} {finding.code:<34} {describe(finding.subject)}  {finding.message}")
    if not findings:
        typer.echo("no findings")
    if any(f.severity == Severity.CRITICAL for f in findings):
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address [default: PI_GATEWAY_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port [default: PI_GATEWAY_PORT].")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Seed the demo data; print a token per role.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    federation: Annotated[bool, typer.Option(
        "--federation", help="Serve as an Apollo Federation v2 subgraph [default: PI_GATEWAY_FEDERATION].")] = False,
) -> None:
    """Migrate the database, then serve the gateway (GraphQL at /graphql)."""
    import uvicorn

    if federation:  # each worker's create_app() reads the environment
        os.environ["PI_GATEWAY_FEDERATION"] = "true"
    config = settings()
    typer.echo(f"database at revision {migrate_database(config)}")
    if demo:
        typer.echo("demo dataset seeded" if seed_demo(config) else "demo dataset already there")
        print_demo_tokens(config)
    host, port = host or config.host, port or config.port
    subgraph = " as an Apollo Federation v2 subgraph" if config.federation else ""
    typer.echo(f"serving http://{host}:{port}/graphql{subgraph}")
    # with factory=True each worker calls create_app(), which reads the same environment
    uvicorn.run(
        "gateway.app:create_app", factory=True, host=host, port=port, workers=workers,
        log_level=config.log_level,
        # the gateway logs each request itself without its query string; uvicorn's access
        # line would carry a GET request's query and variables (personal data) into the log
        access_log=False,
    )


def print_demo_tokens(config: Settings) -> None:
    """One fresh token per role, named demo-<role>, for trying the API by hand."""

    async def create_all(session: AsyncSession) -> list[tuple[Role, str]]:
        created = []
        for role in Role:
            name = "demo-" + role.value.lower().replace("_", "-")
            _, secret = await tokens.create_token(session, name=name, role=role)
            created.append((role, secret))
        return created

    typer.echo("demo tokens (send one as `Authorization: Bearer <token>`):")
    for role, secret in in_session(config, create_all, write=True):
        typer.echo(f"  {role.value:<16} {secret}")


class RopaFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@app.command()
def ropa(
    format: Annotated[RopaFormat, typer.Option("--format", help="csv (UTF-8 with BOM) or xlsx.")],
    business: Annotated[str | None, typer.Option(help="Only this business (default: every business).")] = None,
    as_of: DateOption = None,
    output: Annotated[str | None, typer.Option(
        "-o", "--output", metavar="FILE", help="Where to write; '-' or none: stdout (csv only).")] = None,
) -> None:
    """Write the records of processing: every data item, who handles it, for what, on what footing.

    The columns are listed in registry/ropa.py; stderr says how many rows were written.
    """
    from registry.ropa import businesses_of, records_of_processing
    from registry.ropa_export import XlsxWriter, csv_header, csv_rows

    to_stdout = output in (None, "-")
    if format == RopaFormat.xlsx and to_stdout:
        raise fail("an xlsx file needs -o FILE", code=2)
    config = settings()
    require_schema(config)
    today = clock_of(config).today()
    day = day_of(config, as_of)
    counts = [0, 0]

    async def write(session: AsyncSession, sink, begin=lambda: None) -> None:
        found = await businesses_of(session, business)  # an unknown one is refused before anything is written
        begin()
        for each in found:
            records = await records_of_processing(session, each, as_of=day, today=today)
            counts[0] += len(records.rows)
            counts[1] += len(records.foreign)
            sink(records)

    if format == RopaFormat.xlsx:
        workbook = XlsxWriter()
        in_session(config, lambda session: write(session, workbook.add), refused=2)
        workbook.save(output)
    elif to_stdout:
        in_session(config, lambda session: write(
            session, lambda r: typer.echo(csv_rows(r.rows), nl=False), lambda: typer.echo(csv_header(), nl=False)),
            refused=2)
    else:
        write_csv_file(output, lambda out: in_session(
            config, lambda session: write(session, lambda r: out.write(csv_rows(r.rows))), refused=2))
    typer.echo(f"records of processing on {day}: {counts[0]} rows; parties outside Japan: {counts[1]}", err=True)


def write_csv_file(path: str, fill: Callable[[object], None]) -> None:
    """The header, then what `fill` writes, into `path`, which appears only once complete."""
    import os

    from registry.ropa_export import csv_header

    partial = f"{path}.part"
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            out.write(csv_header())
            fill(out)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


# --- the registry as code (issue 14) -------------------------------------------------------------


@app.command()
def export(
    business: Annotated[str | None, typer.Option(help="Only this business, with the parties it names.")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", metavar="FILE",
                                               help="Write to FILE instead of stdout.")] = None,
) -> None:
    """Print the registry (no customers, no personal data) as YAML to review, edit and `apply`."""
    from pathlib import Path

    from registry.manifest import export_text

    config = settings()
    require_schema(config)
    text = in_session(config, lambda session: export_text(session, business_code=business))
    if output is None:
        typer.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")


@app.command()
def apply(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A registry file, as `export` writes it.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and stop.")] = False,
    actor: Annotated[str | None, typer.Option(help="The audit actor [default: pi-gateway apply FILE].")] = None,
) -> None:
    """Print the plan that makes the registry hold what FILE says, then apply it in one transaction.

    A file with an error, or a change a registry rule refuses, is refused whole: nothing written,
    FILE:LINE and the message on stderr, exit status 1."""
    from pathlib import Path

    from registry.manifest import MAX_BYTES, ApplyRefused, FileRefused, apply_file

    config = settings()
    require_schema(config)
    path = Path(file)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # a larger file is refused by its size, unread beyond it
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}", code=2) from None
    who = (actor or f"pi-gateway apply {path.name}")[:200]

    async def main():
        database = Database.connect(config.database_url)
        try:
            return await apply_file(database, data, actor=who, today=clock_of(config).today(), dry_run=dry_run)
        finally:
            await database.dispose()

    try:
        plan = asyncio.run(main())
    except (FileRefused, ApplyRefused) as exc:
        raise fail(exc.render(path.name)) from None
    except RegistryError as exc:
        raise refusal(exc) from None
    typer.echo(plan.render())
    if plan.changes and not dry_run:
        typer.echo(f"Applied {len(plan.changes)} change{'' if len(plan.changes) == 1 else 's'}.")


# --- customers import (issue 14) --------------------------------------------------------

IMPORT_ACTOR = "pi-gateway customers import"  # the audit actor of a sync run from the shell
PROGRESS_EVERY = 100_000  # rows between plain progress lines while the file is checked
customers_app = typer.Typer(help="Customers from the member system.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")


class ImportFormat(StrEnum):  # registry.customer_sync.Format
    csv = "csv"
    jsonl = "jsonl"


@customers_app.command("import")
def customers_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV (header externalRef,registeredOn,cancelledOn,items"
                                              "[,displayName][,email]) or JSON Lines with the same keys.")],
    business: Annotated[str | None, typer.Option(help="The business's code (default: the only business).")] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Write the good rows and list the bad ones "
                                                              "(default: any bad row and nothing is written).")] = False,
    format: Annotated[ImportFormat | None, typer.Option("--format", help="Default: from the file's extension "
                                                                          "(.csv, .jsonl, .ndjson).")] = None,
) -> None:
    """Upsert the member system's customers by externalRef: registrations, cancellations, items.

    Every bad row is listed by line on stderr; unless --skip-bad, nothing is then written (exit 1).
    Progress goes to stderr, the summary to stdout; no name or email is ever printed.
    """
    from registry.customer_sync import file_source, import_customers

    config = settings()
    require_schema(config)
    try:
        source = file_source(file, format.value if format else None)
    except RegistryError as exc:
        raise refusal(exc, code=2) from None
    progress = ImportProgress(sys.stderr.isatty())
    # A million rows make millions of short-lived tuples and none in a reference cycle; the
    # collector's passes, each over every object the process holds, took a fifth of the CPU time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = in_session(config, lambda session: import_customers(
            session, actor=IMPORT_ACTOR, business_code=business, source=source,
            today=clock_of(config).today(), skip_bad=skip_bad, progress=progress), write=True)
    finally:
        progress.close()
        if collecting:
            gc.enable()
    for bad in result.bad_rows:
        typer.echo(f"line {bad.line}: {bad.field or 'row'}: {bad.message} ({bad.code})", err=True)
    if result.bad > len(result.bad_rows):
        typer.echo(f"... and {result.bad - len(result.bad_rows):,} more bad rows", err=True)
    refused = result.bad and not skip_bad
    typer.echo(("nothing written; the good rows would have: " if refused else "") + result.summary())
    if refused:
        raise fail(f"{result.bad:,} bad row{'' if result.bad == 1 else 's'}: nothing written "
                   "(fix them, or write the good rows with --skip-bad)")


class ImportProgress:
    """Progress on stderr: a bar on a terminal, plain lines (`imported 250000/1000000 rows`)
    at each tenth otherwise, so a log holds a few lines, not thousands."""

    def __init__(self, terminal: bool):
        self.terminal = terminal
        self.bar = None
        self.shown: set[tuple[str, int]] = set()
        self.done = 0

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage == "checked":
            if total is not None or done % PROGRESS_EVERY == 0:
                typer.echo(f"checked {done} rows", err=True)
            return
        if self.terminal:
            if self.bar is None:
                self.bar = typer.progressbar(length=total, label="importing", file=sys.stderr)
                self.bar.__enter__()
            self.bar.update(done - self.done)
            self.done = done
            return
        tenth = 10 * done // total if total else 10
        if (stage, tenth) not in self.shown:
            self.shown.add((stage, tenth))
            typer.echo(f"imported {done}/{total} rows", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
