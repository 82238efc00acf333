from datetime import date

import pytest
import sqlalchemy as sa

from registry.enums import AssessmentResult, ContractClause, ContractStatus, RequestKind, RequestStatus, Severity
from registry.errors import NotFound
from registry.findings import compliance_findings
from registry.notice_versions import publish
from registry.models import ProvisionRecord
from tests import factories as f

TODAY = date(2026, 11, 25)
CONSENT = [str(c) for c in f.REQUIRED_CLAUSES] + [ContractClause.SUB_ENTRUSTMENT_CONSENT]


async def findings(session, code=None, business_code=None):
    await session.commit()
    found = await compliance_findings(session, today=TODAY, business_code=business_code)
    return [x for x in found if code is None or x.code == code]


async def assessed_contract(session, biz, **contract_overrides):
    sub = await f.subcontractor(session, name="Acme")
    await f.assessment(session, sub)
    return sub, await f.contract(session, biz, sub, **contract_overrides)


async def test_a_compliant_registry_has_no_findings(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    _, contract = await assessed_contract(session, biz)
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    await f.request(session, cust, RequestKind.DISCLOSURE, due_on=date(2026, 12, 1))
    await publish(session, actor="test", business_code=biz.code, today=TODAY)
    assert await findings(session) == []


async def test_a_notice_never_published_or_no_longer_current_is_reported(session):
    biz = await f.business(session)
    await f.purposes(session, biz)
    [never] = await findings(session)
    assert (never.code, never.severity, never.subject.id) == ("NOTICE_NOT_PUBLISHED", Severity.INFO, biz.id)
    await publish(session, actor="test", business_code=biz.code, today=TODAY)
    assert await findings(session) == []
    biz.name = "Renamed"  # the title of the notice, in both languages
    session.add(biz)
    [stale] = await findings(session)
    assert (stale.code, stale.severity) == ("NOTICE_OUTDATED", Severity.WARNING)
    assert f"(version 1 of {TODAY}) no longer states the registry (en, ja)" in stale.message
    await publish(session, actor="test", business_code=biz.code, today=TODAY)
    assert await findings(session) == []


async def test_active_contract_expiring_within_30_days_is_reported(session):
    biz = await f.business(session)
    _, soon = await assessed_contract(session, biz, reference="C-12", expires_on=date(2026, 12, 10))
    await assessed_contract(session, biz, expires_on=date(2026, 12, 26))  # 31 days: not yet
    await assessed_contract(session, biz, expires_on=date(2026, 12, 10), status=ContractStatus.TERMINATED)
    [finding] = await findings(session, "CONTRACT_EXPIRING_SOON")
    assert finding.subject.id == soon.id and finding.severity == Severity.WARNING
    assert finding.message == ("Contract C-12 with Acme expires on 2026-12-10 (15 days): renew it or plan "
                               "the return or deletion of the entrusted data.")


async def test_expired_contract_still_carrying_entrustments_is_reported(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    _, carrying = await assessed_contract(session, biz, expires_on=date(2026, 11, 24))
    await f.entrustment(session, carrying, [purposes["P1"]], [items["name"]])
    await assessed_contract(session, biz, expires_on=date(2026, 11, 24))  # expired, nothing entrusted
    _, current = await assessed_contract(session, biz)
    await f.entrustment(session, current, [purposes["P1"]], [items["name"]])
    [finding] = await findings(session, "CONTRACT_EXPIRED_WITH_ENTRUSTMENTS")
    assert finding.subject.id == carrying.id and finding.severity == Severity.WARNING
    assert "1 entrustment(s)" in finding.message and "returned or deleted" in finding.message


async def test_a_terminated_contract_still_carrying_entrustments_without_a_data_return_is_reported(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    _, terminated = await assessed_contract(session, biz, reference="PRN-1", status=ContractStatus.TERMINATED)
    await f.entrustment(session, terminated, [purposes["P5"]], [items["name"]])
    _, returned = await assessed_contract(session, biz, status=ContractStatus.TERMINATED,
                                          data_returned_on=date(2026, 11, 1))
    await f.entrustment(session, returned, [purposes["P5"]], [items["name"]])
    [finding] = await findings(session, "CONTRACT_EXPIRED_WITH_ENTRUSTMENTS")
    assert finding.subject.id == terminated.id
    assert "PRN-1" in finding.message and "was terminated" in finding.message


async def test_an_ended_contract_whose_entrustments_were_removed_carries_none(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    _, expired = await assessed_contract(session, biz, expires_on=date(2026, 11, 24))
    await f.entrustment(session, expired, [purposes["P1"]], [items["name"]], effective_until=date(2026, 11, 24))
    assert await findings(session, "CONTRACT_EXPIRED_WITH_ENTRUSTMENTS") == []


async def test_inadequate_latest_assessment_with_an_active_contract_is_critical(session):
    biz = await f.business(session)
    sub = await f.subcontractor(session, name="Leaky")
    await f.assessment(session, sub, assessed_on=date(2026, 1, 1))
    await f.assessment(session, sub, result=AssessmentResult.INADEQUATE, assessed_on=date(2026, 3, 1))
    await f.contract(session, biz, sub)
    [finding] = await findings(session, "ASSESSMENT_INADEQUATE")
    assert finding.subject.id == sub.id and finding.severity == Severity.CRITICAL
    assert "Leaky" in finding.message and "reassessed" in finding.message


async def test_inadequate_assessment_superseded_or_without_active_contract_is_not_reported(session):
    biz = await f.business(session)
    remedied = await f.subcontractor(session)
    await f.assessment(session, remedied, result=AssessmentResult.INADEQUATE, assessed_on=date(2026, 1, 1))
    await f.assessment(session, remedied, result=AssessmentResult.ADEQUATE, assessed_on=date(2026, 3, 1))
    await f.contract(session, biz, remedied)
    suspended = await f.subcontractor(session)
    await f.assessment(session, suspended, result=AssessmentResult.INADEQUATE)
    await f.contract(session, biz, suspended, status=ContractStatus.SUSPENDED)
    assert await findings(session, "ASSESSMENT_INADEQUATE") == []


async def test_subcontractor_under_contract_without_assessment_is_reported(session):
    biz = await f.business(session)
    unassessed = await f.subcontractor(session, name="New Co")
    await f.contract(session, biz, unassessed, status=ContractStatus.DRAFT)
    await assessed_contract(session, biz)
    await f.subcontractor(session)  # no contract: none of the business's concern
    [finding] = await findings(session, "ASSESSMENT_MISSING")
    assert finding.subject.id == unassessed.id and finding.severity == Severity.WARNING


async def test_assessment_past_its_next_due_date_is_overdue(session):
    biz = await f.business(session)
    late = await f.subcontractor(session, name="Late Co")
    await f.assessment(session, late, assessed_on=date(2025, 1, 1), next_due_on=date(2026, 1, 1))
    await f.contract(session, biz, late, status=ContractStatus.TERMINATED)
    on_time = await f.subcontractor(session)
    await f.assessment(session, on_time, next_due_on=TODAY)
    await f.contract(session, biz, on_time)
    [finding] = await findings(session, "ASSESSMENT_OVERDUE")
    assert finding.subject.id == late.id and "2026-01-01" in finding.message


async def test_entrustment_naming_another_businesss_purpose_or_item_is_critical(session):
    biz, other = await f.business(session), await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    foreign_purposes, foreign_items = await f.purposes(session, other), await f.items(session, other)
    _, contract = await assessed_contract(session, biz)
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    await f.entrustment(session, contract, [foreign_purposes["P2"]], [foreign_items["email"]])
    [finding] = await findings(session, "ENTRUSTMENT_OUTSIDE_PURPOSES")
    assert finding.subject.id == contract.id and finding.severity == Severity.CRITICAL
    assert "P2" in finding.message and "email" in finding.message


async def test_active_re_entrusted_contract_without_parents_consent_is_critical(session):
    biz = await f.business(session)
    parent, _ = await assessed_contract(session, biz)  # no SUB_ENTRUSTMENT_CONSENT
    child = await f.subcontractor(session, name="Panel Co", parent_id=parent.id)
    await f.assessment(session, child)
    contract = await f.contract(session, biz, child)
    [finding] = await findings(session, "SUB_ENTRUSTMENT_WITHOUT_CONSENT")
    assert finding.subject.id == contract.id and finding.severity == Severity.CRITICAL
    assert "Panel Co" in finding.message and "Acme" in finding.message


async def test_re_entrustment_with_parents_active_consent_is_not_reported(session):
    biz = await f.business(session)
    parent, _ = await assessed_contract(session, biz, clauses=CONSENT)
    child = await f.subcontractor(session, parent_id=parent.id)
    await f.assessment(session, child)
    await f.contract(session, biz, child)
    assert await findings(session, "SUB_ENTRUSTMENT_WITHOUT_CONSENT") == []


async def test_consent_in_an_expired_parent_contract_does_not_count(session):
    biz = await f.business(session)
    parent, _ = await assessed_contract(session, biz, clauses=CONSENT, expires_on=date(2026, 11, 1))
    child = await f.subcontractor(session, parent_id=parent.id)
    await f.assessment(session, child)
    await f.contract(session, biz, child)
    assert len(await findings(session, "SUB_ENTRUSTMENT_WITHOUT_CONSENT")) == 1


async def test_open_request_past_its_due_date_is_critical(session):
    biz = await f.business(session)
    cust = await f.customer(session, biz, [], external_ref="CUST-9")
    late = await f.request(session, cust, RequestKind.DELETION, status=RequestStatus.IN_PROGRESS,
                           due_on=date(2026, 11, 20))
    await f.request(session, cust, RequestKind.STOP_USE, due_on=TODAY)  # due today: not yet overdue
    await f.request(session, cust, RequestKind.DISCLOSURE, due_on=date(2026, 11, 1),
                    status=RequestStatus.COMPLETED, resolved_on=date(2026, 11, 2))
    [finding] = await findings(session, "REQUEST_OVERDUE")
    assert finding.subject.id == late.id and finding.severity == Severity.CRITICAL
    assert "CUST-9" in finding.message and "5 days overdue" in finding.message


async def test_active_provision_without_records_is_reported(session):
    biz = await f.business(session)
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    recipient = await f.recipient(session)
    unrecorded = await f.provision(session, biz, recipient, [purposes["P5"]], [items["name"]])
    recorded = await f.provision(session, biz, recipient, [purposes["P5"]], [items["name"]])
    await f.provision(session, biz, recipient, [purposes["P5"]], [items["name"]], active=False)
    cust = await f.customer(session, biz, [items["name"]])
    session.add(ProvisionRecord(provision_id=recorded.id, customer_id=cust.id,
                                provided_on=date(2026, 11, 1), retain_until=date(2029, 11, 1)))
    [finding] = await findings(session, "PROVISION_WITHOUT_RECORDS")
    assert finding.subject.id == unrecorded.id and "Art. 29" in finding.message


async def test_findings_are_sorted_by_severity_then_code_and_scoped_by_business(session):
    biz, other = await f.business(session), await f.business(session)
    await f.contract(session, biz, await f.subcontractor(session), expires_on=date(2026, 12, 1))
    cust = await f.customer(session, biz, [])
    await f.request(session, cust, RequestKind.DELETION, due_on=date(2026, 11, 1))
    await f.contract(session, other, await f.subcontractor(session))
    everything = await findings(session)
    assert [x.code for x in everything] == [
        "REQUEST_OVERDUE", "ASSESSMENT_MISSING", "ASSESSMENT_MISSING", "CONTRACT_EXPIRING_SOON",
        "NOTICE_NOT_PUBLISHED", "NOTICE_NOT_PUBLISHED",
    ]
    assert [x.code for x in await findings(session, business_code=other.code)] == [
        "ASSESSMENT_MISSING", "NOTICE_NOT_PUBLISHED"]


async def test_unknown_business_is_not_found(session):
    with pytest.raises(NotFound) as err:
        await compliance_findings(session, today=TODAY, business_code="nope")
    assert err.value.field == "businessCode"


async def test_number_of_queries_does_not_grow_with_contracts(db, session):
    biz = await f.business(session)
    statements = []

    def count(*_args):
        statements.append(1)

    async def queries():
        await session.commit()
        statements.clear()
        sa.event.listen(db.writer.sync_engine, "before_cursor_execute", count)
        try:
            await compliance_findings(session, today=TODAY)
        finally:
            sa.event.remove(db.writer.sync_engine, "before_cursor_execute", count)
        return len(statements)

    await f.contract(session, biz, await f.subcontractor(session))
    one = await queries()
    for _ in range(9):
        await f.contract(session, biz, await f.subcontractor(session), expires_on=date(2026, 12, 1))
    assert await queries() == one
