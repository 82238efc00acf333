import json
from datetime import date

import pytest
from sqlmodel import func, select

from registry import contracts
from registry.contract_status import effective_status
from registry.contracts import ALLOWED_TRANSITIONS, REQUIRED_CLAUSES
from registry.enums import AssessmentResult, ContractClause, ContractStatus
from registry.lookup import records_by_ids, rows_by_ids
from registry.errors import (
    Duplicate,
    InvalidInput,
    InvalidTransition,
    ManagementSystemInadequate,
    MissingContractClauses,
    NotFound,
    PurposeOutOfScope,
    RegistryErrors,
    SubEntrustmentNotPermitted,
    VersionConflict,
)
from registry.models import (
    AuditEvent,
    Contract,
    DataItem,
    Entrustment,
    EntrustmentDataItem,
    EntrustmentPurpose,
    Purpose,
)
from tests import factories

ACTOR = "vendor-manager"
TODAY = date(2026, 11, 25)
S = ContractStatus
ALL_CLAUSES = [str(c) for c in REQUIRED_CLAUSES]


async def counts(session, *models):
    return [(await session.exec(select(func.count()).select_from(m))).one() for m in models]


async def events(session, action):
    return list((await session.exec(select(AuditEvent).where(AuditEvent.action == action))).all())


async def stored(session, contract_id):
    return await session.get(Contract, contract_id, populate_existing=True)


async def _setup(session, *, result=AssessmentResult.ADEQUATE, **contract_fields):
    """A business, an assessed subcontractor and one of its contracts, committed."""
    biz = await factories.business(session)
    sub = await factories.subcontractor(session)
    if result is not None:
        await factories.assessment(session, sub, result=result)
    con = await factories.contract(session, biz, sub, **({"status": S.UNDER_REVIEW} | contract_fields))
    await session.commit()
    return biz, sub, con


async def _create(session, biz, sub, **overrides):
    fields = dict(
        actor=ACTOR,
        subcontractor_id=sub.id,
        business_code=biz.code,
        reference="PAY-2026",
        effective_from=date(2026, 12, 1),
        expires_on=date(2027, 11, 30),
        clauses=ALL_CLAUSES,
    )
    return await contracts.create_contract(session, **(fields | overrides))


async def _transition(session, con, to, *, expected_version=None, today=TODAY):
    version = con.version if expected_version is None else expected_version
    return await contracts.transition_contract(
        session, actor=ACTOR, id=con.id, expected_version=version, to=to, today=today
    )


# --- create ---------------------------------------------------------------------------


async def test_a_new_contract_is_a_draft_at_version_1_with_one_audit_event(session):
    biz, sub = await factories.business(session), await factories.subcontractor(session)
    await session.commit()
    con = await _create(session, biz, sub, clauses=["CONFIDENTIALITY", "CONFIDENTIALITY"])
    assert (con.status, con.version, con.clauses) == (S.DRAFT, 1, ["CONFIDENTIALITY"])
    [event] = await events(session, "contract.create")
    assert (event.entity_type, event.entity_id) == ("Contract", con.id)
    assert json.loads(event.after)["status"] == "DRAFT"


@pytest.mark.parametrize(
    "error, field, overrides",
    [
        (InvalidInput, "expiresOn", {"expires_on": date(2026, 11, 30)}),
        (InvalidInput, "reference", {"reference": " "}),
        (InvalidInput, "reference", {"reference": "R" * 101}),
        (InvalidInput, "clauses", {"clauses": ["NON_COMPETE"]}),
        (NotFound, "subcontractorId", {"subcontractor_id": 404}),
        (NotFound, "businessCode", {"business_code": "nope"}),
    ],
)
async def test_a_malformed_contract_is_refused_with_the_field_and_nothing_is_written(
    session, error, field, overrides
):
    biz, sub = await factories.business(session), await factories.subcontractor(session)
    await session.commit()
    with pytest.raises(error) as raised:
        await _create(session, biz, sub, **overrides)
    assert raised.value.field == field
    assert await counts(session, Contract, AuditEvent) == [0, 0]


async def test_a_contract_reference_is_unique_within_its_business(session):
    biz, other = await factories.business(session), await factories.business(session)
    sub = await factories.subcontractor(session)
    await session.commit()
    await _create(session, biz, sub)
    with pytest.raises(Duplicate) as raised:
        await _create(session, biz, sub)
    assert raised.value.field == "reference"
    assert await counts(session, Contract, AuditEvent) == [1, 1]
    await _create(session, other, sub)  # the same reference in another business is another contract
    assert await counts(session, Contract) == [2]


# --- lifecycle --------------------------------------------------------------------------

ALLOWED = [
    (S.DRAFT, S.UNDER_REVIEW),
    (S.UNDER_REVIEW, S.ACTIVE),
    (S.ACTIVE, S.SUSPENDED),
    (S.SUSPENDED, S.ACTIVE),
    (S.ACTIVE, S.TERMINATED),
    (S.SUSPENDED, S.TERMINATED),
    (S.DRAFT, S.TERMINATED),
    (S.UNDER_REVIEW, S.TERMINATED),
]
STORED = [S.DRAFT, S.UNDER_REVIEW, S.ACTIVE, S.SUSPENDED, S.TERMINATED]
REFUSED = [(a, b) for a in STORED for b in S if (a, b) not in ALLOWED]


def test_the_transition_graph_is_the_one_of_the_design():
    assert {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets} == set(ALLOWED)


@pytest.mark.parametrize("start, to", ALLOWED)
async def test_an_allowed_transition_bumps_the_version_by_one_with_one_audit_event(session, start, to):
    _, _, con = await _setup(session, status=start, version=4)
    moved = await contracts.transition_contract(
        session, actor=ACTOR, id=con.id, expected_version=4, to=to, today=TODAY, reason="annual review"
    )
    assert (moved.status, moved.version) == (to, 5)
    [event] = await events(session, "contract.transition")
    assert json.loads(event.before)["status"] == start and json.loads(event.after)["status"] == to
    assert json.loads(event.after)["reason"] == "annual review"


@pytest.mark.parametrize("start, to", REFUSED)
async def test_any_other_transition_is_invalid_and_writes_nothing(session, start, to):
    _, _, con = await _setup(session, status=start)
    with pytest.raises(InvalidTransition) as raised:
        await _transition(session, con, to)
    assert raised.value.field == "to"
    assert ((await stored(session, con.id)).status, await counts(session, AuditEvent)) == (start, [0])


async def test_transitions_start_from_the_stored_status_even_when_it_reads_expired(session):
    _, _, con = await _setup(session, status=S.ACTIVE, expires_on=date(2026, 11, 1))
    assert effective_status(con, TODAY) is S.EXPIRED
    assert (await _transition(session, con, S.SUSPENDED)).status is S.SUSPENDED


async def test_a_contract_reads_expired_only_after_its_expiry_date():
    con = Contract(status=S.SUSPENDED, expires_on=TODAY, effective_from=date(2026, 1, 1))
    assert effective_status(con, TODAY) is S.SUSPENDED
    assert effective_status(con, date(2026, 11, 26)) is S.EXPIRED


async def test_an_expired_contract_cannot_be_activated(session):
    _, _, con = await _setup(session, expires_on=date(2026, 11, 24))
    with pytest.raises(InvalidTransition) as raised:
        await _transition(session, con, S.ACTIVE)
    assert raised.value.field == "to" and "expired on 2026-11-24" in raised.value.message
    assert (await stored(session, con.id)).status is S.UNDER_REVIEW


async def test_a_stale_version_conflicts_whatever_else_is_wrong(session):
    _, _, con = await _setup(session, result=None, clauses=[], version=2)
    with pytest.raises(VersionConflict) as raised:
        await _transition(session, con, S.ACTIVE, expected_version=1)
    assert raised.value.field == "expectedVersion"
    with pytest.raises(VersionConflict):
        await _transition(session, con, S.EXPIRED, expected_version=1)
    assert await counts(session, AuditEvent) == [0]


async def test_transitioning_an_unknown_contract_is_not_found(session):
    with pytest.raises(NotFound) as raised:
        await contracts.transition_contract(
            session, actor=ACTOR, id=404, expected_version=1, to=S.ACTIVE, today=TODAY
        )
    assert raised.value.field == "id"


# --- activation rules ---------------------------------------------------------------------


@pytest.mark.parametrize("result", [None, AssessmentResult.INADEQUATE])
async def test_activation_needs_an_adequate_management_system(session, result):
    _, _, con = await _setup(session, result=result)
    with pytest.raises(ManagementSystemInadequate) as raised:
        await _transition(session, con, S.ACTIVE)
    assert raised.value.field == "to"
    assert ((await stored(session, con.id)).status, await counts(session, AuditEvent)) == (
        S.UNDER_REVIEW,
        [0],
    )


async def test_a_conditional_assessment_is_enough_to_activate(session):
    _, _, con = await _setup(session, result=AssessmentResult.CONDITIONAL)
    assert (await _transition(session, con, S.ACTIVE)).status is S.ACTIVE


async def test_only_the_latest_assessment_counts_for_activation(session):
    _, sub, con = await _setup(session, result=AssessmentResult.ADEQUATE)
    await factories.assessment(
        session, sub, result=AssessmentResult.INADEQUATE, assessed_on=date(2026, 10, 1)
    )
    await session.commit()
    with pytest.raises(ManagementSystemInadequate) as raised:
        await _transition(session, con, S.ACTIVE)
    assert raised.value.field == "to"


async def test_resuming_a_suspended_contract_applies_the_activation_rules(session):
    _, _, con = await _setup(session, status=S.SUSPENDED, result=AssessmentResult.INADEQUATE)
    with pytest.raises(ManagementSystemInadequate) as raised:
        await _transition(session, con, S.ACTIVE)
    assert raised.value.field == "to"


async def test_activation_needs_the_five_required_clauses_and_names_the_missing_ones(session):
    clauses = ["CONFIDENTIALITY", "PURPOSE_LIMITATION", "SECURITY_MEASURES", "AUDIT_RIGHTS"]
    _, _, con = await _setup(session, clauses=clauses)
    with pytest.raises(MissingContractClauses) as raised:
        await _transition(session, con, S.ACTIVE)
    assert raised.value.field == "to"
    assert "BREACH_NOTIFICATION" in raised.value.message and "RETURN_OR_DELETION" in raised.value.message
    assert "CONFIDENTIALITY" not in raised.value.message
    assert (await stored(session, con.id)).status is S.UNDER_REVIEW


async def _child_contract(session, **parent_contract):
    """A business, a parent subcontractor (maybe with a contract) and its child's contract under review."""
    biz = await factories.business(session)
    parent = await factories.subcontractor(session)
    child = await factories.subcontractor(session, parent_id=parent.id)
    await factories.assessment(session, child)
    if parent_contract:
        await factories.contract(session, parent_contract.pop("business", biz), parent, **parent_contract)
    con = await factories.contract(session, biz, child, status=S.UNDER_REVIEW)
    await session.commit()
    return con


CONSENTING = ALL_CLAUSES + [ContractClause.SUB_ENTRUSTMENT_CONSENT]


async def test_a_re_entrusted_subcontractor_activates_when_its_parent_consents(session):
    con = await _child_contract(session, status=S.ACTIVE, clauses=CONSENTING)
    assert (await _transition(session, con, S.ACTIVE)).status is S.ACTIVE


@pytest.mark.parametrize(
    "parent_contract",
    [
        {},
        {"status": S.ACTIVE},  # no consent clause
        {"status": S.SUSPENDED, "clauses": CONSENTING},
        {"status": S.ACTIVE, "clauses": CONSENTING, "expires_on": date(2026, 11, 24)},  # reads EXPIRED
    ],
    ids=["no-contract", "no-consent", "suspended", "expired"],
)
async def test_a_re_entrustment_without_the_parents_active_consent_is_not_permitted(session, parent_contract):
    con = await _child_contract(session, **parent_contract)
    with pytest.raises(SubEntrustmentNotPermitted) as raised:
        await _transition(session, con, S.ACTIVE)
    assert raised.value.field == "to"
    assert ((await stored(session, con.id)).status, await counts(session, AuditEvent)) == (
        S.UNDER_REVIEW,
        [0],
    )


async def test_the_parents_consent_must_come_from_a_contract_with_the_same_business(session):
    other = await factories.business(session)
    con = await _child_contract(session, business=other, status=S.ACTIVE, clauses=CONSENTING)
    with pytest.raises(SubEntrustmentNotPermitted) as raised:
        await _transition(session, con, S.ACTIVE)
    assert raised.value.field == "to"


async def test_activation_reports_every_failing_rule_at_once(session):
    biz = await factories.business(session)
    parent = await factories.subcontractor(session)
    child = await factories.subcontractor(session, parent_id=parent.id)
    con = await factories.contract(session, biz, child, status=S.UNDER_REVIEW, clauses=[])
    await session.commit()
    with pytest.raises(RegistryErrors) as raised:
        await _transition(session, con, S.ACTIVE)
    assert [type(p) for p in raised.value.problems] == [
        ManagementSystemInadequate,
        MissingContractClauses,
        SubEntrustmentNotPermitted,
    ]
    assert await counts(session, AuditEvent) == [0]


# --- entrustments -------------------------------------------------------------------------


async def _add(session, con, purposes=("P1", "P4"), items=("name", "email"), **overrides):
    return await contracts.add_entrustment(
        session,
        actor=ACTOR,
        contract_id=con.id,
        purpose_codes=list(purposes),
        data_item_codes=list(items),
        description="Support desk",
        today=TODAY,
        **overrides,
    )


async def test_adding_an_entrustment_bumps_the_contracts_version_and_is_audited(session):
    _, _, con = await _setup(session)
    ent = await _add(session, con)
    purposes, items = await contracts.entrustment_links(session, [ent.id])
    assert [p.code for p in purposes[ent.id]] == ["P1", "P4"] and [i.code for i in items[ent.id]] == [
        "name",
        "email",
    ]
    assert (await stored(session, con.id)).version == 2
    assert (ent.effective_from, ent.effective_until) == (TODAY, None)  # from today: the contract began before
    [event] = await events(session, "entrustment.add")
    assert (event.entity_type, event.entity_id) == ("Entrustment", ent.id)
    after = json.loads(event.after)
    assert (after["purpose_codes"], after["data_item_codes"]) == (["P1", "P4"], ["name", "email"])


@pytest.mark.parametrize(
    "error, field, codes",
    [
        (InvalidInput, "purposeCodes", {"purposes": ()}),
        (InvalidInput, "dataItemCodes", {"items": ()}),
        (NotFound, "purposeCodes", {"purposes": ("P1", "P42")}),
        (NotFound, "dataItemCodes", {"items": ("shoe_size",)}),
    ],
)
async def test_an_entrustment_needs_known_purposes_and_items(session, error, field, codes):
    _, _, con = await _setup(session)
    with pytest.raises(error) as raised:
        await _add(session, con, **codes)
    assert raised.value.field == field
    assert await counts(session, Entrustment, EntrustmentPurpose, EntrustmentDataItem, AuditEvent) == [
        0,
        0,
        0,
        0,
    ]
    assert (await stored(session, con.id)).version == 1


async def test_an_entrustment_may_not_name_another_business_purposes_or_items(session):
    _, _, con = await _setup(session)
    other = await factories.business(session)
    session.add(Purpose(business_id=other.id, code="P9", ordinal=9, title="Other business's purpose",
                        effective_from=factories.SINCE))
    session.add(DataItem(business_id=other.id, code="loyalty_id", name="Loyalty ID"))
    await session.commit()
    for codes, field in [
        ({"purposes": ("P1", "P9")}, "purposeCodes"),
        ({"items": ("loyalty_id",)}, "dataItemCodes"),
    ]:
        with pytest.raises(PurposeOutOfScope) as raised:
            await _add(session, con, **codes)
        assert raised.value.field == field
    assert await counts(session, Entrustment, AuditEvent) == [0, 0]


async def test_an_entrustment_reports_bad_purposes_and_bad_items_together(session):
    _, _, con = await _setup(session)
    with pytest.raises(RegistryErrors) as raised:
        await _add(session, con, purposes=("P42",), items=())
    assert [p.field for p in raised.value.problems] == ["purposeCodes", "dataItemCodes"]


async def test_an_entrustment_under_an_unknown_contract_is_not_found(session):
    with pytest.raises(NotFound) as raised:
        await contracts.add_entrustment(
            session, actor=ACTOR, contract_id=404, purpose_codes=["P1"], data_item_codes=["name"], today=TODAY
        )
    assert raised.value.field == "contractId"


async def test_an_entrustment_starts_with_the_contract_when_it_begins_later(session):
    _, _, con = await _setup(session, effective_from=date(2026, 12, 1))
    assert (await _add(session, con)).effective_from == date(2026, 12, 1)


@pytest.mark.parametrize("effective_from", [date(2025, 12, 31), date(2028, 1, 1)])
async def test_an_entrustment_outside_the_contracts_term_is_invalid_input(session, effective_from):
    _, _, con = await _setup(session)  # 2026-01-01..2027-12-31
    with pytest.raises(InvalidInput) as raised:
        await _add(session, con, effective_from=effective_from)
    assert raised.value.field == "effectiveFrom"
    assert await counts(session, Entrustment, AuditEvent) == [0, 0]


async def test_removing_an_entrustment_closes_its_period_keeps_the_row_bumps_the_version_and_is_audited(session):
    _, _, con = await _setup(session)
    ent = await _add(session, con, effective_from=date(2026, 6, 1))
    removed = await contracts.remove_entrustment(session, actor=ACTOR, id=ent.id, today=TODAY)
    assert (removed.id, removed.description, removed.effective_until) == (ent.id, "Support desk", date(2026, 11, 24))
    assert await counts(session, Entrustment, EntrustmentPurpose, EntrustmentDataItem) == [1, 2, 2]
    assert (await stored(session, con.id)).version == 3
    [held] = (await contracts.entrustments_of(session, [con.id], as_of=date(2026, 11, 24)))[con.id]
    assert (held.id, held.effective_until) == (removed.id, date(2026, 11, 24))
    assert (await contracts.entrustments_of(session, [con.id], as_of=TODAY))[con.id] == []
    [event] = await events(session, "entrustment.remove")
    assert (event.entity_type, event.entity_id) == ("Entrustment", ent.id)
    assert json.loads(event.before)["purpose_codes"] == ["P1", "P4"]
    assert (json.loads(event.before)["effective_until"], json.loads(event.after)["effective_until"]) == (
        None, "2026-11-24")


async def test_an_entrustment_ends_once_and_never_before_it_began(session):
    _, _, con = await _setup(session)
    ent = await _add(session, con, effective_from=date(2026, 6, 1))
    with pytest.raises(InvalidInput) as raised:
        await contracts.remove_entrustment(session, actor=ACTOR, id=ent.id, today=TODAY,
                                           effective_on=date(2026, 5, 31))
    assert raised.value.field == "effectiveOn"
    await contracts.remove_entrustment(session, actor=ACTOR, id=ent.id, today=TODAY, effective_on=date(2026, 9, 1))
    with pytest.raises(InvalidTransition) as raised:
        await contracts.remove_entrustment(session, actor=ACTOR, id=ent.id, today=TODAY)
    assert raised.value.field == "id"
    assert (await contracts.get_entrustment(session, ent.id)).effective_until == date(2026, 8, 31)
    assert (await stored(session, con.id)).version == 3
    assert len(await events(session, "entrustment.remove")) == 1


async def test_removing_an_unknown_entrustment_is_not_found(session):
    with pytest.raises(NotFound) as raised:
        await contracts.remove_entrustment(session, actor=ACTOR, id=404, today=TODAY)
    assert raised.value.field == "id"
    assert await counts(session, AuditEvent) == [0]


# --- reads --------------------------------------------------------------------------------


async def test_a_subcontractors_contracts_and_a_contracts_entrustments_are_read_in_batches(session):
    _, sub, con = await _setup(session)
    ent = await _add(session, con)
    assert [c.id for c in (await contracts.contracts_of_subcontractors(session, [sub.id, 404]))[sub.id]] == [
        con.id
    ]
    found = await contracts.entrustments_of(session, [con.id, 404])
    assert {key: [e.id for e in rows] for key, rows in found.items()} == {con.id: [ent.id], 404: []}
    assert (await rows_by_ids(session, Contract, [con.id, 404])) == {con.id: con}
    records = await records_by_ids(session, Contract, [con.id, 404])  # as the DataLoader reads
    assert {key: (row.id, row.reference, row.clauses) for key, row in records.items()} == {
        con.id: (con.id, con.reference, con.clauses)}
    assert (await contracts.get_entrustment(session, ent.id)).contract_id == con.id
