"""A party's country and APPI Art. 28 basis as a dated history (registry/jurisdictions.py,
DESIGN.md "Time"): what each write leaves in it, and which days of handling resolution read it."""

from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from registry import provisions, subcontractors
from registry.enums import ExclusionReason, ForeignTransferBasis
from registry.errors import InvalidInput
from registry.handling import resolve_handlings
from registry.jurisdictions import BEGINNING
from registry.models import Business, PartyJurisdiction, Subcontractor
from tests import factories as f
from tests.statements import Statements

TODAY = date(2026, 11, 25)
LAST_MONTH = TODAY - timedelta(days=31)
ACTOR = "vendor-manager"
US_WITHOUT_BASIS = {"country": "US", "foreign_transfer_basis": None}
WITHOUT_BASIS = ExclusionReason.FOREIGN_TRANSFER_WITHOUT_BASIS


def periods_of(history) -> list[tuple]:
    return [(p.country, p.foreign_transfer_basis, p.effective_from, p.effective_until) for p in history]


async def history(session, party, party_id: int | None = None) -> list[tuple]:
    """The party's periods, oldest first."""
    party_id = party.id if party_id is None else party_id
    pj = PartyJurisdiction
    column = pj.subcontractor_id if isinstance(party, Subcontractor) else pj.recipient_id
    rows = await session.exec(select(pj).where(column == party_id).order_by(pj.effective_from, pj.id))
    return periods_of(rows.all())


async def entrusted(session):
    """A customer of a business whose hosting contractor in Japan (loaded with no history, as the
    factories and the bulk loader load parties) handles their name."""
    biz = await f.business(session)
    ps, its = await f.purposes(session, biz), await f.items(session, biz)
    host = await f.subcontractor(session, name="Host Co")
    await f.entrustment(session, await f.contract(session, biz, host, effective_from=date(2025, 1, 1)),
                        [ps["P1"]], [its["name"]])
    customer = await f.customer(session, biz, [its["name"]])
    await session.commit()
    return customer, host


async def reasons(session, customer, party, day, **today) -> list[ExclusionReason]:
    found = await resolve_handlings(session, customer.id, as_of=day, include_excluded=True, **today)
    return next(h for h in found if h.party.id == party.id and type(h.party) is type(party)).exclusion_reasons


async def test_created_parties_hold_their_first_values_from_the_beginning(session):
    sub = await subcontractors.create_subcontractor(session, actor=ACTOR, name="Panel Pte", country="SG",
                                                    foreign_transfer_basis=ForeignTransferBasis.EQUIVALENT_MEASURES)
    bank = await provisions.create_recipient(session, actor=ACTOR, name="Bank", country="JP", kind="bank")
    assert await history(session, sub) == [("SG", ForeignTransferBasis.EQUIVALENT_MEASURES, BEGINNING, None)]
    assert await history(session, bank) == [("JP", None, BEGINNING, None)]


async def test_a_party_loaded_without_a_history_keeps_its_values_for_the_days_before_a_move(session):
    customer, host = await entrusted(session)
    moved = await subcontractors.update_subcontractor(session, actor=ACTOR, id=host.id, expected_version=host.version,
                                                      changes=US_WITHOUT_BASIS, today=TODAY)
    assert (moved.country, moved.version) == ("US", 2)
    assert await history(session, host) == [("JP", None, BEGINNING, TODAY - timedelta(days=1)),
                                            ("US", None, TODAY, None)]
    for today in ({}, {"today": TODAY}):
        assert await reasons(session, customer, host, LAST_MONTH, **today) == []
        assert await reasons(session, customer, host, TODAY, **today) == [WITHOUT_BASIS]


async def test_the_same_values_again_write_no_period(session):
    _, host = await entrusted(session)
    same = await subcontractors.update_subcontractor(session, actor=ACTOR, id=host.id, expected_version=host.version,
                                                     changes={"country": "jp"}, today=TODAY,
                                                     effective_on=LAST_MONTH)
    assert same.version == 2 and await history(session, host) == []


async def test_a_correction_from_the_day_the_current_values_began_replaces_them(session):
    bank = await provisions.create_recipient(session, actor=ACTOR, name="Bank", country="JP", kind="bank")
    bank_id = bank.id
    moved_on = TODAY - timedelta(days=10)
    await provisions.update_recipient(session, actor=ACTOR, id=bank.id, changes=US_WITHOUT_BASIS, today=TODAY,
                                      effective_on=moved_on)
    basis = ForeignTransferBasis.CONSENT_WITH_INFORMATION
    await provisions.update_recipient(session, actor=ACTOR, id=bank.id, changes={"foreign_transfer_basis": basis},
                                      today=TODAY, effective_on=moved_on)
    with pytest.raises(InvalidInput) as refused:
        await provisions.update_recipient(session, actor=ACTOR, id=bank.id, changes={"country": "JP"}, today=TODAY,
                                          effective_on=moved_on - timedelta(days=1))
    assert refused.value.field == "effectiveOn"
    await session.rollback()
    assert await history(session, bank, bank_id) == [
        ("JP", None, BEGINNING, moved_on - timedelta(days=1)),
        ("US", None, moved_on, moved_on - timedelta(days=1)),  # replaced whole: it never held
        ("US", basis, moved_on, None),
    ]


async def test_handlings_from_today_on_read_no_history_and_a_past_day_one_query(db):
    async with db.session(write=True) as session:
        customer, host = await entrusted(session)
        biz = await session.get(Business, customer.business_id)
        ps, its = await f.purposes(session, biz), await f.items(session, biz)
        await f.provision(session, biz, await f.recipient(session), [ps["P5"]], [its["name"]])
        await subcontractors.update_subcontractor(session, actor=ACTOR, id=host.id, expected_version=host.version,
                                                  changes=US_WITHOUT_BASIS, today=TODAY)
    async with db.session() as session:
        for day, reads in ((TODAY, 0), (TODAY + timedelta(days=30), 0), (LAST_MONTH, 1)):
            with Statements(db.reader, db.writer) as statements:
                found = await resolve_handlings(session, customer.id, as_of=day, today=TODAY)
            assert sum("party_jurisdiction" in sent for sent in statements.sent) == reads, day
            assert ("Host Co" in [h.party.name for h in found]) is (day < TODAY), day


@pytest.mark.parametrize("owners", [{}, {"subcontractor_id": 1, "recipient_id": 1}])
async def test_a_period_names_exactly_one_party(session, owners):
    await f.subcontractor(session)
    await f.recipient(session)
    session.add(PartyJurisdiction(country="JP", effective_from=BEGINNING, **owners))
    with pytest.raises(IntegrityError):
        await session.flush()
