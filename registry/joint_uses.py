"""Joint use of personal data (seed §6, APPI Art. 27(5)(iii)).

Jointly using parties are not third parties, so a joint use adds nobody to handlings; the
notice states it: which items are used jointly, by whom, for which purposes, and who is
responsible. Each joint use holds for a period; ending it closes the period and keeps the
row, so what held on an earlier day can still be shown.
"""

from collections.abc import Iterable
from datetime import date

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.audit import record, snapshot
from registry.businesses import check_end, get_business, resolve_purposes_and_items
from registry.errors import InvalidInput, InvalidTransition, NotFound
from registry.lookup import purposes_and_items
from registry.models import DataItem, JointUse, JointUseDataItem, JointUsePurpose, Purpose
from registry.pages import group_by
from registry.periods import not_ended_by
from registry.validation import fetch, optional_text, require_name


async def create_joint_use(
    session: AsyncSession,
    *,
    actor: str,
    business_code: str,
    users: str,
    responsible: str,
    purpose_codes: Iterable[str],
    data_item_codes: Iterable[str],
    today: date,
    effective_from: date | None = None,
    users_ja: str | None = None,
    responsible_ja: str | None = None,
) -> JointUse:
    """A joint use of the business's own items for its own purposes, from `effective_from`
    (default today; never before today: the past stays as it was). `users_ja` and
    `responsible_ja` are what the notice in Japanese states (none: the English one stands in)."""
    business = await get_business(session, business_code)
    users = require_name(users, field="users", max_length=1000)
    responsible = require_name(responsible, field="responsible", max_length=1000)
    users_ja = optional_text(users_ja, field="usersJa", max_length=1000)
    responsible_ja = optional_text(responsible_ja, field="responsibleJa", max_length=1000)
    effective_from = today if effective_from is None else effective_from
    if effective_from < today:
        raise InvalidInput(f"effectiveFrom {effective_from} lies before today ({today})", field="effectiveFrom")
    purposes, items = await resolve_purposes_and_items(session, business.id, purpose_codes, data_item_codes)
    joint_use = JointUse(business_id=business.id, users=users, responsible=responsible, users_ja=users_ja,
                         responsible_ja=responsible_ja, effective_from=effective_from)
    session.add(joint_use)
    await session.flush()
    session.add_all([JointUsePurpose(joint_use_id=joint_use.id, purpose_id=p.id) for p in purposes])
    session.add_all([JointUseDataItem(joint_use_id=joint_use.id, data_item_id=i.id) for i in items])
    await session.flush()
    await record(session, actor=actor, action="jointuse.create", entity=joint_use, before=None,
                 after=_snapshot(joint_use, purposes, items))
    await session.commit()
    return joint_use


async def end_joint_use(session: AsyncSession, *, actor: str, id: int, effective_until: date,
                        today: date) -> JointUse:
    """End a joint use: `effective_until` is its last day (never before yesterday; a later day
    schedules the end). Ending it again is INVALID_TRANSITION."""
    joint_use = await fetch(session, JointUse, id, lock=True)
    if joint_use is None:
        raise NotFound(f"no joint use {id}", field="id")
    if joint_use.effective_until is not None:
        raise InvalidTransition(f"joint use {id} ends on {joint_use.effective_until} already", field="id")
    check_end(effective_until, start=joint_use.effective_from, today=today, field="effectiveUntil")
    purposes, items = await joint_use_links(session, [id])
    before = _snapshot(joint_use, purposes[id], items[id])
    joint_use.effective_until = effective_until
    session.add(joint_use)
    await session.flush()
    await record(session, actor=actor, action="jointuse.end", entity=joint_use, before=before,
                 after=_snapshot(joint_use, purposes[id], items[id]))
    await session.commit()
    return joint_use


def _snapshot(joint_use: JointUse, purposes: list[Purpose], items: list[DataItem]) -> dict:
    """With the ids of what it names (migration 0007 rebuilds joint uses from them) and the codes."""
    return snapshot(joint_use, purpose_ids=[p.id for p in purposes], data_item_ids=[i.id for i in items],
                    purpose_codes=[p.code for p in purposes], data_item_codes=[i.code for i in items])


async def joint_uses_of(session: AsyncSession, business_ids: Iterable[int], *,
                        not_ended_on: date | None = None) -> dict[int, list[JointUse]]:
    """Each business's joint uses in the order made; with `not_ended_on`, those not ended by
    that day (ones that begin later included)."""
    ids = list(business_ids)
    stmt = select(JointUse).where(JointUse.business_id.in_(set(ids)))
    if not_ended_on is not None:
        stmt = stmt.where(not_ended_by(JointUse, not_ended_on))
    return group_by(ids, await session.exec(stmt.order_by(JointUse.id)), lambda j: j.business_id)


async def joint_use_links(session: AsyncSession, ids: Iterable[int]
                          ) -> tuple[dict[int, list[Purpose]], dict[int, list[DataItem]]]:
    """The purposes (by ordinal) and data items (by id) each joint use names."""
    return await purposes_and_items(session, JointUsePurpose, JointUseDataItem, "joint_use_id", ids)
