"""Issue 14 as a new user tries it: export the demo, edit the YAML (a new purpose, a contract
suspended), `apply --dry-run` shows exactly those two changes, `apply` makes them, and the API
(what GraphiQL shows) answers with them.

The commands run as in a shell (typer's runner, on a thread: each command runs its own event
loop) on the demo registry of the `api` fixture, with the CLI's clock set to the test's."""

import asyncio

import pytest
from typer.testing import CliRunner

import gateway.cli as cli
from tests.conftest import TEST_CLOCK

runner = CliRunner()
TODAY = TEST_CLOCK.today()


@pytest.fixture
def shell(api, database_url, monkeypatch):
    """Runs `pi-gateway ARGS...` on the api's database; the result (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(cli, "clock_of", lambda config: TEST_CLOCK)

    async def run(*args: str):
        return await asyncio.to_thread(runner.invoke, cli.app, list(args), catch_exceptions=False)
    return run


def edit(text: str) -> str:
    purposes = text.index("\n    purposes:\n") + len("\n    purposes:\n")
    purpose = f"      P6:\n        effectiveFrom: {TODAY}\n        title: Birthday coupons\n"
    text = text[:purposes] + purpose + text[purposes:]
    contract = text.index("\n      LIJ-PAY-001:\n")
    history_end = text.index("        subcontractor:", contract)
    return text[:history_end] + f"        - effectiveOn: {TODAY}\n          status: SUSPENDED\n" + text[history_end:]


QUERY = """{
  business(code: "loveinn-japan") { purposes { code title } }
  subcontractors(filter: {nameContains: "Sakura"}) { edges { node { contracts { reference status } } } }
}"""


async def test_export_edit_dry_run_apply_and_the_api_shows_the_two_changes(api, shell, tmp_path):
    path = tmp_path / "registry.yaml"
    exported = await shell("export", "--output", str(path))
    assert exported.exit_code == 0, exported.output
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")

    dry = await shell("apply", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines() == [
        '+ purpose loveinn-japan/P6 "Birthday coupons"',
        f"~ contract loveinn-japan/LIJ-PAY-001 status ACTIVE -> SUSPENDED from {TODAY}",
        "Plan: 1 to create, 1 to change, 0 to end.",
    ]
    before = await api.data(QUERY)
    assert "P6" not in [p["code"] for p in before["business"]["purposes"]]

    applied = await shell("apply", str(path))
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.splitlines()[-1] == "Applied 2 changes."
    after = await api.data(QUERY)
    assert {"code": "P6", "title": "Birthday coupons"} in after["business"]["purposes"]
    [sakura] = after["subcontractors"]["edges"]
    assert sakura["node"]["contracts"] == [{"reference": "LIJ-PAY-001", "status": "SUSPENDED"}]
    events = await api.data("{ auditEvents(first: 5) { edges { node { actor action } } } }")
    actors = {e["node"]["actor"] for e in events["auditEvents"]["edges"]}
    assert "pi-gateway apply registry.yaml" in actors

    again = await shell("apply", str(path))
    assert again.exit_code == 0 and again.stdout.strip() == "No changes."


async def test_a_refused_file_exits_1_with_file_and_line_on_stderr(api, shell, tmp_path):
    path = tmp_path / "registry.yaml"
    text = (await shell("export")).stdout
    lines = text.splitlines(keepends=True)
    at = lines.index("      P2:\n") + 1
    path.write_text("".join(lines[:at] + ["        colour: blue\n"] + lines[at:]), encoding="utf-8")
    refused = await shell("apply", str(path))
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"registry.yaml:{at + 1}: businesses/loveinn-japan/purposes/P2: ")
    assert "'colour' was unexpected" in refused.stderr
    assert (await shell("export")).stdout == text  # nothing written


async def test_exporting_an_unknown_business_is_a_clear_error(shell):
    refused = await shell("export", "--business", "nope")
    assert refused.exit_code == 1
    assert "no business with code 'nope'" in refused.stderr
