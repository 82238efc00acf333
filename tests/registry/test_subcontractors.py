import asyncio
import json
from datetime import date

import pytest
from sqlmodel import func, select

from registry import subcontractors
from registry.enums import (
    AssessmentResult,
    Certification,
    ContractClause,
    ContractStatus,
)
from registry.errors import InvalidInput, NotFound, VersionConflict
from registry.handling import resolve_handlings
from registry.models import Assessment, AuditEvent, Subcontractor
from registry.subcontractors import SubcontractorFilter
from tests import factories

ACTOR = "vendor-manager"
TODAY = date(2026, 11, 25)


async def counts(session, *models):
    return [(await session.exec(select(func.count()).select_from(m))).one() for m in models]


async def events(session, action):
    return list((await session.exec(select(AuditEvent).where(AuditEvent.action == action))).all())


async def _committed_sub(session, **overrides):
    sub = await factories.subcontractor(session, **overrides)
    await session.commit()
    return sub


# --- create ---------------------------------------------------------------------------


async def test_a_new_subcontractor_starts_at_version_1_with_one_audit_event(session):
    sub = await subcontractors.create_subcontractor(
        session,
        actor=ACTOR,
        name=" Pay Co ",
        country="jp",
        corporate_number="7000012050002",
        certifications=[Certification.PRIVACY_MARK, Certification.PRIVACY_MARK],
    )
    assert (sub.name, sub.country, sub.version, sub.certifications) == ("Pay Co", "JP", 1, ["PRIVACY_MARK"])
    [event] = await events(session, "subcontractor.create")
    assert (event.entity_type, event.entity_id, event.before) == ("Subcontractor", sub.id, None)
    assert json.loads(event.after)["corporate_number"] == "7000012050002"


@pytest.mark.parametrize(
    "field, overrides",
    [
        ("name", {"name": "  "}),
        ("name", {"name": "x" * 201}),
        ("country", {"country": "ZZ"}),
        ("corporateNumber", {"corporate_number": "7000012050003"}),
        ("certifications", {"certifications": ["ISO_9001"]}),
    ],
)
async def test_a_malformed_subcontractor_is_invalid_input_and_nothing_is_written(session, field, overrides):
    fields = dict(actor=ACTOR, name="Pay Co", country="JP") | overrides
    with pytest.raises(InvalidInput) as raised:
        await subcontractors.create_subcontractor(session, **fields)
    assert raised.value.field == field
    assert await counts(session, Subcontractor, AuditEvent) == [0, 0]


async def test_a_parent_that_does_not_exist_is_not_found(session):
    with pytest.raises(NotFound) as raised:
        await subcontractors.create_subcontractor(
            session, actor=ACTOR, name="Panel", country="JP", parent_id=404
        )
    assert raised.value.field == "parentId"
    assert await counts(session, Subcontractor, AuditEvent) == [0, 0]


async def test_a_re_entrusted_subcontractor_names_its_parent(session):
    parent = await _committed_sub(session)
    child = await subcontractors.create_subcontractor(
        session, actor=ACTOR, name="Panel", country="US", parent_id=parent.id
    )
    assert child.parent_id == parent.id


# --- update ---------------------------------------------------------------------------


async def test_an_update_changes_only_the_keys_given_and_bumps_the_version_by_one(session):
    sub = await _committed_sub(session, name="Old", country="JP", corporate_number="7000012050002")
    created_at, updated_at = sub.created_at, sub.updated_at
    updated = await subcontractors.update_subcontractor(
        session, actor=ACTOR, id=sub.id, expected_version=1, changes={"name": "New", "corporate_number": None},
        today=TODAY,
    )
    assert (updated.name, updated.country, updated.corporate_number, updated.version) == (
        "New",
        "JP",
        None,
        2,
    )
    assert updated.created_at == created_at and updated.updated_at > updated_at
    [event] = await events(session, "subcontractor.update")
    assert json.loads(event.before)["name"] == "Old" and json.loads(event.after)["name"] == "New"
    assert json.loads(event.after)["version"] == 2


async def test_an_update_from_a_stale_version_conflicts_and_writes_nothing(session):
    sub = await _committed_sub(session, name="Old", version=3)
    with pytest.raises(VersionConflict) as raised:
        await subcontractors.update_subcontractor(
            session, actor=ACTOR, id=sub.id, expected_version=2, changes={"name": "New"}, today=TODAY
        )
    assert raised.value.field == "expectedVersion"
    stored = await session.get(Subcontractor, sub.id, populate_existing=True)
    assert (stored.name, stored.version) == ("Old", 3)
    assert await counts(session, AuditEvent) == [0]


async def test_a_stale_version_conflicts_whatever_else_is_wrong(session):
    sub = await _committed_sub(session, version=2)
    with pytest.raises(VersionConflict):
        await subcontractors.update_subcontractor(
            session, actor=ACTOR, id=sub.id, expected_version=1, changes={"country": "ZZ", "name": ""}, today=TODAY
        )


async def test_updating_an_unknown_subcontractor_is_not_found(session):
    with pytest.raises(NotFound) as raised:
        await subcontractors.update_subcontractor(
            session, actor=ACTOR, id=404, expected_version=1, changes={}, today=TODAY
        )
    assert raised.value.field == "id"


@pytest.mark.parametrize(
    "field, changes",
    [
        ("country", {"country": "Japan"}),
        ("corporateNumber", {"corporate_number": "123"}),
        ("name", {"name": ""}),
    ],
)
async def test_a_malformed_update_is_invalid_input_and_writes_nothing(session, field, changes):
    sub = await _committed_sub(session, name="Old")
    with pytest.raises(InvalidInput) as raised:
        await subcontractors.update_subcontractor(
            session, actor=ACTOR, id=sub.id, expected_version=1, changes=changes, today=TODAY
        )
    assert raised.value.field == field
    stored = await session.get(Subcontractor, sub.id, populate_existing=True)
    assert (stored.name, stored.version) == ("Old", 1)
    assert await counts(session, AuditEvent) == [0]


async def test_of_20_concurrent_updates_from_one_version_exactly_one_wins(db):
    async with db.session(write=True) as session:
        sub_id = (await _committed_sub(session, name="Start")).id

    async def update(n):
        async with db.session(write=True) as session:
            return await subcontractors.update_subcontractor(
                session, actor=f"writer-{n}", id=sub_id, expected_version=1, changes={"name": f"Name {n}"}, today=TODAY
            )

    results = await asyncio.gather(*(update(n) for n in range(20)), return_exceptions=True)
    winners = [r for r in results if isinstance(r, Subcontractor)]
    conflicts = [r for r in results if isinstance(r, VersionConflict)]
    assert (len(winners), len(conflicts)) == (1, 19), results
    async with db.session() as session:
        stored = await session.get(Subcontractor, sub_id)
        assert (stored.version, stored.name) == (2, winners[0].name)
        assert len(await events(session, "subcontractor.update")) == 1


# --- re-entrustment: changing the parent ------------------------------------------------


async def _reparent(session, sub, parent_id):
    return await subcontractors.update_subcontractor(
        session, actor=ACTOR, id=sub.id, expected_version=sub.version, changes={"parent_id": parent_id}, today=TODAY
    )


async def _stored_parents(session, *subs):
    return [(await session.get(Subcontractor, s.id, populate_existing=True)).parent_id for s in subs]


async def test_a_subcontractor_can_be_moved_under_another_parent_and_back_to_the_business(session):
    survey, panel = await _committed_sub(session, name="Survey"), await _committed_sub(session, name="Panel")
    moved = await _reparent(session, panel, survey.id)
    assert (moved.parent_id, moved.version) == (survey.id, 2)
    cleared = await _reparent(session, moved, None)
    assert (cleared.parent_id, cleared.version) == (None, 3)
    first, second = await events(session, "subcontractor.update")
    assert (json.loads(first.before)["parent_id"], json.loads(first.after)["parent_id"]) == (None, survey.id)
    assert (json.loads(second.before)["parent_id"], json.loads(second.after)["parent_id"]) == (survey.id, None)


async def test_a_parent_that_does_not_exist_is_not_found_on_update(session):
    sub = await _committed_sub(session)
    with pytest.raises(NotFound) as raised:
        await _reparent(session, sub, 404)
    assert raised.value.field == "parentId"
    assert await _stored_parents(session, sub) == [None]
    assert await counts(session, AuditEvent) == [0]


async def test_a_subcontractor_cannot_be_its_own_parent(session):
    sub = await _committed_sub(session, name="Loop Co")
    with pytest.raises(InvalidInput) as raised:
        await _reparent(session, sub, sub.id)
    assert raised.value.field == "parentId"
    assert "cycle (Loop Co -> Loop Co)" in raised.value.message
    assert await _stored_parents(session, sub) == [None]
    assert await counts(session, AuditEvent) == [0]


async def test_a_parent_whose_chain_reaches_the_subcontractor_would_make_a_cycle(session):
    a = await _committed_sub(session, name="A")
    b = await _committed_sub(session, name="B", parent_id=a.id)
    c = await _committed_sub(session, name="C", parent_id=b.id)
    with pytest.raises(InvalidInput) as raised:
        await _reparent(session, a, c.id)  # A under C, while C is under B under A
    assert raised.value.field == "parentId"
    assert "re-entrustment cycle (A -> C -> B -> A)" in raised.value.message
    assert await _stored_parents(session, a, b, c) == [None, a.id, b.id]
    assert await counts(session, AuditEvent) == [0]


async def test_a_parent_elsewhere_in_the_tree_is_no_cycle(session):
    a = await _committed_sub(session, name="A")
    b = await _committed_sub(session, name="B", parent_id=a.id)
    c = await _committed_sub(session, name="C", parent_id=a.id)
    moved = await _reparent(session, c, b.id)  # a sibling's child is fine
    assert moved.parent_id == b.id


@pytest.mark.parametrize("value", ["1", 1.0, True])
async def test_a_parent_id_that_is_not_an_id_is_invalid_input(session, value):
    sub = await _committed_sub(session)
    with pytest.raises(InvalidInput) as raised:
        await _reparent(session, sub, value)
    assert raised.value.field == "parentId"


async def test_two_subcontractors_racing_to_parent_each_other_make_no_cycle(db):
    async with db.session(write=True) as session:
        a, b = await _committed_sub(session, name="A"), await _committed_sub(session, name="B")

    async def reparent(child, parent):
        async with db.session(write=True) as session:
            return await subcontractors.update_subcontractor(
                session, actor=ACTOR, id=child.id, expected_version=1, changes={"parent_id": parent.id}, today=TODAY
            )

    results = await asyncio.gather(reparent(a, b), reparent(b, a), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["InvalidInput", "Subcontractor"], results
    async with db.session() as session:
        parents = await _stored_parents(session, a, b)
    assert parents in ([b.id, None], [None, a.id])


# --- re-entrustment: the parent link is not dated (DESIGN.md "Time") --------------------


async def _re_entrusted(session, *, panel_begins: date):
    """A business entrusting name for P3 to a survey company and another company (both
    consenting to sub-entrustment), and to a panel provider re-entrusted by the survey company,
    whose entrustment begins on `panel_begins`; a customer holding name. All ACTIVE from 2026-01-01."""
    biz = await factories.business(session)
    ps, its = await factories.purposes(session, biz), await factories.items(session, biz)
    consent = [str(c) for c in factories.REQUIRED_CLAUSES] + [ContractClause.SUB_ENTRUSTMENT_CONSENT]
    survey = await factories.subcontractor(session, name="Survey")
    other = await factories.subcontractor(session, name="Other")
    for sub in (survey, other):
        contract = await factories.contract(session, biz, sub, clauses=consent)
        await factories.entrustment(session, contract, [ps["P3"]], [its["name"]])
    panel = await factories.subcontractor(session, name="Panel", parent_id=survey.id)
    panel_contract = await factories.contract(session, biz, panel)
    await factories.entrustment(session, panel_contract, [ps["P3"]], [its["name"]], effective_from=panel_begins)
    customer = await factories.customer(session, biz, [its["name"]])
    await session.commit()
    return survey, other, panel, panel_contract, customer


async def _answer(session, customer, as_of):
    """handlings(asOf:, includeExcluded: true) as comparable rows, the chain last."""
    found = await resolve_handlings(session, customer.id, as_of=as_of, include_excluded=True)
    return [(h.party.name, h.excluded, h.exclusion_reasons, [i.code for i in h.data_items],
             [p.code for p in h.purposes], [s.name for s in h.chain]) for h in found]


async def test_the_parent_cannot_change_once_an_entrustment_has_begun_and_the_past_answers_as_before(session):
    survey, other, panel, _, customer = await _re_entrusted(session, panel_begins=date(2026, 1, 1))
    last_month = await _answer(session, customer, date(2026, 10, 25))
    assert ("Panel", False, [], ["name"], ["P3"], ["Survey"]) in last_month
    for parent_id in (other.id, None):
        with pytest.raises(InvalidInput) as raised:
            await _reparent(session, panel, parent_id)
        assert raised.value.field == "parentId"
        assert "in effect since 2026-01-01" in raised.value.message and "new subcontractor" in raised.value.message
    stored = await session.get(Subcontractor, panel.id, populate_existing=True)
    assert (stored.parent_id, stored.version) == (survey.id, 1)
    assert await events(session, "subcontractor.update") == []
    assert await _answer(session, customer, date(2026, 10, 25)) == last_month
    # the same parent sent again (a form sending every field) changes nothing of it
    assert (await _reparent(session, stored, survey.id)).parent_id == survey.id


async def test_a_subcontractor_whose_entrustments_have_not_begun_can_change_its_parent(session):
    _, other, panel, panel_contract, customer = await _re_entrusted(session, panel_begins=date(2026, 12, 1))
    # an entrustment removed on the day it began was never in effect
    await factories.entrustment(session, panel_contract, [], [], effective_from=date(2026, 6, 1),
                                effective_until=date(2026, 5, 31))
    await session.commit()
    last_month = await _answer(session, customer, date(2026, 10, 25))
    moved = await _reparent(session, panel, other.id)
    assert (moved.parent_id, moved.version) == (other.id, 2)
    # who handled what that day is unchanged; the panel provider, which handled nothing then,
    # names its parent as it is now
    after = await _answer(session, customer, date(2026, 10, 25))
    assert [row[:5] for row in after] == [row[:5] for row in last_month]
    assert [row[5] for row in after if row[0] == "Panel"] == [["Other"]]
    assert ("Panel", False, [], ["name"], ["P3"], ["Other"]) in await _answer(session, customer, date(2026, 12, 1))


# --- assessments ------------------------------------------------------------------------


async def test_an_assessment_bumps_the_version_and_the_latest_assessed_on_counts(session):
    sub = await _committed_sub(session, certifications=["ISO_27001"])
    await subcontractors.record_assessment(
        session,
        actor=ACTOR,
        subcontractor_id=sub.id,
        result=AssessmentResult.INADEQUATE,
        assessed_on=date(2026, 6, 1),
        next_due_on=date(2026, 12, 1),
    )
    updated = await subcontractors.record_assessment(
        session,
        actor=ACTOR,
        subcontractor_id=sub.id,
        result=AssessmentResult.ADEQUATE,
        assessed_on=date(2025, 6, 1),  # recorded later, but older
    )
    assert updated.version == 3
    system = (await subcontractors.management_systems(session, [sub.id]))[sub.id]
    assert system == subcontractors.ManagementSystem(
        certifications=[Certification.ISO_27001],
        assessment_result=AssessmentResult.INADEQUATE,
        last_assessed_on=date(2026, 6, 1),
        next_assessment_due_on=date(2026, 12, 1),
    )
    events_ = await events(session, "subcontractor.assess")
    assert len(events_) == 2 and json.loads(events_[0].after)["assessment"]["result"] == "INADEQUATE"


async def test_a_subcontractor_never_assessed_reads_not_assessed(session):
    sub = await _committed_sub(session)
    system = (await subcontractors.management_systems(session, [sub.id]))[sub.id]
    assert (system.assessment_result, system.last_assessed_on) == (AssessmentResult.NOT_ASSESSED, None)


async def test_assessing_an_unknown_subcontractor_is_not_found(session):
    with pytest.raises(NotFound) as raised:
        await subcontractors.record_assessment(
            session, actor=ACTOR, subcontractor_id=404, result=AssessmentResult.ADEQUATE, assessed_on=TODAY
        )
    assert raised.value.field == "subcontractorId"
    assert await counts(session, Assessment, AuditEvent) == [0, 0]


@pytest.mark.parametrize(
    "field, overrides",
    [
        ("result", {"result": AssessmentResult.NOT_ASSESSED}),
        ("nextDueOn", {"next_due_on": date(2026, 1, 1)}),
        ("note", {"note": "x" * 2001}),
    ],
)
async def test_a_malformed_assessment_is_invalid_input_and_writes_nothing(session, field, overrides):
    sub = await _committed_sub(session)
    fields = dict(actor=ACTOR, subcontractor_id=sub.id, result=AssessmentResult.ADEQUATE, assessed_on=TODAY)
    with pytest.raises(InvalidInput) as raised:
        await subcontractors.record_assessment(session, **(fields | overrides))
    assert raised.value.field == field
    assert await counts(session, Assessment, AuditEvent) == [0, 0]
    assert (await session.get(Subcontractor, sub.id, populate_existing=True)).version == 1


# --- current contract and listing -------------------------------------------------------


async def test_the_current_contract_is_the_latest_in_effect_else_the_latest(session):
    biz = await factories.business(session)
    started, future_only, expired, none = [await factories.subcontractor(session) for _ in range(4)]
    await factories.contract(
        session, biz, started, status=ContractStatus.TERMINATED, effective_from=date(2025, 1, 1)
    )
    await factories.contract(
        session, biz, started, status=ContractStatus.SUSPENDED, effective_from=date(2026, 3, 1)
    )
    await factories.contract(
        session, biz, started, status=ContractStatus.DRAFT, effective_from=date(2027, 1, 1)
    )
    await factories.contract(
        session, biz, future_only, status=ContractStatus.UNDER_REVIEW, effective_from=date(2027, 1, 1)
    )
    await factories.contract(
        session, biz, future_only, status=ContractStatus.DRAFT, effective_from=date(2027, 6, 1)
    )
    await factories.contract(session, biz, expired, expires_on=date(2026, 11, 24))
    await session.commit()
    statuses = await subcontractors.current_contract_statuses(
        session, [started.id, future_only.id, expired.id, none.id], today=TODAY
    )
    assert statuses == {
        started.id: ContractStatus.SUSPENDED,
        future_only.id: ContractStatus.DRAFT,
        expired.id: ContractStatus.EXPIRED,
        none.id: None,
    }


async def _listed(session, **filter_fields):
    page = await subcontractors.list_subcontractors(
        session, today=TODAY, filter=SubcontractorFilter(**filter_fields)
    )
    return [s.name for s in page.items]


async def test_subcontractors_are_filtered_by_name_country_status_purpose_and_item(session):
    biz = await factories.business(session)
    ps, its = await factories.purposes(session, biz), await factories.items(session, biz)
    pay = await factories.subcontractor(session, name="Acme Payments", country="JP")
    survey = await factories.subcontractor(session, name="Survey 100%", country="US")
    await factories.subcontractor(session, name="Idle", country="JP")
    con = await factories.contract(session, biz, pay)
    await factories.entrustment(session, con, [ps["P5"]], [its["credit_card_number"]])
    con = await factories.contract(session, biz, survey, status=ContractStatus.SUSPENDED)
    await factories.entrustment(session, con, [ps["P4"]], [its["email"]])
    await session.commit()
    assert await _listed(session) == ["Acme Payments", "Survey 100%", "Idle"]
    assert await _listed(session, name_contains="acme") == ["Acme Payments"]
    assert await _listed(session, name_contains="100%") == ["Survey 100%"]
    assert await _listed(session, name_contains="%") == ["Survey 100%"]
    assert await _listed(session, country="jp") == ["Acme Payments", "Idle"]
    assert await _listed(session, contract_status=ContractStatus.SUSPENDED) == ["Survey 100%"]
    assert await _listed(session, data_item_code="credit_card_number") == ["Acme Payments"]
    assert await _listed(session, purpose_code="P4") == ["Survey 100%"]
    assert await _listed(session, purpose_code="P4", country="JP") == []


async def test_listing_more_than_1000_subcontractors_at_once_is_invalid_input(session):
    with pytest.raises(InvalidInput) as raised:
        await subcontractors.list_subcontractors(session, today=TODAY, first=1001)
    assert raised.value.field == "first"


async def test_get_raises_find_returns_none(session):
    assert await subcontractors.find_subcontractor(session, 404) is None
    with pytest.raises(NotFound):
        await subcontractors.get_subcontractor(session, 404)


async def test_a_filter_longer_than_any_name_is_refused(session, clock):
    from registry.errors import InvalidInput
    from registry.subcontractors import SubcontractorFilter, list_subcontractors

    with pytest.raises(InvalidInput) as refused:
        await list_subcontractors(session, today=clock.today(), filter=SubcontractorFilter(name_contains="x" * 201))
    assert refused.value.field == "filter.nameContains"
    page = await list_subcontractors(session, today=clock.today(), filter=SubcontractorFilter(name_contains="x" * 200))
    assert page.total == 0
