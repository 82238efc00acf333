"""Customer sync through its two doors (issue 14): the `importCustomers` mutation over HTTP,
and `pi-gateway customers import` as an operator runs it."""

import asyncio
from datetime import date, timedelta

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from gateway.cli import app
from registry import customers, migrate
from registry.db import Database
from registry.demo import seed_demo
from registry.enums import Role
from registry.models import AuditEvent, Customer
from tests.conftest import TEST_CLOCK

IMPORT = """mutation($input: ImportCustomersInput!) { importCustomers(input: $input) {
  created changed unchanged erased badRows { index field code message } errors { code field message } } }"""
TODAY = date(2026, 11, 25)
REGISTERED = TODAY - timedelta(days=400)  # the demo customers'


def row(n: int, **overrides) -> dict:
    return {"externalRef": f"API-{n:04d}", "registeredOn": "2026-06-01", "items": ["name", "email"],
            "displayName": f"Member {n} (fictional)", "email": f"m{n}@example.test"} | overrides


async def counts(api) -> tuple[int, int]:
    async with api.database.session() as session:
        return tuple([(await session.exec(select(func.count()).select_from(m))).one() for m in (Customer, AuditEvent)])


@pytest.mark.parametrize("role", [Role.PRIVACY_OFFICER, Role.ADMIN])
async def test_privacy_officers_and_admins_import_rows_and_bad_ones_are_listed(api, role):
    rows = [row(1), row(2, items=["name", "fax"]), row(3, email="nobody"), row(4)]
    before = await counts(api)
    refused = (await api.data(IMPORT, {"input": {"rows": rows}}, role=role))["importCustomers"]
    assert [(b["index"], b["field"], b["code"]) for b in refused["badRows"]] == [
        (2, "items", "NOT_FOUND"), (3, "email", "INVALID_INPUT")]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "rows")]
    assert await counts(api) == before  # all or nothing
    written = (await api.data(IMPORT, {"input": {"rows": rows, "skipBad": True}}, role=role))["importCustomers"]
    assert (written["created"], len(written["badRows"]), written["errors"]) == (2, 2, [])
    assert await counts(api) == (before[0] + 2, before[1] + 3)
    again = (await api.data(IMPORT, {"input": {"rows": [row(1), row(4)]}}, role=role))["importCustomers"]
    assert (again["created"], again["changed"], again["unchanged"]) == (0, 0, 2)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.VENDOR_MANAGER])
async def test_viewers_and_vendor_managers_may_not_import(api, role):
    before = await counts(api)
    body = await api.gql(IMPORT, {"input": {"rows": [row(1)]}}, role=role)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"] and body["data"] is None
    assert await counts(api) == before


async def test_more_than_a_thousand_rows_are_refused_whole(api):
    before = await counts(api)
    payload = (await api.data(IMPORT, {"input": {"rows": [row(n) for n in range(1001)]}}))["importCustomers"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "rows")]
    assert payload["created"] == 0 and await counts(api) == before


async def test_a_field_left_out_is_left_alone_and_an_erased_customer_stays_erased(api):
    known = {"externalRef": "LIJ-0001", "registeredOn": str(REGISTERED),
             "items": ["name", "email", "phone", "amount", "credit_card_number"], "email": "new@example.test"}
    erased = {"externalRef": "LIJ-0006", "registeredOn": str(REGISTERED), "items": ["name"],
              "displayName": "Ren Watanabe"}
    payload = (await api.data(IMPORT, {"input": {"businessCode": "loveinn-japan", "rows": [known, erased]}}))
    assert {k: payload["importCustomers"][k] for k in ("changed", "erased")} == {"changed": 1, "erased": 1}
    async with api.database.session() as session:
        first = await customers.find_customer_by_ref(session, "loveinn-japan", "LIJ-0001")
        sixth = await customers.find_customer_by_ref(session, "loveinn-japan", "LIJ-0006")
    assert (first.email, first.display_name) == ("new@example.test", "Hanako Yamada (fictional)")
    assert sixth.display_name is None


# --- the command ---------------------------------------------------------------------------

runner = CliRunner()
HEADER = "externalRef,registeredOn,cancelledOn,items,displayName,email"


@pytest.fixture
def demo_url(tmp_path, monkeypatch):
    """A migrated SQLite file with the demo registry, the CLI's DATABASE_URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PI_GATEWAY_TIMEZONE", "Asia/Tokyo")
    migrate.upgrade(url)

    async def seed():
        database = Database.connect(url)
        async with database.session(write=True) as session:
            await seed_demo(session, clock=TEST_CLOCK)
        await database.dispose()

    asyncio.run(seed())
    return url


def members(tmp_path, count: int, bad: dict[int, str]):
    lines = [HEADER] + [f"CLI-{n:04d},2025-01-01,,name;email,Member {n} (fictional),m{n}@example.test"
                        for n in range(1, count + 1)]
    for line, text in bad.items():
        lines[line - 1] = text
    path = tmp_path / "members.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_command_refuses_a_file_with_bad_rows_by_line_and_writes_with_skip_bad(demo_url, tmp_path):
    path = members(tmp_path, 100, {11: "CLI-0010,2025-01-01,,name;fax,,", 51: "CLI-0050,tomorrow,,name,,",
                                   78: "CLI-0077,2025-01-01,,name,Member 77 (fictional),secret-not-an-address"})
    refused = runner.invoke(app, ["customers", "import", str(path)])
    assert refused.exit_code == 1
    assert [line.split(":")[0] for line in refused.stderr.splitlines() if line.startswith("line ")] == [
        "line 11", "line 51", "line 78"]
    assert "secret-not-an-address" not in refused.output and "Member 77" not in refused.output
    assert "nothing written" in refused.stderr
    written = runner.invoke(app, ["customers", "import", str(path), "--skip-bad", "--business", "loveinn-japan"])
    assert written.exit_code == 0, written.output
    assert written.stdout.strip().splitlines()[-1] == "created 97, changed 0, unchanged 0, bad 3"
    # not a terminal: plain progress lines on stderr, never a bar
    assert "checked 100 rows" in written.stderr and "imported 100/100 rows" in written.stderr
    again = runner.invoke(app, ["customers", "import", str(path), "--skip-bad"])
    assert again.stdout.strip().splitlines()[-1] == "created 0, changed 0, unchanged 97, bad 3"


def test_the_command_refuses_a_wrong_header_or_an_unknown_format(demo_url, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("ref,name\nA,B\n")
    wrong = runner.invoke(app, ["customers", "import", str(path)])
    assert wrong.exit_code == 1 and "header" in wrong.stderr
    other = tmp_path / "members.txt"
    other.write_text(HEADER + "\n")
    assert runner.invoke(app, ["customers", "import", str(other)]).exit_code == 2
    assert runner.invoke(app, ["customers", "import", str(other), "--format", "csv"]).exit_code == 0
