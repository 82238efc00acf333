"""The list's expiry, assessment and re-entrustment filters agree with the findings over the
whole registry, page after page, and a subcontractor's children and assessments are read in
one query for any number of subcontractors."""

import random
from datetime import date, timedelta

import pytest

from registry import subcontractors
from registry.demo import seed_demo
from registry.enums import AssessmentResult, AssessmentState, ContractStatus
from registry.errors import InvalidInput
from registry.findings import EXPIRY_WARNING_DAYS, compliance_findings
from registry.models import Contract, Subcontractor
from registry.subcontractors import SubcontractorFilter
from tests import factories

TODAY = date(2026, 11, 25)
PAGE = 7  # small pages, so a registry of 60 spans several


async def _every_page(session, today: date, **criteria) -> list[int]:
    """The ids the filter selects, read page by page through the cursors; every page's total
    is the number of ids read in the end."""
    ids: list[int] = []
    totals: set[int] = set()
    after = None
    while True:
        page = await subcontractors.list_subcontractors(
            session, today=today, first=PAGE, after_id=after, filter=SubcontractorFilter(**criteria))
        ids += [row.id for row in page.items]
        totals.add(page.total)
        if not page.has_next:
            break
        after = page.items[-1].id
    assert ids == sorted(set(ids))
    assert totals == {len(ids)}
    return ids


async def _flagged(session, today: date) -> dict[str, set[int]]:
    """The subcontractors each subcontractor finding names (a contract's by its subcontractor)."""
    flagged: dict[str, set[int]] = {}
    for finding in await compliance_findings(session, today=today):
        subject = finding.subject
        sub_id = subject.subcontractor_id if isinstance(subject, Contract) else (
            subject.id if isinstance(subject, Subcontractor) else None)
        if sub_id is not None:
            flagged.setdefault(finding.code, set()).add(sub_id)
    return flagged


async def _assert_filters_agree_with_findings(session, today: date) -> dict[str, set[int]]:
    flagged = await _flagged(session, today)
    expiring = await _every_page(session, today, contract_expiring_within_days=EXPIRY_WARNING_DAYS)
    missing = await _every_page(session, today, assessment=AssessmentState.MISSING)
    overdue = await _every_page(session, today, assessment=AssessmentState.OVERDUE)
    assert set(expiring) == flagged.get("CONTRACT_EXPIRING_SOON", set())
    assert set(missing) == flagged.get("ASSESSMENT_MISSING", set())
    assert set(overdue) == flagged.get("ASSESSMENT_OVERDUE", set())
    either = await _every_page(session, today, assessment=AssessmentState.MISSING_OR_OVERDUE)
    assert sorted(missing + overdue) == either
    everyone = await _every_page(session, today)
    rows = await subcontractors.subcontractors_by_ids(session, everyone)
    re_entrusted = await _every_page(session, today, re_entrusted=True)
    by_business = await _every_page(session, today, re_entrusted=False)
    assert set(re_entrusted) == {sid for sid, row in rows.items() if row.parent_id is not None}
    assert sorted(re_entrusted + by_business) == everyone
    return {"expiring": set(expiring), "missing": set(missing), "overdue": set(overdue),
            "re_entrusted": set(re_entrusted)}


async def test_on_the_demo_the_filters_select_exactly_the_subcontractors_with_the_findings(session, clock):
    await seed_demo(session, clock=clock)
    selected = await _assert_filters_agree_with_findings(session, clock.today())
    assert selected["re_entrusted"]  # the demo re-entrusts, so the comparison is not of two empty sets


async def _generated(session, count: int = 60) -> dict[str, set[int]]:
    """`count` subcontractors whose contracts and assessments sit on every edge the findings
    decide on; what each edge should select, by filter."""
    rng = random.Random(16)
    biz = await factories.business(session)
    expected: dict[str, set[int]] = {"expiring": set(), "missing": set(), "overdue": set()}
    subs = []
    for n in range(count):
        parent = rng.choice(subs[:10]) if subs and n % 4 == 0 else None
        sub = await factories.subcontractor(session, parent_id=parent.id if parent else None)
        subs.append(sub)
        under_contract = n % 6 != 5
        if under_contract:
            status = [ContractStatus.ACTIVE, ContractStatus.SUSPENDED, ContractStatus.DRAFT][n % 3]
            expires_in = rng.choice([-1, 0, 1, 29, 30, 31, 200])
            await factories.contract(session, biz, sub, status=status, effective_from=TODAY - timedelta(days=300),
                                     expires_on=TODAY + timedelta(days=expires_in))
            if status is ContractStatus.ACTIVE and 0 <= expires_in <= EXPIRY_WARNING_DAYS:
                expected["expiring"].add(sub.id)
        latest = await _assessments(session, sub, rng.randrange(6))
        if under_contract and (latest is None or latest.result is AssessmentResult.NOT_ASSESSED):
            expected["missing"].add(sub.id)
        elif under_contract and latest.next_due_on is not None and latest.next_due_on < TODAY:
            expected["overdue"].add(sub.id)
    await session.commit()
    return expected


async def _assessments(session, sub, kind: int):
    """None; one overdue; one due today (not overdue); an overdue one then a later one not due;
    two on one day, the one recorded last overdue; a NOT_ASSESSED one after an adequate one."""
    due = {1: [TODAY - timedelta(days=1)], 2: [TODAY], 3: [TODAY - timedelta(days=1), TODAY + timedelta(days=90)],
           4: [TODAY + timedelta(days=90), TODAY - timedelta(days=3)], 5: [None, None]}.get(kind, [])
    latest = None
    for n, next_due_on in enumerate(due):
        result = AssessmentResult.NOT_ASSESSED if kind == 5 and n == 1 else AssessmentResult.ADEQUATE
        assessed_on = date(2025, 12, 1) if kind == 4 else date(2025, 6, 1) + timedelta(days=30 * n)
        latest = await factories.assessment(session, sub, result=result, assessed_on=assessed_on,
                                            next_due_on=next_due_on)
    return latest


async def test_on_a_generated_registry_the_filters_agree_with_the_findings_across_pages(session):
    expected = await _generated(session)
    selected = await _assert_filters_agree_with_findings(session, TODAY)
    for name in ("expiring", "missing", "overdue"):
        assert selected[name] == expected[name]
        assert len(selected[name]) > PAGE  # several pages each, so the cursors are exercised
    assert selected["re_entrusted"]


async def test_filters_combine_with_each_other_and_with_the_older_ones(session):
    expected = await _generated(session)
    both = await _every_page(session, TODAY, contract_expiring_within_days=30, assessment=AssessmentState.OVERDUE,
                             contract_status=ContractStatus.ACTIVE)
    assert set(both) == expected["expiring"] & expected["overdue"]


async def test_the_expiry_window_counts_from_today_both_ends_included(session):
    biz = await factories.business(session)
    subs = {}
    for days in (-1, 0, 1, 366, 367):
        subs[days] = await factories.subcontractor(session)
        await factories.contract(session, biz, subs[days], expires_on=TODAY + timedelta(days=days))
    await session.commit()
    assert await _every_page(session, TODAY, contract_expiring_within_days=0) == [subs[0].id]
    assert await _every_page(session, TODAY, contract_expiring_within_days=1) == [subs[0].id, subs[1].id]
    assert await _every_page(session, TODAY, contract_expiring_within_days=366) == [
        subs[0].id, subs[1].id, subs[366].id]
    # read on another day, the same registry answers for that day
    later = TODAY + timedelta(days=2)
    assert await _every_page(session, later, contract_expiring_within_days=0) == []
    assert await _every_page(session, later, contract_expiring_within_days=365) == [subs[366].id, subs[367].id]


@pytest.mark.parametrize("days", [-1, 367, 10**12, True])
async def test_an_expiry_window_outside_0_to_366_days_is_invalid_input(session, days):
    with pytest.raises(InvalidInput) as refused:
        await subcontractors.list_subcontractors(
            session, today=TODAY, filter=SubcontractorFilter(contract_expiring_within_days=days))
    assert refused.value.field == "filter.contractExpiringWithinDays"


async def test_an_unknown_assessment_state_is_invalid_input(session):
    with pytest.raises(InvalidInput) as refused:
        await subcontractors.list_subcontractors(session, today=TODAY, filter=SubcontractorFilter(assessment="LATE"))
    assert refused.value.field == "filter.assessment"


async def test_assessments_are_newest_first_bounded_and_read_for_many_subcontractors_at_once(session):
    subs = [await factories.subcontractor(session) for _ in range(3)]
    for n, day in enumerate([date(2025, 1, 1), date(2026, 1, 1), date(2025, 6, 1), date(2026, 1, 1)]):
        await factories.assessment(session, subs[0], assessed_on=day, note=f"#{n}")
    await factories.assessment(session, subs[1], assessed_on=date(2024, 1, 1), note="only")
    await session.commit()
    found = await subcontractors.assessments_of(session, [s.id for s in subs], first=3)
    # the same day: the one recorded last is the latest, as management_systems reads it
    assert [a.note for a in found[subs[0].id]] == ["#3", "#1", "#2"]
    assert [a.note for a in found[subs[1].id]] == ["only"]
    assert found[subs[2].id] == []
    system = (await subcontractors.management_systems(session, [subs[0].id]))[subs[0].id]
    assert found[subs[0].id][0].assessed_on == system.last_assessed_on
    assert (await subcontractors.assessments_of(session, [subs[0].id], first=0)) == {subs[0].id: []}


@pytest.mark.parametrize("first", [-1, 101, True])
async def test_more_than_100_assessments_at_once_is_invalid_input(session, first):
    with pytest.raises(InvalidInput) as refused:
        await subcontractors.assessments_of(session, [1], first=first)
    assert refused.value.field == "first"


async def test_children_are_the_subcontractors_naming_it_as_parent_in_id_order(session):
    root = await factories.subcontractor(session)
    other = await factories.subcontractor(session)
    kids = [await factories.subcontractor(session, parent_id=root.id) for _ in range(3)]
    grandchild = await factories.subcontractor(session, parent_id=kids[0].id)
    await session.commit()
    found = await subcontractors.children_of(session, [root.id, other.id, kids[0].id])
    assert {sid: [row.id for row in rows] for sid, rows in found.items()} == {
        root.id: [k.id for k in kids], other.id: [], kids[0].id: [grandchild.id]}
