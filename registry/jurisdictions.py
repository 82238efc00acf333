"""A party's jurisdiction: the country a subcontractor or third-party recipient is in and, outside
Japan, its APPI Art. 28 basis, as a dated history (DESIGN.md "Time", registry/periods.py).

Both decide whether the party may handle the data (registry/handling.py: a party outside Japan
with no basis handles nothing), so a change takes effect from a day and leaves the answer for
every earlier day as it was. The party's own `country` and `foreign_transfer_basis` hold the
values of its open period, which holds today and on: every read about today (listings,
filters, findings, the notice) uses them, and handlings for today or later need no query. Only
a day before today reads the history (`on_day`).

- The first period begins on BEGINNING, not on the day the party was recorded: contracts and
  their transitions may be dated earlier (the demo's go back three years), and on those days
  the values first recorded are the only ones known, as the registry answered before it kept
  a history (migration 0009 gives every existing party such a period).
- A change from `effective_on` (default today) closes the open period the day before and opens
  one from that day. A day before today corrects the past on purpose, back to the start of the
  open period at most (earlier would rewrite a period already closed). A day after today is
  refused: the party's columns, which every read of today uses, would have to change when it
  comes, and nothing runs then to change them.
- A party with no period at all (loaded in bulk by registry/scale.py, or by the tests'
  factories) has held its current values since BEGINNING; its first change writes that period
  before the new one.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.audit import snapshot
from registry.enums import ForeignTransferBasis
from registry.errors import InvalidInput
from registry.models import Contract, PartyJurisdiction, Provision, Subcontractor, ThirdPartyRecipient
from registry.periods import in_effect, last_day_before

BEGINNING = date(1900, 1, 1)  # before any day the registry is asked about
FIELDS = ("country", "foreign_transfer_basis")
Party = Subcontractor | ThirdPartyRecipient


@dataclass(frozen=True)
class Jurisdiction:
    """A party's country and Art. 28 basis on some day (read as a party's columns are)."""

    country: str
    foreign_transfer_basis: ForeignTransferBasis | None


def _owner(party: Party) -> dict[str, int]:
    key = "subcontractor_id" if isinstance(party, Subcontractor) else "recipient_id"
    return {key: party.id}


def _owned_by(party: Party) -> sa.ColumnElement[bool]:
    [(key, party_id)] = _owner(party).items()
    return getattr(PartyJurisdiction, key) == party_id


def _first_period(party: Party) -> PartyJurisdiction:
    return PartyJurisdiction(**_owner(party), country=party.country,
                             foreign_transfer_basis=party.foreign_transfer_basis, effective_from=BEGINNING)


async def open_first(session: AsyncSession, party: Party) -> PartyJurisdiction:
    """The period of a party just recorded (flushed, so it has an id): its values since BEGINNING."""
    period = _first_period(party)
    session.add(period)
    await session.flush()
    return period


async def change(session: AsyncSession, party: Party, changes: Mapping[str, Any], *,
                 effective_on: date | None, today: date) -> list[PartyJurisdiction]:
    """Date the change of country or basis in `changes` (checked values; other keys ignored)
    from `effective_on` (default today), before the party's own columns take the new values:
    the open period ends the day before, a new one opens. The periods written, for the audit
    (none when nothing of the jurisdiction changes). `effective_on` without a change of country
    or basis, in the future, or before the open period began is INVALID_INPUT, nothing written.
    The caller holds the party's lock (`validation.fetch(..., lock=True)`)."""
    dated = {key: changes[key] for key in FIELDS if key in changes}
    if not dated:
        if effective_on is not None:
            raise InvalidInput("effectiveOn dates a change of country or foreignTransferBasis, and none is given",
                               field="effectiveOn")
        return []
    day = today if effective_on is None else effective_on
    if day > today:
        raise InvalidInput(f"effectiveOn {day} lies in the future: a change of country or basis takes effect "
                           "today at the latest", field="effectiveOn")
    current = (await session.exec(select(PartyJurisdiction).where(
        _owned_by(party), PartyJurisdiction.effective_until.is_(None)))).first()
    start = BEGINNING if current is None else current.effective_from
    if day < start:
        raise InvalidInput(f"effectiveOn {day} lies before {start}, when the current country and basis took "
                           "effect: a correction reaches back to then at most", field="effectiveOn")
    values = {key: dated.get(key, getattr(party, key)) for key in FIELDS}
    if all(values[key] == getattr(party, key) for key in FIELDS):
        return []
    if current is None:
        current = _first_period(party)
        session.add(current)
    current.effective_until = last_day_before(day)
    opened = PartyJurisdiction(**_owner(party), **values, effective_from=day)
    session.add(opened)
    await session.flush()
    return [current, opened]


def audited(periods: list[PartyJurisdiction]) -> dict[str, Any]:
    """What the audit event of a party's write adds: the periods it wrote, each as it now
    stands (migration 0009 takes a history back from them)."""
    return {"jurisdictions": [snapshot(p) for p in periods]} if periods else {}


async def on_day(session: AsyncSession, business_id: int, day: date) -> dict[tuple[str, int], Jurisdiction]:
    """The jurisdiction on `day` of every party that may handle the business's data: the
    subcontractors under its contracts and the recipients of its provisions, in one query, keyed
    as `handling.party_key` keys parties. A party with no period that day is absent: its
    columns stand (see the module docstring)."""
    pj = PartyJurisdiction
    rows = await session.exec(select(pj.subcontractor_id, pj.recipient_id, pj.country, pj.foreign_transfer_basis).where(
        in_effect(pj, day),
        sa.or_(pj.subcontractor_id.in_(select(Contract.subcontractor_id).where(Contract.business_id == business_id)),
               pj.recipient_id.in_(select(Provision.recipient_id).where(Provision.business_id == business_id))),
    ))
    return {
        (Subcontractor.__name__, sub_id) if sub_id is not None else (ThirdPartyRecipient.__name__, recipient_id):
            Jurisdiction(country, None if basis is None else ForeignTransferBasis(basis))
        for sub_id, recipient_id, country, basis in rows.all()
    }
