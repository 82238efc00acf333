"""The rules that make a provision or an entrustment lawful (issue 13, DESIGN.md "Lawful
provision"): APPI Art. 27(2) opt-out, Art. 28 foreign transfers, Art. 29(1)'s proviso for a
LAW basis; and the valid time of the privacy officer's writes (DESIGN.md "Time")."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from registry import businesses, joint_uses, provisions
from registry.enums import ContractClause, ExclusionReason, ForeignTransferBasis, LegalBasis, Sensitivity, Severity
from registry.errors import Duplicate, InvalidInput, InvalidTransition, OptOutNotPermitted, RegistryErrors
from registry.findings import compliance_findings
from registry.handling import resolve_handlings
from registry.models import AuditEvent, JointUse, Provision
from tests import factories as f

TODAY = date(2026, 11, 25)
ACTOR = "officer"
CONSENT = [str(c) for c in f.REQUIRED_CLAUSES] + [ContractClause.SUB_ENTRUSTMENT_CONSENT]


async def events(session) -> int:
    return len((await session.exec(select(AuditEvent))).all())


async def handling_of(session, customer, party, day=TODAY):
    found = await resolve_handlings(session, customer.id, as_of=day, include_excluded=True)
    return next(h for h in found if type(h.party) is type(party) and h.party.id == party.id)


# --- APPI Art. 28 -------------------------------------------------------------------------------


async def test_a_subcontractor_abroad_without_a_basis_is_excluded_and_so_is_whom_it_re_entrusted(session):
    biz = await f.business(session)
    ps, its = await f.purposes(session, biz), await f.items(session, biz)
    survey = await f.subcontractor(session, name="Survey Co", country="US")
    await f.entrustment(session, await f.contract(session, biz, survey, clauses=CONSENT), [ps["P3"]], [its["email"]])
    panel = await f.subcontractor(session, name="Panel Co", parent_id=survey.id)
    await f.entrustment(session, await f.contract(session, biz, panel), [ps["P3"]], [its["email"]])
    customer = await f.customer(session, biz, [its["name"], its["email"]])
    await session.commit()
    assert (await handling_of(session, customer, survey)).exclusion_reasons == [
        ExclusionReason.FOREIGN_TRANSFER_WITHOUT_BASIS]
    assert (await handling_of(session, customer, panel)).exclusion_reasons == [ExclusionReason.CHAIN_BROKEN]

    survey.foreign_transfer_basis = ForeignTransferBasis.EQUIVALENT_MEASURES
    session.add(survey)
    await session.commit()
    assert not (await handling_of(session, customer, survey)).excluded
    assert not (await handling_of(session, customer, panel)).excluded


async def test_a_party_in_japan_needs_no_basis(session):
    biz = await f.business(session)
    ps, its = await f.purposes(session, biz), await f.items(session, biz)
    bank = await f.recipient(session)
    await f.provision(session, biz, bank, [ps["P5"]], [its["name"]])
    customer = await f.customer(session, biz, [its["name"]])
    await session.commit()
    assert not (await handling_of(session, customer, bank)).excluded


async def test_check_reports_each_party_abroad_without_a_basis_as_critical(session):
    biz = await f.business(session)
    ps, its = await f.purposes(session, biz), await f.items(session, biz)
    sub = await f.subcontractor(session, name="Abroad Co", country="SG")
    await f.assessment(session, sub)
    await f.contract(session, biz, sub)
    ended = await f.subcontractor(session, name="Ended Co", country="SG")
    await f.assessment(session, ended)
    await f.contract(session, biz, ended, expires_on=date(2026, 1, 31))  # expired: it receives nothing any more
    us = await f.recipient(session, name="US Rewards", country="US")
    await f.provision(session, biz, us, [ps["P5"]], [its["name"]])
    de = await f.recipient(session, name="DE Loyalty", country="DE", foreign_transfer_basis="ADEQUATE_COUNTRY")
    await f.provision(session, biz, de, [ps["P5"]], [its["name"]])
    await session.commit()
    found = [x for x in await compliance_findings(session, today=TODAY) if x.code == "FOREIGN_TRANSFER_WITHOUT_BASIS"]
    assert [(x.subject.name, x.severity) for x in found] == [("Abroad Co", Severity.CRITICAL),
                                                            ("US Rewards", Severity.CRITICAL)]


async def test_a_provision_required_by_law_needs_no_art_29_records(session):
    biz = await f.business(session)
    ps, its = await f.purposes(session, biz), await f.items(session, biz)
    bank = await f.recipient(session)
    law = await f.provision(session, biz, bank, [ps["P5"]], [its["name"]], legal_basis=LegalBasis.LAW)
    consent = await f.provision(session, biz, bank, [ps["P5"]], [its["name"]])
    await session.commit()
    unrecorded = [x.subject.id for x in await compliance_findings(session, today=TODAY)
                  if x.code == "PROVISION_WITHOUT_RECORDS"]
    assert unrecorded == [consent.id] and law.id not in unrecorded


# --- APPI Art. 27(2) -------------------------------------------------------------------------------


async def opt_out(session, business_code: str, recipient_id: int, items, **overrides):
    fields = dict(actor=ACTOR, business_code=business_code, recipient_id=recipient_id, purpose_codes=["P5"],
                  data_item_codes=items, legal_basis=LegalBasis.OPT_OUT, today=TODAY)
    return await provisions.create_provision(session, **(fields | overrides))


async def test_an_opt_out_provision_of_special_care_data_without_notice_is_refused_for_both_and_writes_nothing(session):
    biz = await f.business(session)
    await f.purposes(session, biz)
    await f.items(session, biz)
    await businesses.add_data_item(session, actor=ACTOR, business_id=biz.id, code="health", name="Health",
                                   sensitivity=Sensitivity.SPECIAL_CARE)
    us = await f.recipient(session, country="US", foreign_transfer_basis="CONSENT_WITH_INFORMATION")
    await session.commit()
    written = await events(session)
    with pytest.raises(RegistryErrors) as refused:
        await opt_out(session, biz.code, us.id, ["name", "health"])
    assert [(type(p), p.field) for p in refused.value.problems] == [
        (OptOutNotPermitted, "ppcNotifiedOn"), (OptOutNotPermitted, "dataItemCodes")]
    await session.rollback()
    assert await events(session) == written
    assert (await session.exec(select(Provision))).all() == []


async def test_an_opt_out_provision_notified_in_advance_is_written_with_its_date(session):
    biz = await f.business(session)
    await f.purposes(session, biz)
    await f.items(session, biz)
    bank = await f.recipient(session)
    await session.commit()
    code, bank_id = biz.code, bank.id  # the rows expire with the rollback
    with pytest.raises(OptOutNotPermitted):
        await opt_out(session, code, bank_id, ["name"], ppc_notified_on=TODAY + timedelta(days=1))
    await session.rollback()
    row = await opt_out(session, code, bank_id, ["name"], ppc_notified_on=date(2026, 10, 1))
    assert (row.legal_basis, row.ppc_notified_on, row.effective_from) == (LegalBasis.OPT_OUT, date(2026, 10, 1), TODAY)


# --- valid time of the privacy officer's writes ---------------------------------------------------------


async def test_a_provision_ended_today_still_answers_for_today_and_the_past(session):
    biz = await f.business(session)
    ps, its = await f.purposes(session, biz), await f.items(session, biz)
    bank = await f.recipient(session)
    provision = await f.provision(session, biz, bank, [ps["P5"]], [its["name"]])
    customer = await f.customer(session, biz, [its["name"]])
    await session.commit()
    await provisions.end_provision(session, actor=ACTOR, id=provision.id, effective_until=TODAY, today=TODAY)
    assert not (await handling_of(session, customer, bank)).excluded
    tomorrow = await resolve_handlings(session, customer.id, as_of=TODAY + timedelta(days=1), include_excluded=True)
    assert bank.id not in {h.party.id for h in tomorrow if h.provision is not None}
    with pytest.raises(InvalidTransition):
        await provisions.end_provision(session, actor=ACTOR, id=provision.id, effective_until=TODAY, today=TODAY)


async def test_a_retired_purpose_permits_nothing_after_it_and_cannot_be_retired_before_yesterday(session):
    biz = await f.business(session)
    ps, its = await f.purposes(session, biz), await f.items(session, biz)
    customer = await f.customer(session, biz, [its["name"]])
    await session.commit()
    p2, customer_id = ps["P2"].id, customer.id  # the rows expire with the rollback
    with pytest.raises(InvalidInput):
        await businesses.retire_purpose(session, actor=ACTOR, id=p2, retired_on=TODAY - timedelta(days=2),
                                        today=TODAY)
    await session.rollback()
    await businesses.retire_purpose(session, actor=ACTOR, id=p2, retired_on=TODAY, today=TODAY)
    [controller, *_] = await resolve_handlings(session, customer_id, as_of=TODAY + timedelta(days=1))
    assert "P2" not in [p.code for p in controller.purposes]
    [controller, *_] = await resolve_handlings(session, customer_id, as_of=TODAY)
    assert "P2" in [p.code for p in controller.purposes]


async def test_create_purpose_numbers_it_after_the_last_and_keeps_codes_unique(session):
    biz = await f.business(session)
    await f.purposes(session, biz)
    await session.commit()
    purpose = await businesses.create_purpose(session, actor=ACTOR, business_code=biz.code, code="P6",
                                              title="Coupons", today=TODAY, title_ja="クーポン")
    assert (purpose.ordinal, purpose.effective_from, purpose.title_ja) == (6, TODAY, "クーポン")
    with pytest.raises(Duplicate):
        await businesses.create_purpose(session, actor=ACTOR, business_code=biz.code, code="P6", title="Again",
                                        today=TODAY)


async def test_a_joint_use_names_its_own_business_purposes_and_items_and_ends_keeping_the_row(session):
    biz = await f.business(session)
    await f.purposes(session, biz)
    await f.items(session, biz)
    other = await f.business(session)
    await f.purposes(session, other)
    await session.commit()
    joint = await joint_uses.create_joint_use(
        session, actor=ACTOR, business_code=biz.code, users="Group companies", responsible="Operator",
        purpose_codes=["P1"], data_item_codes=["name"], today=TODAY)
    assert [j.id for j in (await joint_uses.joint_uses_of(session, [biz.id], not_ended_on=TODAY))[biz.id]] == [
        joint.id]
    await joint_uses.end_joint_use(session, actor=ACTOR, id=joint.id, effective_until=TODAY - timedelta(days=1),
                                   today=TODAY)
    assert (await joint_uses.joint_uses_of(session, [biz.id], not_ended_on=TODAY))[biz.id] == []
    assert (await session.get(JointUse, joint.id)).effective_until == TODAY - timedelta(days=1)
    purposes, items = await joint_uses.joint_use_links(session, [joint.id])
    assert ([p.code for p in purposes[joint.id]], [i.code for i in items[joint.id]]) == (["P1"], ["name"])
