"""Subcontractors: the parties a business entrusts personal data to (seed §9, APPI Art. 25).

Each has a management system (certifications and the latest assessment, i.e. the one
with the latest `assessed_on`) and, when it was re-entrusted by another subcontractor,
a parent. The parent link is not dated (DESIGN.md "Time"), so it may change only until the
subcontractor's first entrustment begins: after that a new parent would rewrite who
handled what on days already past.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry import jurisdictions
from registry.audit import record, snapshot
from registry.contract_status import current_statuses
from registry.enums import AssessmentResult, AssessmentState, Certification, ContractStatus, ForeignTransferBasis
from registry.errors import InvalidInput, NotFound
from registry.lookup import columns, records
from registry.models import (
    Assessment,
    Contract,
    DataItem,
    Entrustment,
    EntrustmentDataItem,
    EntrustmentPurpose,
    Purpose,
    Subcontractor,
)
from registry.pages import Page, group_by, paginate
from registry.periods import begun_by
from registry.validation import (
    check_corporate_number,
    check_version,
    fetch,
    foreign_basis,
    optional_text,
    require_country,
    require_member,
    require_name,
    require_order,
    update_versioned,
)

EDITABLE = frozenset({"name", "country", "corporate_number", "certifications", "parent_id", "foreign_transfer_basis"})
MAX_CHAIN = 10_000  # re-entrustment chains are a few links; this only bounds a corrupt one


@dataclass(frozen=True)
class ManagementSystem:
    certifications: list[Certification]
    assessment_result: AssessmentResult
    last_assessed_on: date | None
    next_assessment_due_on: date | None


@dataclass(frozen=True)
class SubcontractorFilter:
    """What narrows a list of subcontractors; every criterion is read in SQL, so a page and
    the total count agree with the whole registry (not with one page of it).

    `contract_expiring_within_days` (0..366): an ACTIVE contract expires between today and
    that many days later, both included (30 is findings' CONTRACT_EXPIRING_SOON).
    `assessment`: the subcontractor is under contract and its latest assessment is missing
    (ASSESSMENT_MISSING), past its next due date (ASSESSMENT_OVERDUE), or either.
    `re_entrusted`: True, re-entrusted by another subcontractor (it has a parent); False,
    entrusted by the business itself."""

    name_contains: str | None = None
    contract_status: ContractStatus | None = None
    country: str | None = None
    data_item_code: str | None = None
    purpose_code: str | None = None
    contract_expiring_within_days: int | None = None
    assessment: AssessmentState | None = None
    re_entrusted: bool | None = None


async def create_subcontractor(
    session: AsyncSession,
    *,
    actor: str,
    name: str,
    country: str,
    corporate_number: str | None = None,
    parent_id: int | None = None,
    certifications: Iterable[Certification] = (),
    foreign_transfer_basis: ForeignTransferBasis | None = None,
) -> Subcontractor:
    """A new subcontractor, version 1; a parent, when given, is the subcontractor that
    re-entrusted the data to this one and must exist. Outside Japan it needs an APPI Art. 28
    basis: without one it is excluded from handlings (registry/handling.py)."""
    sub = Subcontractor(
        name=require_name(name, field="name"),
        country=require_country(country),
        corporate_number=check_corporate_number(corporate_number),
        parent_id=parent_id,
        certifications=_certifications(certifications),
        foreign_transfer_basis=foreign_basis(foreign_transfer_basis),
    )
    if parent_id is not None and await find_subcontractor(session, parent_id) is None:
        raise NotFound(f"no subcontractor {parent_id} to be the parent", field="parentId")
    session.add(sub)
    await session.flush()
    period = await jurisdictions.open_first(session, sub)
    await record(session, actor=actor, action="subcontractor.create", entity=sub, before=None,
                 after=snapshot(sub, **jurisdictions.audited([period])))
    await session.commit()
    return sub


async def update_subcontractor(
    session: AsyncSession, *, actor: str, id: int, expected_version: int, changes: Mapping[str, Any], today: date,
    effective_on: date | None = None,
) -> Subcontractor:
    """Change a subcontractor's name, country, corporate number (None clears it),
    certifications, APPI Art. 28 basis (None clears it) or parent (None: entrusted by the
    business itself), as of the version the caller read; absent keys stay unchanged. A parent must exist and may not be the
    subcontractor itself or re-entrusted, through its own chain, by it (a re-entrustment
    cycle has no business at its root: seed §9, APPI Art. 25). The parent changes only while
    none of the subcontractor's entrustments has begun by `today` (see the module docstring):
    a re-entrustment by another parent is then a new subcontractor with its own contract.
    A new country or basis holds from `effective_on` (default today; registry/jurisdictions.py)."""
    sub = await get_subcontractor(session, id, lock=True)
    check_version(sub, expected_version)
    values = _checked_changes(changes)
    if "parent_id" in values and values["parent_id"] != sub.parent_id:
        await _check_parent_may_change(session, sub, today)
    if values.get("parent_id") is not None:
        await _check_parent(session, sub, values["parent_id"])
    before = snapshot(sub)
    periods = await jurisdictions.change(session, sub, values, effective_on=effective_on, today=today)
    await update_versioned(session, sub, expected_version=expected_version, **values)
    await record(
        session,
        actor=actor,
        action="subcontractor.update",
        entity=sub,
        before=before,
        after=snapshot(sub, **jurisdictions.audited(periods)),
    )
    await session.commit()
    return sub


async def record_assessment(
    session: AsyncSession,
    *,
    actor: str,
    subcontractor_id: int,
    result: AssessmentResult,
    assessed_on: date,
    next_due_on: date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> Subcontractor:
    """Record an assessment of the subcontractor's management system (APPI Art. 25: the
    business supervises its entrusted parties); the latest `assessed_on` counts. With
    `expected_version` (the subcontractor's, as read) a stale one is VERSION_CONFLICT."""
    sub = await get_subcontractor(session, subcontractor_id, field="subcontractorId", lock=True)
    if expected_version is not None:
        check_version(sub, expected_version)
    result = require_member(result, AssessmentResult, field="result")
    if result is AssessmentResult.NOT_ASSESSED:
        raise InvalidInput("an assessment has a result other than NOT_ASSESSED", field="result")
    if next_due_on is not None:
        require_order(assessed_on, next_due_on, field="nextDueOn")
    assessment = Assessment(
        subcontractor_id=sub.id,
        result=result,
        assessed_on=assessed_on,
        next_due_on=next_due_on,
        note=optional_text(note, field="note", max_length=2000),
    )
    system = (await management_systems(session, [sub.id]))[sub.id]
    before = snapshot(sub, management_system=_plain_system(system))
    session.add(assessment)
    await session.flush()
    await update_versioned(session, sub, expected_version=sub.version)
    after = snapshot(sub, assessment=snapshot(assessment))
    await record(session, actor=actor, action="subcontractor.assess", entity=sub, before=before, after=after)
    await session.commit()
    return sub


async def find_subcontractor(session: AsyncSession, id: int, *, lock: bool = False) -> Subcontractor | None:
    """The subcontractor, or None; `lock` for a write to it (see `validation.fetch`)."""
    return await fetch(session, Subcontractor, id, lock=lock)


async def get_subcontractor(
    session: AsyncSession, id: int, *, field: str = "id", lock: bool = False
) -> Subcontractor:
    sub = await find_subcontractor(session, id, lock=lock)
    if sub is None:
        raise NotFound(f"no subcontractor {id}", field=field)
    return sub


async def subcontractors_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Subcontractor]:
    """The subcontractors found among `ids` (an unknown id is simply absent)."""
    rows = await session.exec(select(Subcontractor).where(Subcontractor.id.in_(set(ids))))
    return {row.id: row for row in rows}


async def management_systems(
    session: AsyncSession, subcontractor_ids: Iterable[int]
) -> dict[int, ManagementSystem]:
    """Each subcontractor's certifications and latest assessment (NOT_ASSESSED if none)."""
    ids = set(subcontractor_ids)
    subs = await subcontractors_by_ids(session, ids)
    stmt = select(Assessment).where(Assessment.subcontractor_id.in_(ids))
    stmt = stmt.order_by(Assessment.assessed_on, Assessment.id)
    latest = {a.subcontractor_id: a for a in await session.exec(stmt)}
    return {sid: _system(sub, latest.get(sid)) for sid, sub in subs.items()}


async def current_contract_statuses(
    session: AsyncSession, subcontractor_ids: Iterable[int], *, today: date
) -> dict[int, ContractStatus | None]:
    """The status, as read on `today`, of each subcontractor's current contract: the one
    with the latest effective_from on or before today, else the latest overall."""
    ids = set(subcontractor_ids)
    rows = (await session.exec(select(Contract).where(Contract.subcontractor_id.in_(ids)))).all()
    return {sid: None for sid in ids} | current_statuses(rows, today=today)


async def list_subcontractors(
    session: AsyncSession,
    *,
    today: date,
    first: int = 50,
    after_id: int | None = None,
    filter: SubcontractorFilter | None = None,
) -> Page[Subcontractor]:
    """Subcontractors (records) in id order, narrowed by `filter`."""
    criteria = filter or SubcontractorFilter()
    _check_filter(criteria)
    stmt = await _filtered(session, criteria, today=today)
    return await paginate(session, stmt, first=first, after_id=after_id, id_col=columns(Subcontractor).id)


FILTER_TEXT_LIMIT = 200  # no name or code is longer, so a longer filter could never match
MAX_EXPIRY_WINDOW_DAYS = 366  # a contract runs a year or so: a wider window is a different question
MAX_ASSESSMENTS = 100  # the assessments of one subcontractor read at once


def _check_filter(f: SubcontractorFilter) -> None:
    for name, field in [("name_contains", "nameContains"), ("country", "country"),
                        ("data_item_code", "dataItemCode"), ("purpose_code", "purposeCode")]:
        value = getattr(f, name)
        if value is not None and len(value) > FILTER_TEXT_LIMIT:
            raise InvalidInput(
                f"filter.{field} must be at most {FILTER_TEXT_LIMIT} characters", field=f"filter.{field}"
            )
    days = f.contract_expiring_within_days
    if days is not None and (isinstance(days, bool) or not 0 <= days <= MAX_EXPIRY_WINDOW_DAYS):
        raise InvalidInput(f"filter.contractExpiringWithinDays must be between 0 and {MAX_EXPIRY_WINDOW_DAYS}",
                           field="filter.contractExpiringWithinDays")
    if f.assessment is not None:
        require_member(f.assessment, AssessmentState, field="filter.assessment")


async def _filtered(session: AsyncSession, f: SubcontractorFilter, *, today: date):
    sub = columns(Subcontractor)
    stmt = records(Subcontractor)
    if f.name_contains:
        pattern = "%" + f.name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sub.name.ilike(pattern, escape="\\"))
    if f.country:
        stmt = stmt.where(sub.country == f.country.strip().upper())
    if f.contract_status is not None:
        statuses = current_statuses(await session.exec(records(Contract)), today=today)
        wanted = [sid for sid, status in statuses.items() if status == f.contract_status]
        stmt = stmt.where(sub.id.in_(wanted))
    if f.data_item_code:
        entrusting = _entrusting(
            EntrustmentDataItem, EntrustmentDataItem.data_item_id, DataItem, f.data_item_code
        )
        stmt = stmt.where(sub.id.in_(entrusting))
    if f.purpose_code:
        entrusting = _entrusting(EntrustmentPurpose, EntrustmentPurpose.purpose_id, Purpose, f.purpose_code)
        stmt = stmt.where(sub.id.in_(entrusting))
    if f.contract_expiring_within_days is not None:
        stmt = stmt.where(sub.id.in_(_expiring(today, f.contract_expiring_within_days)))
    if f.assessment is not None:
        stmt = stmt.where(_assessment_state(sub.id, AssessmentState(f.assessment), today))
    if f.re_entrusted is not None:
        stmt = stmt.where(sub.parent_id.is_not(None) if f.re_entrusted else sub.parent_id.is_(None))
    return stmt


def _expiring(today: date, days: int):
    """Ids of subcontractors with an ACTIVE contract expiring from today to `days` later. The
    stored status is today's (registry/contract_status.py) and one expiring today or later has
    not expired, so this is the status the contract reads as today, as findings read it."""
    contract = columns(Contract)
    return sa.select(contract.subcontractor_id).where(
        contract.status == ContractStatus.ACTIVE,
        contract.expires_on >= today,
        contract.expires_on <= today + timedelta(days=days),
    )


def _latest_first():
    """Each assessment with its rank among its subcontractor's, 1 for the latest: the latest
    assessed_on, then the latest recorded (what `management_systems` and findings read)."""
    a = columns(Assessment)
    return sa.select(
        a.id, a.subcontractor_id, a.result, a.next_due_on,
        sa.func.row_number().over(partition_by=a.subcontractor_id, order_by=(a.assessed_on.desc(), a.id.desc()))
        .label("rank"),
    )


def _assessment_state(sub_id, state: AssessmentState, today: date):
    """The condition that a subcontractor is under contract (with any business, in any status)
    and its latest assessment is missing (none, or NOT_ASSESSED), past its next due date, or
    either: findings' ASSESSMENT_MISSING, ASSESSMENT_OVERDUE, or both, exactly."""
    ranked = _latest_first().subquery()
    assessed = sa.select(ranked.c.subcontractor_id).where(
        ranked.c.rank == 1, ranked.c.result != AssessmentResult.NOT_ASSESSED
    )
    under_contract = sub_id.in_(sa.select(columns(Contract).subcontractor_id))
    missing = sub_id.not_in(assessed)
    overdue = sub_id.in_(assessed.where(ranked.c.next_due_on < today))
    wanted = {AssessmentState.MISSING: missing, AssessmentState.OVERDUE: overdue,
              AssessmentState.MISSING_OR_OVERDUE: sa.or_(missing, overdue)}[state]
    return sa.and_(under_contract, wanted)


async def assessments_of(
    session: AsyncSession, subcontractor_ids: Iterable[int], *, first: int
) -> dict[int, list[sa.Row]]:
    """Up to `first` (0..100) assessments of each subcontractor, newest first (the first is the
    one its management system reads), as records, in one query whatever the number of
    subcontractors."""
    if isinstance(first, bool) or not 0 <= first <= MAX_ASSESSMENTS:
        raise InvalidInput(f"first must be between 0 and {MAX_ASSESSMENTS}", field="first")
    ids = sorted(set(subcontractor_ids))
    if not ids or not first:
        return {sid: [] for sid in ids}
    a = columns(Assessment)
    ranked = _latest_first().where(a.subcontractor_id.in_(ids)).subquery()
    stmt = (
        records(Assessment).join(ranked, ranked.c.id == a.id)
        .where(ranked.c.rank <= first)
        .order_by(a.subcontractor_id, ranked.c.rank)
    )
    return group_by(ids, (await session.exec(stmt)).all(), lambda row: row.subcontractor_id)


async def children_of(session: AsyncSession, subcontractor_ids: Iterable[int]) -> dict[int, list]:
    """The subcontractors each one re-entrusted to (those naming it as parent), in id order, in
    one query."""
    ids = sorted(set(subcontractor_ids))
    sub = columns(Subcontractor)
    rows = (await session.exec(records(Subcontractor).where(sub.parent_id.in_(ids)).order_by(sub.id))).all()
    return group_by(ids, rows, lambda row: row.parent_id)


def _entrusting(link, link_col, model, code: str):
    """Ids of subcontractors with an entrustment naming a purpose or item coded `code`."""
    return (
        select(Contract.subcontractor_id)
        .join(Entrustment, Entrustment.contract_id == Contract.id)
        .join(link, link.entrustment_id == Entrustment.id)
        .join(model, model.id == link_col)
        .where(model.code == code)
    )


async def _check_parent(session: AsyncSession, sub: Subcontractor, parent_id: int) -> None:
    """The new parent exists and its chain of parents does not lead back to `sub`."""
    await _serialize_reparenting(session)
    chain = await _chain_from(session, parent_id)
    if not chain:
        raise NotFound(f"no subcontractor {parent_id} to be the parent", field="parentId")
    ids = [link_id for link_id, _ in chain]
    if sub.id in ids:
        names = [name for _, name in chain[: ids.index(sub.id) + 1]]
        path = " -> ".join([sub.name, *names])
        what = "its own parent" if parent_id == sub.id else "re-entrusted by a subcontractor it re-entrusts"
        raise InvalidInput(
            f"{sub.name} cannot be {what}: that makes a re-entrustment cycle ({path})", field="parentId"
        )


async def _check_parent_may_change(session: AsyncSession, sub: Subcontractor, today: date) -> None:
    """Refused once an entrustment under one of its contracts (with any business) has been in
    effect on some day up to `today`: handlings(asOf:) for those days read the parent link."""
    first_day = (await session.exec(
        select(sa.func.min(Entrustment.effective_from))
        .join(Contract, Contract.id == Entrustment.contract_id)
        .where(Contract.subcontractor_id == sub.id, begun_by(Entrustment, today))
    )).one()
    if first_day is not None:
        raise InvalidInput(
            f"the parent of {sub.name} cannot change: its entrustments have been in effect since {first_day}, "
            "and a new parent would rewrite who handled the data on those days; a re-entrustment by another "
            "subcontractor is a new subcontractor with its own contract",
            field="parentId",
        )


async def _chain_from(session: AsyncSession, start_id: int) -> list[tuple[int, str]]:
    """(id, name) of `start_id` and each parent above it, read fresh from the database; []
    when `start_id` names no subcontractor. Stops at a repeat, so a stored cycle ends it."""
    chain: list[tuple[int, str]] = []
    seen: set[int] = set()
    current: int | None = start_id
    while current is not None and current not in seen and len(chain) < MAX_CHAIN:
        stmt = select(Subcontractor.name, Subcontractor.parent_id).where(Subcontractor.id == current)
        row = (await session.exec(stmt)).first()
        if row is None:
            break
        seen.add(current)
        chain.append((current, row[0]))
        current = row[1]
    return chain


async def _serialize_reparenting(session: AsyncSession) -> None:
    """Two concurrent re-parentings (A under B, B under A) would each find no cycle in the
    other's absence; on PostgreSQL they take turns on a transaction lock. SQLite writers
    already take turns (BEGIN IMMEDIATE)."""
    if session.bind.dialect.name == "postgresql":
        await session.exec(sa.text("SELECT pg_advisory_xact_lock(hashtext('subcontractor.parent_id'))"))


def _parent_key(value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput(f"{value!r} is not a subcontractor's id", field="parentId")
    return value


def _checked_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput(f"cannot change {sorted(unknown)}", field=sorted(unknown)[0])
    checks = {
        "name": lambda v: require_name(v, field="name"),
        "country": require_country,
        "corporate_number": check_corporate_number,
        "certifications": _certifications,
        "parent_id": _parent_key,
        "foreign_transfer_basis": foreign_basis,
    }
    return {key: checks[key](value) for key, value in changes.items()}


def _certifications(values: Iterable[Certification] | None) -> list[str]:
    members = (require_member(v, Certification, field="certifications") for v in values or ())
    return [str(c) for c in dict.fromkeys(members)]


def _system(sub: Subcontractor, latest: Assessment | None) -> ManagementSystem:
    return ManagementSystem(
        certifications=[Certification(c) for c in sub.certifications],
        assessment_result=latest.result if latest else AssessmentResult.NOT_ASSESSED,
        last_assessed_on=latest.assessed_on if latest else None,
        next_assessment_due_on=latest.next_due_on if latest else None,
    )


def _plain_system(system: ManagementSystem) -> dict[str, Any]:
    return {
        "assessment_result": str(system.assessment_result),
        "last_assessed_on": system.last_assessed_on and system.last_assessed_on.isoformat(),
        "next_assessment_due_on": system.next_assessment_due_on and system.next_assessment_due_on.isoformat(),
    }
