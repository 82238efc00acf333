"""`pi-gateway ropa` on a SQLite file holding the demo registry, as an operator would run it."""

import csv
import io

import openpyxl
import pytest
from typer.testing import CliRunner

from gateway.cli import app
from registry.demo import BUSINESS
from registry.ropa import HEADERS

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('ropa') / 'cli.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        assert runner.invoke(app, ["seed", "--demo"], catch_exceptions=False).exit_code == 0
    return url


@pytest.fixture
def invoke(demo_file, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_file)
    return lambda *args: runner.invoke(app, ["ropa", *args], catch_exceptions=False)


def test_the_csv_goes_to_stdout_and_the_same_rows_to_a_file(invoke, tmp_path):
    printed = invoke("--format", "csv", "--as-of", "2026-06-01")
    assert printed.exit_code == 0, printed.output
    rows = list(csv.reader(io.StringIO(printed.stdout.removeprefix("\ufeff"))))
    assert rows[0] == list(HEADERS.values()) and len(rows) > 1
    assert f"records of processing on 2026-06-01: {len(rows) - 1} rows" in printed.stderr
    target = tmp_path / "ropa.csv"
    written = invoke("--format", "csv", "--business", BUSINESS, "--as-of", "2026-06-01", "-o", str(target))
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8") == printed.stdout


def test_the_xlsx_needs_a_file_and_opens(invoke, tmp_path):
    refused = invoke("--format", "xlsx")
    assert refused.exit_code == 2 and "-o FILE" in refused.stderr
    target = tmp_path / "ropa.xlsx"
    assert invoke("--format", "xlsx", "-o", str(target)).exit_code == 0
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == [BUSINESS, "Foreign parties"]
    assert book[BUSINESS].freeze_panes == "A2"


def test_an_unknown_business_or_a_bad_date_is_refused_and_writes_nothing(invoke, tmp_path):
    target = tmp_path / "ropa.csv"
    unknown = invoke("--format", "csv", "--business", "nope", "-o", str(target))
    assert unknown.exit_code == 2 and "no business with code 'nope'" in unknown.stderr
    assert not target.exists() and not list(tmp_path.iterdir())
    printed = invoke("--format", "csv", "--business", "nope")
    assert printed.exit_code == 2 and printed.stdout == ""
    bad = invoke("--format", "csv", "--as-of", "2026-13-01")
    assert bad.exit_code == 2 and "--as-of" in bad.output
