"""The registry as code (issue 14): `export` gives stable, schema-valid YAML with no personal data;
`apply` plans the difference and makes it through the registry's writes in one transaction.

Every test starts on a copy of the demo registry's template (seeded on TEST_CLOCK) or of an
empty migrated one, on SQLite and, when PI_GATEWAY_TEST_POSTGRES_URL is set, on PostgreSQL."""

from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
import yaml
from sqlmodel import func, select

from registry import businesses, contracts, joint_uses, provisions, subcontractors, version
from registry.db import Database
from registry.manifest import ApplyRefused, FileRefused, apply_file, export_text, read
from jsonschema import Draft202012Validator

from registry.enums import AssessmentResult, ForeignTransferBasis, LegalBasis
from registry.manifest import schema
from registry.manifest.files import MAX_BYTES, MAX_DEPTH
from registry.models import AuditEvent, Customer
from tests.conftest import BACKENDS, POSTGRES_URL, TEST_CLOCK, demo_registry, migrated_registry

TODAY = TEST_CLOCK.today()  # 2026-11-25, the day the demo was seeded
ACTOR = "apply:registry.yaml"


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL: set PI_GATEWAY_TEST_POSTGRES_URL to run this test on PostgreSQL")
    return request.param


@asynccontextmanager
async def registry_copy(templates, backend, build, path):
    async with templates.copy(backend, build, path) as url:
        database = Database.connect(url)
        try:
            yield database
        finally:
            await database.dispose()


@pytest.fixture
async def demo(templates, backend, tmp_path):
    """The demo registry (its template: tests/conftest.py `demo_registry`)."""
    async with registry_copy(templates, backend, demo_registry, tmp_path / "demo.db") as database:
        yield database


@pytest.fixture
async def empty(templates, backend, tmp_path):
    """A migrated registry holding nothing, on the same backend as `demo`."""
    async with registry_copy(templates, backend, migrated_registry, tmp_path / "empty.db") as database:
        yield database


async def exported(database: Database, **options) -> str:
    async with database.session() as session:
        return await export_text(session, **options)


async def state(database: Database) -> tuple[str, int, int]:
    """What a refused apply must leave as it was: the export, the audit trail's length, the version."""
    async with database.session() as session:
        events = (await session.exec(select(func.count()).select_from(AuditEvent))).one()
        return await export_text(session), events, await version.current(session)


async def apply(database: Database, text: str, **options):
    return await apply_file(database, text.encode(), actor=ACTOR, today=TODAY, **options)


def edited(text: str, anchor: str, insert: str, *, after: str | None = None) -> str:
    """`text` with `insert` placed before the first line starting with `after` (or right after
    `anchor`'s line when `after` is None) that follows `anchor`."""
    start = text.index("\n" + anchor) + 1
    at = text.index(after, start) if after else text.index("\n", start) + 1
    return text[:at] + insert + text[at:]


NEW_PURPOSE = f"""\
      P6:
        effectiveFrom: {TODAY}
        title: To send customers a birthday coupon
"""
SUSPENSION = f"""\
        - effectiveOn: {TODAY}
          reason: card data incident under investigation
          status: SUSPENDED
"""


def the_issue_edit(text: str) -> str:
    """A new purpose, and an ACTIVE contract suspended (issue 14's "done when")."""
    text = edited(text, "    purposes:\n", NEW_PURPOSE)
    return edited(text, "      LIJ-PAY-001:\n", SUSPENSION, after="        subcontractor:")


# --- export -------------------------------------------------------------------------------------


async def test_the_export_is_stable_sorted_schema_valid_and_holds_no_customer(demo):
    text = await exported(demo)
    assert text == await exported(demo)
    assert text.startswith("# pi-gateway registry, format version 1")
    body = text[text.index("\nbusinesses:") + 1:]
    assert yaml.safe_dump(yaml.safe_load(body), sort_keys=True, allow_unicode=True, default_flow_style=False,
                          width=1 << 20) == body  # keys already sorted, nothing YAML would write otherwise
    document, wanted = read(text.encode())  # the schema and the format's own checks pass
    business = wanted["businesses"]["loveinn-japan"]
    assert sorted(business["purposes"]) == ["P1", "P2", "P3", "P4", "P5"]
    assert business["contracts"]["LIJ-MAIL-001"]["statusHistory"][-1]["status"] == "SUSPENDED"
    panel = wanted["subcontractors"]["Panelist Hub Pte. Ltd. (fictional)"]
    assert panel["parent"] == "Tsubame Research Inc. (fictional)"
    async with demo.session() as session:
        people = (await session.exec(select(Customer))).all()
    personal = [v for c in people for v in (c.display_name, c.email, c.external_ref) if v is not None]
    assert len(personal) > 10  # the demo's customers, some erased
    assert [value for value in personal if value in text] == []
    keys = set()

    def walk(node):
        if isinstance(node, dict):
            keys.update(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(yaml.safe_load(body))
    assert body.count("version:") == 1  # the format's, at the top
    assert not keys & {"id", "createdAt", "updatedAt", "actor", "customers", "token"}


async def test_one_business_exports_with_the_parties_it_names_and_an_unknown_one_is_not_found(demo):
    text = await exported(demo, business_code="loveinn-japan")
    assert text == await exported(demo)  # the demo has one business, naming every party
    from registry.errors import NotFound

    with pytest.raises(NotFound, match="no business with code 'nope'"):
        await exported(demo, business_code="nope")


async def test_two_subcontractors_of_one_name_cannot_key_a_file(demo):
    async with demo.session(write=True) as session:
        await subcontractors.create_subcontractor(session, actor="vm", name="Kumo Hosting K.K. (fictional)",
                                                  country="JP")
    from registry.errors import InvalidInput

    with pytest.raises(InvalidInput, match="two subcontractors are named 'Kumo Hosting"):
        await exported(demo)


# --- apply --------------------------------------------------------------------------------------


async def test_export_applied_to_an_empty_registry_exports_the_same_bytes(demo, empty):
    text = await exported(demo)
    plan = await apply(empty, text)
    assert plan.summary().startswith("Plan: ")
    assert await exported(empty) == text
    applied = await state(empty)
    again = await apply(empty, text)
    assert again.changes == [] and again.summary() == "No changes."
    assert await state(empty) == applied  # nothing written, not even a new registry version
    async with empty.session() as session:
        actors = set((await session.exec(select(AuditEvent.actor))).all())
    assert actors == {ACTOR}  # every write went through the registry's audited functions


async def history_beyond_the_demo(database: Database) -> None:
    """Facts the demo lacks, each written as the API would on TODAY: a joint use and a provision
    with their ends scheduled, a purpose retired, a subcontractor and a recipient moved abroad
    from a past day, data returned under a terminated contract, a later inadequate assessment."""
    day = timedelta(days=1)
    async with database.session(write=True) as s:
        code, actor = "loveinn-japan", "privacy-officer"
        use = await joint_uses.create_joint_use(
            s, actor=actor, business_code=code, users="ALMEX group companies", responsible="ALMEX Inc.",
            purpose_codes=["P1"], data_item_codes=["name"], today=TODAY)
        await joint_uses.end_joint_use(s, actor=actor, id=use.id, effective_until=TODAY + 10 * day, today=TODAY)
        purpose = await businesses.create_purpose(s, actor=actor, business_code=code, code="P6", title="Campaigns",
                                                  today=TODAY)
        await businesses.retire_purpose(s, actor=actor, id=purpose.id, retired_on=TODAY + 5 * day, today=TODAY)
        subs = {sub.name: sub for sub in (await subcontractors.subcontractors_by_ids(s, range(1, 20))).values()}
        kumo = subs["Kumo Hosting K.K. (fictional)"]
        await subcontractors.update_subcontractor(
            s, actor=actor, id=kumo.id, expected_version=kumo.version, today=TODAY, effective_on=TODAY - 10 * day,
            changes={"country": "SG", "foreign_transfer_basis": ForeignTransferBasis.EQUIVALENT_MEASURES})
        sakura = subs["Sakura Payment Services K.K. (fictional)"]
        await subcontractors.record_assessment(s, actor=actor, subcontractor_id=sakura.id, note="late audit",
                                               result=AssessmentResult.INADEQUATE, assessed_on=TODAY - day)
        recipient = await provisions.create_recipient(s, actor=actor, name="Card network", country="JP", kind="card")
        abroad = {"country": "US", "foreign_transfer_basis": ForeignTransferBasis.CONSENT_WITH_INFORMATION}
        await provisions.update_recipient(s, actor=actor, id=recipient.id, today=TODAY, effective_on=TODAY - 3 * day,
                                          changes=abroad)
        provision = await provisions.create_provision(
            s, actor=actor, business_code=code, recipient_id=recipient.id, purpose_codes=["P5"],
            data_item_codes=["credit_card_number"], legal_basis=LegalBasis.CONSENT, today=TODAY)
        await provisions.end_provision(s, actor=actor, id=provision.id, effective_until=TODAY + 30 * day, today=TODAY)
        printer = next(c for c in (await contracts.contracts_of_subcontractors(
            s, [subs["Old Print Works K.K. (fictional)"].id])).values())[0]
        await contracts.record_data_return(s, actor=actor, id=printer.id, expected_version=printer.version,
                                           returned_on=TODAY - 100 * day, today=TODAY)


async def test_a_history_beyond_the_demo_survives_the_round_trip(demo, empty):
    await history_beyond_the_demo(demo)
    text = await exported(demo)
    for fact in ("jointUses:\n    - dataItems:", "retiredOn: 2026-11-30", "country: SG", "result: INADEQUATE",
                 "Card network:", "dataReturnedOn: 2026-08-17", "effectiveUntil: 2026-12-25"):
        assert fact in text
    await apply(empty, text)
    assert await exported(empty) == text
    assert (await apply(empty, text)).changes == []


async def test_the_issue_scenario_plans_exactly_the_two_edits_and_applies_them(demo):
    before = await state(demo)
    text = the_issue_edit(await exported(demo))
    dry = await apply(demo, text, dry_run=True)
    assert dry.render().splitlines() == [
        '+ purpose loveinn-japan/P6 "To send customers a birthday coupon"',
        f"~ contract loveinn-japan/LIJ-PAY-001 status ACTIVE -> SUSPENDED from {TODAY}",
        "Plan: 1 to create, 1 to change, 0 to end.",
    ]
    assert await state(demo) == before  # a dry run writes nothing
    done = await apply(demo, text)
    assert [c.line() for c in done.changes] == dry.render().splitlines()[:2]
    after = yaml.safe_load(await exported(demo))["businesses"]["loveinn-japan"]
    assert after["purposes"]["P6"] | {"ordinal": 6} == after["purposes"]["P6"]
    assert after["contracts"]["LIJ-PAY-001"]["statusHistory"][-1]["status"] == "SUSPENDED"
    async with demo.session() as session:
        actions = (await session.exec(select(AuditEvent.action).where(AuditEvent.actor == ACTOR))).all()
        assert await version.current(session) == before[2] + 1  # one transaction, one version
    assert sorted(actions) == ["contract.transition", "purpose.add"]
    assert (await apply(demo, text)).summary() == "No changes."


async def test_a_refusal_on_the_third_change_leaves_the_registry_exactly_as_it_was(demo):
    before = await state(demo)
    text = await exported(demo)
    text = edited(text, "    dataItems:\n", "      loyalty_points:\n        name: Loyalty points\n")
    text = edited(text, "    purposes:\n", NEW_PURPOSE)
    # the third change activates a contract whose subcontractor was never assessed
    text = edited(text, "      LIJ-LAB-001:\n", f"        - effectiveOn: {TODAY}\n          status: ACTIVE\n",
                  after="        subcontractor:")
    dry = await apply(demo, text, dry_run=True)
    assert [c.sign for c in dry.changes] == ["+", "+", "~"]
    with pytest.raises(ApplyRefused) as refused:
        await apply(demo, text)
    line = text[:text.index("status: ACTIVE\n", text.index("LIJ-LAB-001:"))].count("\n")  # the "- effectiveOn" line
    assert refused.value.line == line
    rendered = refused.value.render("registry.yaml")
    assert rendered.startswith(f"registry.yaml:{line}: the subcontractor's management system is NOT_ASSESSED")
    assert "(MANAGEMENT_SYSTEM_INADEQUATE)" in rendered
    assert await state(demo) == before


async def test_activating_a_new_contract_without_the_required_clauses_is_refused_with_its_line(demo):
    before = await state(demo)
    contract = f"""\
      LIJ-NEW-001:
        clauses:
        - CONFIDENTIALITY
        effectiveFrom: {TODAY}
        expiresOn: 2027-11-24
        statusHistory:
        - effectiveOn: {TODAY}
          status: UNDER_REVIEW
        - effectiveOn: {TODAY}
          status: ACTIVE
        subcontractor: Kumo Hosting K.K. (fictional)
"""
    text = edited(await exported(demo), "    contracts:\n", contract)
    with pytest.raises(ApplyRefused) as refused:
        await apply(demo, text)
    assert refused.value.code == "MISSING_CONTRACT_CLAUSES"
    assert refused.value.line == text[:text.index("status: ACTIVE\n", text.index("LIJ-NEW-001"))].count("\n")
    assert await state(demo) == before


async def test_an_unknown_purpose_in_an_entrustment_is_refused_with_its_line(demo):
    before = await state(demo)
    entrustment = """\
        - dataItems: [email]
          effectiveFrom: 2026-12-25
          purposes: [P9]
"""
    text = edited(await exported(demo), "      LIJ-ANA-001:\n", entrustment, after="        - dataItems:")
    with pytest.raises(ApplyRefused) as refused:
        await apply(demo, text)
    assert refused.value.code == "NOT_FOUND" and "P9" in refused.value.message
    assert refused.value.line == text[:text.index("        - dataItems: [email]")].count("\n") + 1
    assert await state(demo) == before


async def test_a_schema_error_is_refused_with_its_line_before_reading_the_registry(demo):
    before = await state(demo)
    text = edited(await exported(demo), "      P2:\n", "        colour: blue\n")
    with pytest.raises(FileRefused) as refused:
        await apply(demo, text)
    line = text[:text.index("colour: blue")].count("\n") + 1
    assert refused.value.render("registry.yaml").startswith(
        f"registry.yaml:{line}: businesses/loveinn-japan/purposes/P2: Additional properties are not allowed")
    assert await state(demo) == before


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("      P5:\n", "      P5-renamed:\n"), "purpose P5 is missing: a purpose cannot be deleted"),
    (lambda t: t.replace("          reason: demo history\n          status: TERMINATED",
                         "          reason: demo history\n          status: SUSPENDED"),
     "past transitions cannot be rewritten"),
    (lambda t: t.replace("expiresOn: 2028-11-24\n        signedOn: 2026-12-11",
                         "expiresOn: 2029-11-24\n        signedOn: 2026-12-11", 1),
     r"a contract's terms \(expiresOn\)"),
])
async def test_what_no_write_can_do_is_refused_at_plan_time_saying_what_to_do(demo, edit, message):
    text = await exported(demo)
    changed = edit(text)
    assert changed != text
    with pytest.raises(FileRefused, match=message):
        await apply(demo, changed, dry_run=True)


def test_the_schema_is_draft_2020_12_and_bounds_every_string_list_and_mapping():
    Draft202012Validator.check_schema(schema())
    unbounded = []

    def walk(node, path):
        if isinstance(node, dict):
            kinds = node.get("type", [])
            kinds = [kinds] if isinstance(kinds, str) else kinds
            if "string" in kinds and not {"maxLength", "pattern", "enum"} & node.keys():
                unbounded.append(path)
            if "array" in kinds and "maxItems" not in node:
                unbounded.append(path)
            keyed = isinstance(node.get("additionalProperties"), dict)
            if "object" in kinds and keyed and "maxProperties" not in node:
                unbounded.append(path)
            if "object" in kinds and node.get("additionalProperties") not in (False, None) \
                    and not isinstance(node.get("additionalProperties"), dict):
                unbounded.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{path}/{n}")
    walk(schema(), "")
    assert unbounded == []


# --- hostile files --------------------------------------------------------------------------------


@pytest.mark.parametrize("data, message", [
    (b"version: 1\n" + b"# padding\n" * (MAX_BYTES // 10 + 1), "at most 5,242,880 are read"),
    (b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b]\n",
     "anchors and aliases"),
    (b"version: 1\nbusinesses: " + b"[" * (MAX_DEPTH + 5) + b"]" * (MAX_DEPTH + 5) + b"\n", "nested deeper"),
    (b"- version: 1\n", "the top level must be a mapping"),
    (b"version: 1\nversion: 1\n", "appears twice"),
    (b"version: !!python/object:os.system 1\n", "tag"),
    (b"version: 1\n\tbad: [\n", "not valid YAML"),
    (b"\xff\xfe", "not UTF-8"),
    (b"version: 2\n", "1 was expected"),
])
def test_hostile_or_broken_files_are_refused_whole_before_the_registry_is_read(data, message):
    with pytest.raises(FileRefused, match=message):
        read(data)
