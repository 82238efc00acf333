"""Contracts between a business and a subcontractor, and what they entrust (seed §9).

Lifecycle (DESIGN.md "Domain"): DRAFT -> UNDER_REVIEW -> ACTIVE <-> SUSPENDED,
ACTIVE|SUSPENDED -> TERMINATED, DRAFT|UNDER_REVIEW -> TERMINATED. EXPIRED is never
stored: a contract reads as EXPIRED once its expiry date has passed (`contract_status`).
Each transition is dated by the day it takes effect (ContractStatusChange), and an
entrustment has a period that its removal closes (DESIGN.md "Time"): the past still answers.
Activation is where APPI Art. 25's supervision is enforced: an adequate management
system, the required clauses, and the parent's consent for a re-entrustment.
"""

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry import subcontractors
from registry.audit import record, snapshot
from registry.businesses import get_business, resolve_purposes_and_items
from registry.contract_status import effective_status
from registry.enums import AssessmentResult, ContractClause, ContractStatus
from registry.errors import (
    Duplicate,
    InvalidInput,
    InvalidTransition,
    ManagementSystemInadequate,
    MissingContractClauses,
    NotFound,
    RegistryError,
    SubEntrustmentNotPermitted,
    raise_all,
)
from registry.lookup import KeyedRead, columns, purposes_and_items, records
from registry.models import (
    Contract,
    ContractStatusChange,
    DataItem,
    Entrustment,
    EntrustmentDataItem,
    EntrustmentPurpose,
    Purpose,
)
from registry.pages import group_by
from registry.periods import holding_on, last_day_before, not_ended_by
from registry.validation import (
    check_version,
    fetch,
    insert_unique,
    optional_text,
    require_member,
    require_name,
    require_order,
    update_versioned,
)

S = ContractStatus
REQUIRED_CLAUSES = frozenset(
    {
        ContractClause.CONFIDENTIALITY,
        ContractClause.PURPOSE_LIMITATION,
        ContractClause.SECURITY_MEASURES,
        ContractClause.BREACH_NOTIFICATION,
        ContractClause.RETURN_OR_DELETION,
    }
)
ALLOWED_TRANSITIONS: dict[ContractStatus, frozenset[ContractStatus]] = {
    S.DRAFT: frozenset({S.UNDER_REVIEW, S.TERMINATED}),
    S.UNDER_REVIEW: frozenset({S.ACTIVE, S.TERMINATED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.TERMINATED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.TERMINATED}),
    S.TERMINATED: frozenset(),
    S.EXPIRED: frozenset(),
}
ADEQUATE = frozenset({AssessmentResult.ADEQUATE, AssessmentResult.CONDITIONAL})


def next_statuses(contract: Contract) -> list[ContractStatus]:
    """The statuses `transition_contract` may move the contract to from its stored status (the
    last transition's), in lifecycle order; an activation still meets DESIGN.md's rules or is refused."""
    allowed = ALLOWED_TRANSITIONS[S(contract.status)]
    return [status for status in S if status in allowed]


async def create_contract(
    session: AsyncSession,
    *,
    actor: str,
    subcontractor_id: int,
    business_code: str,
    reference: str,
    effective_from: date,
    expires_on: date,
    signed_on: date | None = None,
    clauses: Iterable[ContractClause],
) -> Contract:
    """A DRAFT contract, version 1; its reference is unique within the business."""
    sub = await subcontractors.get_subcontractor(session, subcontractor_id, field="subcontractorId")
    business = await get_business(session, business_code)
    reference = require_name(reference, field="reference", max_length=100)
    require_order(effective_from, expires_on, field="expiresOn")
    members = (require_member(c, ContractClause, field="clauses") for c in clauses)
    contract = Contract(
        business_id=business.id,
        subcontractor_id=sub.id,
        reference=reference,
        status=S.DRAFT,
        signed_on=signed_on,
        effective_from=effective_from,
        expires_on=expires_on,
        clauses=[str(c) for c in dict.fromkeys(members)],
    )
    duplicate = Duplicate(f"contract {reference!r} exists in {business.code}", field="reference")
    taken = select(Contract.id).where(Contract.business_id == business.id, Contract.reference == reference)
    if (await session.exec(taken)).first() is not None:
        raise duplicate
    await insert_unique(session, contract, duplicate)
    await record(
        session,
        actor=actor,
        action="contract.create",
        entity=contract,
        before=None,
        after=snapshot(contract),
    )
    await session.commit()
    return contract


async def transition_contract(
    session: AsyncSession,
    *,
    actor: str,
    id: int,
    expected_version: int,
    to: ContractStatus,
    today: date,
    reason: str | None = None,
    effective_on: date | None = None,
) -> Contract:
    """Move a contract along its lifecycle, from its stored status, with effect from
    `effective_on` (default today; never in the future, nor before the previous transition
    took effect); activation applies every rule of DESIGN.md "Rules" and reports all that fail."""
    contract = await get_contract(session, id, lock=True)
    check_version(contract, expected_version)
    to = require_member(to, ContractStatus, field="to")
    stored = S(contract.status)
    if to not in ALLOWED_TRANSITIONS[stored]:
        raise InvalidTransition(f"a {stored} contract cannot move to {to}", field="to")
    effective_on = today if effective_on is None else effective_on
    if effective_on > today:
        raise InvalidInput(f"effectiveOn {effective_on} lies in the future", field="effectiveOn")
    previous = (await status_histories(session, [contract.id]))[contract.id]
    if previous and effective_on < previous[-1].effective_on:
        raise InvalidInput(f"effectiveOn {effective_on} lies before the previous transition, "
                           f"effective on {previous[-1].effective_on}", field="effectiveOn")
    if to is S.ACTIVE:
        await _check_activation(session, contract, today)
    reason = optional_text(reason, field="reason", max_length=2000)
    before = snapshot(contract)
    await update_versioned(session, contract, expected_version=expected_version, status=to)
    session.add(ContractStatusChange(contract_id=contract.id, status=to, effective_on=effective_on,
                                     actor=actor, reason=reason))
    await session.flush()
    await record(
        session,
        actor=actor,
        action="contract.transition",
        entity=contract,
        before=before,
        after=snapshot(contract, reason=reason, effective_on=effective_on.isoformat()),
    )
    await session.commit()
    return contract


async def record_data_return(session: AsyncSession, *, actor: str, id: int, expected_version: int,
                             returned_on: date, today: date) -> Contract:
    """The subcontractor confirmed on `returned_on` (not in the future) that it returned or
    deleted what the contract entrusted: after it ends, it no longer holds that data."""
    contract = await get_contract(session, id, field="contractId", lock=True)
    check_version(contract, expected_version)
    if returned_on > today:
        raise InvalidInput(f"returnedOn {returned_on} lies in the future", field="returnedOn")
    if returned_on < contract.effective_from:
        raise InvalidInput(f"returnedOn {returned_on} lies before the contract began", field="returnedOn")
    before = snapshot(contract)
    await update_versioned(session, contract, expected_version=expected_version, data_returned_on=returned_on)
    await record(session, actor=actor, action="contract.data_return", entity=contract, before=before,
                 after=snapshot(contract))
    await session.commit()
    return contract


async def status_histories(session: AsyncSession, contract_ids: Iterable[int]
                           ) -> dict[int, list[ContractStatusChange]]:
    """Each contract's transitions, oldest first."""
    ids = list(contract_ids)
    stmt = select(ContractStatusChange).where(ContractStatusChange.contract_id.in_(set(ids)))
    return group_by(ids, await session.exec(stmt.order_by(ContractStatusChange.id)), lambda c: c.contract_id)


async def _check_activation(session: AsyncSession, contract: Contract, today: date) -> None:
    if contract.expires_on < today:
        raise InvalidTransition(
            f"contract {contract.reference} expired on {contract.expires_on} and cannot be "
            "activated; create a new contract instead",
            field="to",
        )
    raise_all(
        [
            problem
            for problem in [
                await _management_system_problem(session, contract),
                _clauses_problem(contract),
                await _consent_problem(session, contract, today),
            ]
            if problem is not None
        ]
    )


async def _management_system_problem(session, contract: Contract) -> RegistryError | None:
    """The subcontractor's latest assessment must be ADEQUATE or CONDITIONAL (APPI Art. 25)."""
    system = (await subcontractors.management_systems(session, [contract.subcontractor_id]))[
        contract.subcontractor_id
    ]
    if system.assessment_result in ADEQUATE:
        return None
    return ManagementSystemInadequate(
        f"the subcontractor's management system is {system.assessment_result}; record an "
        "ADEQUATE or CONDITIONAL assessment before activating",
        field="to",
    )


def _clauses_problem(contract: Contract) -> RegistryError | None:
    missing = sorted(REQUIRED_CLAUSES - set(contract.clauses))
    if not missing:
        return None
    return MissingContractClauses(
        f"the contract lacks the required clauses: {', '.join(missing)}", field="to"
    )


async def _consent_problem(session, contract: Contract, today: date) -> RegistryError | None:
    """A re-entrusted subcontractor needs its parent to hold an ACTIVE contract with the
    same business that consents to sub-entrustment."""
    sub = await subcontractors.get_subcontractor(session, contract.subcontractor_id)
    if sub.parent_id is None:
        return None
    stmt = select(Contract).where(
        Contract.subcontractor_id == sub.parent_id, Contract.business_id == contract.business_id
    )
    for parent_contract in await session.exec(stmt):
        if (
            effective_status(parent_contract, today) is S.ACTIVE
            and ContractClause.SUB_ENTRUSTMENT_CONSENT in parent_contract.clauses
        ):
            return None
    return SubEntrustmentNotPermitted(
        "the parent subcontractor has no ACTIVE contract with this business consenting to "
        "sub-entrustment (SUB_ENTRUSTMENT_CONSENT)",
        field="to",
    )


async def add_entrustment(
    session: AsyncSession,
    *,
    actor: str,
    contract_id: int,
    purpose_codes: Iterable[str],
    data_item_codes: Iterable[str],
    today: date,
    description: str | None = None,
    effective_from: date | None = None,
    expected_version: int | None = None,
) -> Entrustment:
    """Entrust purposes x data items under a contract from `effective_from` (default: today,
    or the contract's start when later); both come from the contract's own business
    (PURPOSE_OUT_OF_SCOPE otherwise). Bumps the contract's version; with `expected_version`
    (the contract's, as its author read it) a stale one is VERSION_CONFLICT."""
    contract = await get_contract(session, contract_id, field="contractId", lock=True)
    if expected_version is not None:
        check_version(contract, expected_version)
    purposes, items = await resolve_purposes_and_items(session, contract.business_id, purpose_codes, data_item_codes)
    description = optional_text(description, field="description", max_length=2000)
    if effective_from is None:
        effective_from = max(today, contract.effective_from)
    elif effective_from < contract.effective_from or effective_from > contract.expires_on:
        raise InvalidInput(f"effectiveFrom {effective_from} lies outside the contract's term "
                           f"{contract.effective_from}..{contract.expires_on}", field="effectiveFrom")
    entrustment = Entrustment(contract_id=contract.id, description=description, effective_from=effective_from)
    session.add(entrustment)
    await session.flush()
    session.add_all([EntrustmentPurpose(entrustment_id=entrustment.id, purpose_id=p.id) for p in purposes])
    session.add_all([EntrustmentDataItem(entrustment_id=entrustment.id, data_item_id=i.id) for i in items])
    await update_versioned(session, contract, expected_version=contract.version)
    after = snapshot(entrustment, **_codes(purposes, items))
    await record(session, actor=actor, action="entrustment.add", entity=entrustment, before=None, after=after)
    await session.commit()
    return entrustment


async def remove_entrustment(session: AsyncSession, *, actor: str, id: int, today: date,
                             effective_on: date | None = None, expected_version: int | None = None) -> Entrustment:
    """End an entrustment from `effective_on` (default today; a later day schedules the end):
    its period closes the day before and the row stays, so the past still answers. Ending it
    again (an end already scheduled included), or from before it began, is refused. Bumps the
    contract's version; with `expected_version` (the contract's) a stale one is VERSION_CONFLICT."""
    contract_id = (await get_entrustment(session, id)).contract_id
    contract = await get_contract(session, contract_id, lock=True)
    if expected_version is not None:
        check_version(contract, expected_version)
    entrustment = await get_entrustment(session, id, lock=True)  # a racing removal got there first?
    effective_on = today if effective_on is None else effective_on
    if entrustment.effective_until is not None:
        raise InvalidTransition(f"entrustment {id} ended on {entrustment.effective_until} already", field="id")
    if effective_on < entrustment.effective_from:
        raise InvalidInput(f"effectiveOn {effective_on} lies before the entrustment began on "
                           f"{entrustment.effective_from}", field="effectiveOn")
    purposes, items = await entrustment_links(session, [id])
    before = snapshot(entrustment, **_codes(purposes[id], items[id]))
    entrustment.effective_until = last_day_before(effective_on)
    session.add(entrustment)
    await session.flush()
    await update_versioned(session, contract, expected_version=contract.version)
    await session.refresh(entrustment)
    await record(session, actor=actor, action="entrustment.remove", entity=entrustment, before=before,
                 after=snapshot(entrustment, **_codes(purposes[id], items[id])))
    await session.commit()
    return entrustment


async def get_contract(session: AsyncSession, id: int, *, field: str = "id", lock: bool = False) -> Contract:
    """The contract; `lock` for a write to it or its entrustments (see `validation.fetch`)."""
    contract = await fetch(session, Contract, id, lock=lock)
    if contract is None:
        raise NotFound(f"no contract {id}", field=field)
    return contract


async def get_entrustment(session: AsyncSession, id: int, *, field: str = "id", lock: bool = False) -> Entrustment:
    """The entrustment; a write locks its contract first, then it (see `validation.fetch`)."""
    entrustment = await fetch(session, Entrustment, id, lock=lock)
    if entrustment is None:
        raise NotFound(f"no entrustment {id}", field=field)
    return entrustment


_CONTRACT = columns(Contract)
CONTRACTS_OF = KeyedRead.of(records(Contract).order_by(_CONTRACT.effective_from, _CONTRACT.id), _CONTRACT.subcontractor_id)


async def contracts_of_subcontractors(
    session: AsyncSession, subcontractor_ids: Iterable[int]
) -> dict[int, list[sa.Row]]:
    """Each subcontractor's contracts (records), oldest effective first."""
    ids = list(subcontractor_ids)
    if not ids:
        return {}
    return group_by(ids, await CONTRACTS_OF.rows(session, set(ids)), lambda c: c.subcontractor_id)


async def entrustments_of(session: AsyncSession, contract_ids: Iterable[int], *, as_of: date | None = None,
                          not_ended_on: date | None = None) -> dict[int, list[sa.Row]]:
    """Each contract's entrustments (records) in effect on `as_of`, or those not ended by `not_ended_on`
    (ones that begin later included), or all of them (ended ones too)."""
    ids = list(contract_ids)
    entrustment = columns(Entrustment)
    stmt = records(Entrustment).where(entrustment.contract_id.in_(set(ids))).order_by(entrustment.id)
    if not_ended_on is not None:
        stmt = stmt.where(not_ended_by(entrustment, not_ended_on))
    found = group_by(ids, await session.exec(stmt), lambda e: e.contract_id)
    return found if as_of is None else {cid: holding_on(rows, as_of) for cid, rows in found.items()}


async def entrustment_links(
    session: AsyncSession, entrustment_ids: Iterable[int]
) -> tuple[dict[int, list[Purpose]], dict[int, list[DataItem]]]:
    """The purposes (by ordinal) and data items (by id) each entrustment names."""
    return await purposes_and_items(
        session, EntrustmentPurpose, EntrustmentDataItem, "entrustment_id", entrustment_ids
    )


def _codes(purposes, items) -> dict[str, list[str]]:
    return {"purpose_codes": [p.code for p in purposes], "data_item_codes": [i.code for i in items]}
