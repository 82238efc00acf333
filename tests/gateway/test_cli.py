"""The `pi-gateway` command on a SQLite file, as an operator would run it.

These tests are synchronous: each command runs its own event loop, as it does in a shell.
"""

import asyncio
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from gateway.cli import NoticeLanguage, app
from registry import migrate, notice_versions
from registry.db import Database
from registry.enums import Role
from registry.enums import AssessmentResult
from registry.models import AuditEvent
from registry.notice import LANGUAGES
from registry.tokens import authenticate
from tests import factories

runner = CliRunner()


@pytest.fixture
def database_url(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def authenticated_as(url: str, secret: str, *, now: datetime | None = None):
    async def main():
        database = Database.connect(url)
        try:
            async with database.session() as session:
                return await authenticate(session, secret, now=now or datetime.now(timezone.utc))
        finally:
            await database.dispose()

    return asyncio.run(main())


def run_in_session(url: str, work):
    async def main():
        database = Database.connect(url)
        try:
            async with database.session(write=True) as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await database.dispose()

    return asyncio.run(main())


def test_migrate_brings_an_empty_database_to_the_newest_revision(database_url):
    result = invoke("migrate")
    assert result.exit_code == 0, result.output
    assert migrate.current(database_url) == migrate.head()
    assert f"revision {migrate.head()}" in result.stdout


def test_a_created_token_is_alone_on_the_last_line_and_authenticates_in_its_role(database_url):
    invoke("migrate")
    result = invoke("token", "create", "--role", "vendor_manager", "--name", "alice")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 2
    token = authenticated_as(database_url, lines[-1])
    assert token is not None and (token.name, token.role) == ("alice", Role.VENDOR_MANAGER)


def test_a_token_created_to_expire_stops_authenticating_after_those_days(database_url):
    invoke("migrate")
    secret = invoke("token", "create", "--role", "VIEWER", "--name", "temp", "--expires-in-days", "2")
    secret = secret.stdout.strip().splitlines()[-1]
    in_three_days = datetime.now(timezone.utc) + timedelta(days=3)
    assert authenticated_as(database_url, secret) is not None
    assert authenticated_as(database_url, secret, now=in_three_days) is None


def test_tokens_are_listed_without_secrets_and_a_revoked_one_no_longer_authenticates(database_url):
    invoke("migrate")
    secret = invoke("token", "create", "--role", "ADMIN", "--name", "ops").stdout.strip().splitlines()[-1]
    token = authenticated_as(database_url, secret)

    listed = invoke("token", "list")
    assert listed.exit_code == 0
    assert "ops" in listed.stdout and "ADMIN" in listed.stdout and "active" in listed.stdout
    assert secret not in listed.stdout

    revoked = invoke("token", "revoke", str(token.id))
    assert revoked.exit_code == 0, revoked.output
    assert authenticated_as(database_url, secret) is None
    assert "revoked" in invoke("token", "list").stdout


def test_revoking_an_unknown_token_fails_with_a_message(database_url):
    invoke("migrate")
    result = invoke("token", "revoke", "42")
    assert result.exit_code == 1
    assert "no token with id 42" in result.stderr


def test_a_token_needs_a_name_and_a_known_role(database_url):
    invoke("migrate")
    assert invoke("token", "create", "--role", "VIEWER", "--name", " ").exit_code == 1
    assert invoke("token", "create", "--role", "ROOT", "--name", "x").exit_code == 2


def test_token_commands_refuse_a_database_not_yet_migrated(database_url):
    result = invoke("token", "create", "--role", "VIEWER", "--name", "early")
    assert result.exit_code == 1
    assert "pi-gateway migrate" in result.stderr


def test_seed_without_demo_is_a_usage_error(database_url):
    result = invoke("seed")
    assert result.exit_code == 2
    assert "--demo" in result.stderr


def test_nonsense_settings_are_refused_before_touching_the_database(database_url, monkeypatch):
    monkeypatch.setenv("PI_GATEWAY_TIMEZONE", "Mars/Olympus")
    result = invoke("migrate")
    assert result.exit_code == 2
    assert "timezone" in result.stderr
    assert migrate.current(database_url) is None


def test_serve_migrates_first_then_runs_the_app_factory_under_uvicorn(database_url, monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    result = invoke("serve", "--port", "8123", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert migrate.current(database_url) == migrate.head()
    assert calls == [(
        "gateway.app:create_app",
        dict(factory=True, host="127.0.0.1", port=8123, workers=2, log_level="info", access_log=False),
    )]


def test_seed_demo_seeds_an_empty_database_once(database_url):
    first = invoke("seed", "--demo")
    assert first.exit_code == 0, first.output
    assert "seeded" in first.stdout and "already" not in first.stdout
    second = invoke("seed", "--demo")
    assert second.exit_code == 0, second.output
    assert "already there" in second.stdout


def test_seed_scale_generates_the_sizes_asked_for_with_progress(database_url):
    result = invoke("seed", "--scale", "300", "--subcontractors", "20")
    assert result.exit_code == 0, result.output
    assert "scale dataset seeded" in result.stdout and "300 customer" in result.stdout
    assert "customers: 300/300" in result.stderr and "subcontractors: 20/20" in result.stderr


def test_seed_takes_exactly_one_of_demo_and_scale(database_url):
    result = invoke("seed", "--demo", "--scale", "10")
    assert result.exit_code == 2
    assert "exactly one" in result.stderr
    assert migrate.current(database_url) is None


def test_seed_scale_refuses_a_database_that_holds_a_registry(database_url):
    invoke("seed", "--demo")
    result = invoke("seed", "--scale", "10", "--subcontractors", "2")
    assert result.exit_code == 1
    assert "empty" in result.stderr


def test_serve_demo_prints_one_working_token_per_role(database_url, monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **options: None)
    result = invoke("serve", "--demo")
    assert result.exit_code == 0, result.output
    printed = dict(line.split() for line in result.stdout.splitlines() if "pigw_" in line)
    assert set(printed) == {role.value for role in Role}
    for role, secret in printed.items():
        token = authenticated_as(database_url, secret)
        assert (token.role, token.name) == (Role(role), "demo-" + role.lower().replace("_", "-"))


def test_notice_prints_the_business_notice_in_markdown_or_html(database_url):
    invoke("seed", "--demo")
    markdown = invoke("notice", "loveinn-japan")
    assert markdown.exit_code == 0, markdown.output
    assert markdown.stdout.startswith("# ") and "Loveinn Japan" in markdown.stdout
    html = invoke("notice", "loveinn-japan", "--format", "html")
    assert html.exit_code == 0, html.output
    assert html.stdout.lower().startswith("<!doctype html>")


def test_notice_lang_ja_prints_the_japanese_notice(database_url):
    invoke("seed", "--demo")
    page = invoke("notice", "loveinn-japan", "--lang", "ja", "--format", "html")
    assert page.exit_code == 0, page.output
    assert '<html lang="ja">' in page.stdout
    japanese, english = invoke("notice", "loveinn-japan", "--lang", "ja"), invoke("notice", "loveinn-japan")
    assert japanese.exit_code == 0 and japanese.stdout != english.stdout


def test_notice_lang_accepts_only_the_notice_languages(database_url):
    invoke("migrate")
    result = invoke("notice", "loveinn-japan", "--lang", "fr")
    assert result.exit_code == 2 and result.stdout == ""
    assert [lang.value for lang in NoticeLanguage] == list(LANGUAGES)


def test_notice_publish_prints_the_version_date_and_hash_of_each_language_and_is_idempotent(database_url):
    invoke("seed", "--demo")
    first = invoke("notice", "loveinn-japan", "--publish")
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert [line.split()[3] for line in lines] == ["en", "ja"]
    assert all(re.fullmatch(r"version 1  \d{4}-\d{2}-\d{2}  (en|ja)  [0-9a-f]{64}", line) for line in lines), lines
    again = invoke("notice", "loveinn-japan", "--publish")
    assert (again.exit_code, again.stdout) == (0, first.stdout)
    assert "unchanged since version 1" in again.stderr

    async def versions_and_actor(session):
        [event] = (await session.exec(select(AuditEvent).where(AuditEvent.action == "notice.publish"))).all()
        return [p.version for p in await notice_versions.versions(session, "loveinn-japan")], event.actor

    assert run_in_session(database_url, versions_and_actor) == ([1], "pi-gateway notice --publish")


def test_notice_publish_of_an_unknown_business_fails_with_a_message(database_url):
    invoke("migrate")
    result = invoke("notice", "no-such-business", "--publish")
    assert result.exit_code == 1
    assert "no-such-business" in result.stderr and result.stdout == ""


def test_notice_of_an_unknown_business_fails_with_a_message(database_url):
    invoke("migrate")
    result = invoke("notice", "no-such-business")
    assert result.exit_code == 1
    assert "no-such-business" in result.stderr and result.stdout == ""


def test_check_exits_1_on_a_critical_finding_and_can_look_at_one_business(database_url):
    invoke("migrate")
    today = date.today()

    async def inadequate_subcontractor_under_active_contract(session):
        risky, clean = await factories.business(session), await factories.business(session)
        sub = await factories.subcontractor(session, name="Shaky Storage")
        await factories.contract(
            session, risky, sub, effective_from=today - timedelta(days=30),
            expires_on=today + timedelta(days=365),
        )
        await factories.assessment(
            session, sub, result=AssessmentResult.INADEQUATE, assessed_on=today - timedelta(days=1),
            next_due_on=today + timedelta(days=90),
        )
        return clean.code

    clean = run_in_session(database_url, inadequate_subcontractor_under_active_contract)
    everything = invoke("check")
    assert everything.exit_code == 1, everything.output
    critical = [line for line in everything.stdout.splitlines() if line.startswith("CRITICAL")]
    assert len(critical) == 1
    assert "ASSESSMENT_INADEQUATE" in critical[0] and "Shaky Storage" in critical[0]

    assert invoke("check", "--business", clean).stdout.startswith("INFO     NOTICE_NOT_PUBLISHED")
    invoke("notice", clean, "--publish")
    one = invoke("check", "--business", clean)
    assert one.exit_code == 0, one.output
    assert "no findings" in one.stdout


def test_check_exits_0_when_the_findings_are_only_warnings(database_url):
    invoke("migrate")
    today = date.today()

    async def subcontractor_never_assessed(session):
        business, sub = await factories.business(session), await factories.subcontractor(session)
        await factories.contract(
            session, business, sub, effective_from=today - timedelta(days=30),
            expires_on=today + timedelta(days=365),
        )

    run_in_session(database_url, subcontractor_never_assessed)
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("WARNING") and "ASSESSMENT_MISSING" in result.stdout


# --- disclose and purge-records (APPI Art. 33, Art. 29) ------------------------------------------


def test_disclose_prints_the_answer_for_the_only_business_in_markdown_or_html(database_url):
    invoke("seed", "--demo")
    markdown = invoke("disclose", "LIJ-0001")
    assert markdown.exit_code == 0, markdown.output
    assert markdown.stdout.startswith("# Disclosure of personal information held by Loveinn Japan")
    assert "Customer reference: LIJ-0001" in markdown.stdout and "Hanako Yamada (fictional)" in markdown.stdout
    assert "### Sakura Payment Services K.K. (fictional)" in markdown.stdout
    assert "| Financial institutions | JP | Name, Amount billed, Credit card number |" in markdown.stdout
    html = invoke("disclose", "LIJ-0001", "--format", "html", "--business", "loveinn-japan")
    assert html.exit_code == 0, html.output
    assert html.stdout.startswith("<!doctype html>") and "<td>Financial institutions</td>" in html.stdout


def test_disclose_as_of_a_past_date_leaves_out_later_records(database_url):
    invoke("seed", "--demo")
    earlier = (date.today() - timedelta(days=30)).isoformat()
    result = invoke("disclose", "LIJ-0001", "--as-of", earlier)
    assert result.exit_code == 0, result.output
    assert f"As of: {earlier}" in result.stdout
    assert "No provision of the customer's personal information to a third party is on record." in result.stdout


def test_disclose_of_an_unknown_customer_or_business_fails_with_a_message(database_url):
    invoke("seed", "--demo")
    unknown = invoke("disclose", "LIJ-9999")
    assert unknown.exit_code == 1 and "LIJ-9999" in unknown.stderr and unknown.stdout == ""
    elsewhere = invoke("disclose", "LIJ-0001", "--business", "nobody")
    assert elsewhere.exit_code == 1 and "nobody" in elsewhere.stderr


def test_disclose_needs_the_business_named_when_there_are_several(database_url):
    invoke("seed", "--demo")
    run_in_session(database_url, factories.business)
    result = invoke("disclose", "LIJ-0001")
    assert result.exit_code == 2
    assert "--business" in result.stderr and "loveinn-japan" in result.stderr
    assert invoke("disclose", "LIJ-0001", "--business", "loveinn-japan").exit_code == 0


def record_count(url: str) -> int:
    from sqlmodel import func, select

    from registry.models import ProvisionRecord

    async def count(session):
        return (await session.exec(select(func.count()).select_from(ProvisionRecord))).one()

    return run_in_session(url, count)


def add_expired_record(url: str) -> None:
    """A billing record for LIJ-0002 provided four years ago: its retention has ended. The
    demo's history begins later (recordProvision refuses a day before the customer's
    registration), so the record is written as an older registry would have kept it."""
    from registry import provisions
    from registry.customers import find_customer_by_ref
    from sqlmodel import select

    from registry.models import DataItem, ProvisionRecord, ProvisionRecordDataItem

    async def add(session):
        customer = await find_customer_by_ref(session, "loveinn-japan", "LIJ-0002")
        [bank] = await provisions.list_recipients(session)
        [provision] = (await provisions.provisions_of_recipients(session, [bank.id]))[bank.id]
        provided_on = date.today() - timedelta(days=4 * 365)
        row = ProvisionRecord(provision_id=provision.id, customer_id=customer.id, provided_on=provided_on,
                              retain_until=provided_on + timedelta(days=3 * 365))
        session.add(row)
        await session.flush()
        name = (await session.exec(select(DataItem).where(DataItem.business_id == provision.business_id,
                                                           DataItem.code == "name"))).one()
        session.add(ProvisionRecordDataItem(record_id=row.id, data_item_id=name.id))

    run_in_session(url, add)


def test_purge_records_deletes_records_past_retention_once_and_says_how_many(database_url):
    invoke("seed", "--demo")
    add_expired_record(database_url)
    assert record_count(database_url) == 3
    first = invoke("purge-records")
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("1 provision record past retention deleted")
    assert record_count(database_url) == 2  # the demo's recent records stay
    again = invoke("purge-records")
    assert again.exit_code == 0 and again.stdout.startswith("0 provision records")
    assert record_count(database_url) == 2


def test_purge_records_refuses_a_date_after_today(database_url):
    invoke("seed", "--demo")
    later = (date.today() + timedelta(days=4 * 365)).isoformat()
    result = invoke("purge-records", "--as-of", later)
    assert result.exit_code == 2 and "after today" in result.stderr
    assert record_count(database_url) == 2


def test_purge_records_refuses_a_database_not_yet_migrated(database_url):
    result = invoke("purge-records")
    assert result.exit_code == 1 and "pi-gateway migrate" in result.stderr
