"""The vendor writes that once took no expectedVersion (recording an assessment, adding and
ending an entrustment) take it optionally: a stale one is VERSION_CONFLICT and nothing is
written, the current one writes, and none keeps the old behaviour for existing clients."""

from datetime import date

import pytest
from sqlmodel import func, select

from registry import contracts, subcontractors
from registry.enums import AssessmentResult, ContractStatus
from registry.errors import VersionConflict
from registry.models import Assessment, Contract, Entrustment, Subcontractor
from tests import factories

ACTOR = "vendor-manager"
TODAY = date(2026, 11, 25)


async def _contract(session):
    biz = await factories.business(session)
    sub = await factories.subcontractor(session)
    await factories.assessment(session, sub, result=AssessmentResult.ADEQUATE)
    con = await factories.contract(session, biz, sub, status=ContractStatus.UNDER_REVIEW)
    await session.commit()
    return sub.id, con.id  # plain ids: a rollback expires the rows


async def _count(session, model) -> int:
    return (await session.exec(select(func.count()).select_from(model))).one()


async def _add(session, con_id, purpose_codes=("P1",), **overrides):
    return await contracts.add_entrustment(session, actor=ACTOR, contract_id=con_id, purpose_codes=list(purpose_codes),
                                           data_item_codes=["name"], today=TODAY, **overrides)


async def _version(session, model, id) -> int:
    return (await session.get(model, id, populate_existing=True)).version


async def test_adding_an_entrustment_with_a_stale_contract_version_writes_nothing(session):
    _, con = await _contract(session)
    read = await _version(session, Contract, con)
    await _add(session, con, expected_version=read)  # the current version writes and bumps it
    with pytest.raises(VersionConflict) as refused:
        await _add(session, con, expected_version=read)
    await session.rollback()
    assert refused.value.field == "expectedVersion"
    assert await _count(session, Entrustment) == 1
    assert await _version(session, Contract, con) == read + 1
    await _add(session, con)  # without expectedVersion, as before
    assert await _count(session, Entrustment) == 2


async def test_ending_an_entrustment_with_a_stale_contract_version_leaves_it_open(session):
    _, con = await _contract(session)
    first = (await _add(session, con)).id
    stale = await _version(session, Contract, con)  # read before the second entrustment
    await _add(session, con, purpose_codes=["P4"])
    with pytest.raises(VersionConflict):
        await contracts.remove_entrustment(session, actor=ACTOR, id=first, today=TODAY, expected_version=stale)
    await session.rollback()
    assert (await session.get(Entrustment, first, populate_existing=True)).effective_until is None
    current = await _version(session, Contract, con)
    ended = await contracts.remove_entrustment(session, actor=ACTOR, id=first, today=TODAY, expected_version=current)
    assert ended.effective_until == date(2026, 11, 24)


async def test_recording_an_assessment_with_a_stale_subcontractor_version_writes_nothing(session):
    sub, _ = await _contract(session)
    read = await _version(session, Subcontractor, sub)
    await subcontractors.update_subcontractor(session, actor=ACTOR, id=sub, expected_version=read,
                                              changes={"name": "Renamed"}, today=TODAY)
    before = await _count(session, Assessment)
    with pytest.raises(VersionConflict):
        await subcontractors.record_assessment(session, actor=ACTOR, subcontractor_id=sub,
                                               result=AssessmentResult.INADEQUATE, assessed_on=TODAY,
                                               expected_version=read)
    await session.rollback()
    assert await _count(session, Assessment) == before
    recorded = await subcontractors.record_assessment(session, actor=ACTOR, subcontractor_id=sub,
                                                      result=AssessmentResult.INADEQUATE, assessed_on=TODAY,
                                                      expected_version=read + 1)
    assert recorded.version == read + 2
