"""Plain functions that put rows straight into the database, bypassing the rules.

Each takes the session and `**overrides` for any column, flushes, and returns the row.
They build the situations rule tests need (an expired contract, an inadequate assessment)
without walking every write through its lifecycle. Writes under test go through the
registry's own functions instead.
"""

from datetime import date, datetime, timedelta, timezone
from itertools import count

from registry.enums import (
    AssessmentResult,
    ContractClause,
    ContractStatus,
    CustomerStatus,
    LegalBasis,
    RequestKind,
    RequestStatus,
    Sensitivity,
)
from registry.models import (
    Assessment,
    Business,
    Contract,
    ContractStatusChange,
    Customer,
    CustomerDataItem,
    DataItem,
    DataSubjectRequest,
    Entrustment,
    EntrustmentDataItem,
    EntrustmentPurpose,
    Provision,
    ProvisionDataItem,
    ProvisionPurpose,
    Purpose,
    Subcontractor,
    ThirdPartyRecipient,
)

_seq = count(1)
SINCE = date(2020, 1, 1)  # when the factories' purposes, provisions and customers begin
REQUIRED_CLAUSES = [
    ContractClause.CONFIDENTIALITY,
    ContractClause.PURPOSE_LIMITATION,
    ContractClause.SECURITY_MEASURES,
    ContractClause.BREACH_NOTIFICATION,
    ContractClause.RETURN_OR_DELETION,
]


async def _add(session, row):
    session.add(row)
    await session.flush()
    return row


async def business(session, **overrides) -> Business:
    """A business with purposes P1..P5 (P2, P3 usable after cancellation) and six items."""
    n = next(_seq)
    fields = dict(
        code=f"biz-{n}", name=f"Business {n}", operator_name=f"Operator {n}", country="JP",
        activities=["Provision and operation of the service"],
    )
    row = await _add(session, Business(**(fields | overrides)))
    for i in range(1, 6):
        await _add(session, Purpose(
            business_id=row.id, code=f"P{i}", ordinal=i, title=f"Purpose {i}",
            usable_after_cancellation=i in (2, 3), effective_from=SINCE,
        ))
    for code, sensitivity, voluntary in [
        ("name", Sensitivity.ORDINARY, False),
        ("email", Sensitivity.ORDINARY, False),
        ("phone", Sensitivity.ORDINARY, True),
        ("amount", Sensitivity.FINANCIAL, False),
        ("credit_card_number", Sensitivity.FINANCIAL, False),
        ("bank_account", Sensitivity.FINANCIAL, False),
    ]:
        await _add(session, DataItem(
            business_id=row.id, code=code, name=code.replace("_", " "),
            sensitivity=sensitivity, voluntary=voluntary,
            property_damage_risk=code in ("credit_card_number", "bank_account"),
        ))
    return row


async def purposes(session, business: Business) -> dict[str, Purpose]:
    from sqlmodel import select
    rows = await session.exec(select(Purpose).where(Purpose.business_id == business.id))
    return {p.code: p for p in rows}


async def items(session, business: Business) -> dict[str, DataItem]:
    from sqlmodel import select
    rows = await session.exec(select(DataItem).where(DataItem.business_id == business.id))
    return {i.code: i for i in rows}


async def subcontractor(session, **overrides) -> Subcontractor:
    n = next(_seq)
    fields = dict(name=f"Subcontractor {n}", country="JP")
    return await _add(session, Subcontractor(**(fields | overrides)))


async def assessment(session, sub: Subcontractor, **overrides) -> Assessment:
    fields = dict(
        subcontractor_id=sub.id, result=AssessmentResult.ADEQUATE,
        assessed_on=date(2026, 1, 15), next_due_on=date(2027, 1, 15),
    )
    return await _add(session, Assessment(**(fields | overrides)))


async def contract(session, business: Business, sub: Subcontractor, **overrides) -> Contract:
    n = next(_seq)
    fields = dict(
        business_id=business.id, subcontractor_id=sub.id, reference=f"C-{n}",
        status=ContractStatus.ACTIVE, effective_from=date(2026, 1, 1),
        expires_on=date(2027, 12, 31), clauses=[str(c) for c in REQUIRED_CLAUSES],
    )
    row = await _add(session, Contract(**(fields | overrides)))
    if row.status != ContractStatus.DRAFT:  # in that status from its start, as its history says
        await _add(session, ContractStatusChange(contract_id=row.id, status=row.status,
                                                 effective_on=row.effective_from, actor="factory"))
    return row


async def entrustment(session, contract: Contract, purposes_, items_, **overrides) -> Entrustment:
    """An entrustment of the given Purpose and DataItem rows under `contract`."""
    fields = dict(effective_from=contract.effective_from)
    row = await _add(session, Entrustment(contract_id=contract.id, **(fields | overrides)))
    for p in purposes_:
        await _add(session, EntrustmentPurpose(entrustment_id=row.id, purpose_id=p.id))
    for i in items_:
        await _add(session, EntrustmentDataItem(entrustment_id=row.id, data_item_id=i.id))
    return row


async def customer(session, business: Business, items_=(), **overrides) -> Customer:
    """A customer holding the given DataItem rows."""
    n = next(_seq)
    fields = dict(
        business_id=business.id, external_ref=f"CUST-{n}", display_name=f"Customer {n}",
        email=f"customer{n}@example.test", registered_on=SINCE,
    )
    overrides = dict(overrides)
    if overrides.pop("status", CustomerStatus.ACTIVE) == CustomerStatus.CANCELLED:
        overrides.setdefault("cancelled_on", SINCE)
    row = await _add(session, Customer(**(fields | overrides)))
    for i in items_:
        await _add(session, CustomerDataItem(customer_id=row.id, data_item_id=i.id,
                                             effective_from=row.registered_on))
    return row


async def recipient(session, **overrides) -> ThirdPartyRecipient:
    fields = dict(name="Financial institutions", country="JP", kind="financial institution")
    return await _add(session, ThirdPartyRecipient(**(fields | overrides)))


async def provision(session, business: Business, recipient_: ThirdPartyRecipient,
                    purposes_, items_, **overrides) -> Provision:
    fields = dict(business_id=business.id, recipient_id=recipient_.id,
                  legal_basis=LegalBasis.CONSENT, effective_from=SINCE)
    overrides = dict(overrides)
    if not overrides.pop("active", True):
        overrides.setdefault("effective_until", SINCE)  # ended long ago
    row = await _add(session, Provision(**(fields | overrides)))
    for p in purposes_:
        await _add(session, ProvisionPurpose(provision_id=row.id, purpose_id=p.id))
    for i in items_:
        await _add(session, ProvisionDataItem(provision_id=row.id, data_item_id=i.id))
    return row


async def request(session, customer_: Customer, kind: RequestKind, **overrides) -> DataSubjectRequest:
    """A data-subject request; pass status=COMPLETED and resolved_on=... for a completed one."""
    fields = dict(
        customer_id=customer_.id, kind=kind, status=RequestStatus.RECEIVED,
        received_at=datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc), due_on=date(2026, 11, 15),
    )
    row = DataSubjectRequest(**(fields | overrides))
    if row.status in (RequestStatus.COMPLETED, RequestStatus.REJECTED) and row.resolved_on:
        row.resolved_at = row.resolved_at or datetime.combine(row.resolved_on, datetime.min.time(), timezone.utc)
    row = await _add(session, row)
    if row.status == RequestStatus.COMPLETED and row.kind == RequestKind.DELETION and row.resolved_on:
        # what the registry's completion does: every held period closes the day before
        from sqlmodel import select
        for period in (await session.exec(select(CustomerDataItem).where(
                CustomerDataItem.customer_id == customer_.id, CustomerDataItem.effective_until.is_(None)))).all():
            period.effective_until = row.resolved_on - timedelta(days=1)
            session.add(period)
        await session.flush()
    return row
