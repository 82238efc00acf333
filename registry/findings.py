"""Compliance findings: what in the registry needs a privacy officer's or vendor manager's action.

Each finding names its code, a severity, the row concerned (contract, subcontractor,
request or provision) and what to do. The checks follow APPI's duties: supervising
entrusted parties (Art. 25, seed §9), answering data subjects without delay (Art. 33-35,
seed §8, §10) and recording third-party provision (Art. 29, seed §7).

    CRITICAL  ASSESSMENT_INADEQUATE            latest assessment INADEQUATE, yet an ACTIVE contract
              FOREIGN_TRANSFER_WITHOUT_BASIS   a party outside Japan, under a contract not ended or receiving a
                                               provision not ended, with no APPI Art. 28 basis
              ENTRUSTMENT_OUTSIDE_PURPOSES     an entrustment names a purpose or item of another business
              SUB_ENTRUSTMENT_WITHOUT_CONSENT  re-entrusted party ACTIVE, parent holds no ACTIVE consent clause
              REQUEST_OVERDUE                  a request still open after its due date
    WARNING   CONTRACT_EXPIRING_SOON           ACTIVE contract expiring within 30 days
              CONTRACT_EXPIRED_WITH_ENTRUSTMENTS  expired or terminated contract still carrying
                                               entrustments, and no data return recorded
              ASSESSMENT_MISSING               a subcontractor under contract never assessed
              ASSESSMENT_OVERDUE               the latest assessment's next due date has passed
              PROVISION_WITHOUT_RECORDS        an active provision with no Art. 29 record (none
                                               for a LAW basis: Art. 29(1) proviso)
              NOTICE_OUTDATED                  the latest published notice no longer reads as the
                                               registry does today, in some language (Art. 32)
    INFO      NOTICE_NOT_PUBLISHED             the business never published its notice
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.contract_status import effective_status
from registry.enums import AssessmentResult, ContractClause, ContractStatus, LegalBasis, RequestStatus, Severity
from registry.errors import NotFound
from registry.handling import HOME_COUNTRY, lacks_foreign_basis
from registry.notice import LANGUAGES, render_notice
from registry.notice_versions import content_hash, in_force
from registry.periods import in_effect, not_ended_by
from registry.models import (
    Assessment, Business, Contract, Customer, DataItem, DataSubjectRequest, Entrustment,
    EntrustmentDataItem, EntrustmentPurpose, Provision, ProvisionRecord, Purpose, Subcontractor,
    ThirdPartyRecipient,
)

EXPIRY_WARNING_DAYS = 30
_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    subject: SQLModel | None
    message: str


@dataclass(frozen=True)
class _Registry:
    """The rows the checks read, loaded in a fixed number of queries."""

    contracts: list[Contract]
    subcontractors: dict[int, Subcontractor]
    entrustment_counts: dict[int, int]
    latest_assessments: dict[int, Assessment]
    outside_scope: dict[tuple[int, int], list[str]]  # (contract id, entrustment id) -> codes
    open_requests: list[tuple[DataSubjectRequest, str]]
    unrecorded_provisions: list[tuple[Provision, ThirdPartyRecipient]]
    foreign_recipients: list[ThirdPartyRecipient]  # outside Japan, no basis, a provision not ended


async def compliance_findings(session: AsyncSession, *, today: date,
                              business_code: str | None = None) -> list[Finding]:
    """Every finding for one business (or all), most severe first, then by code."""
    scope = await _scope(session, business_code)
    registry = await _load(session, scope, today)
    findings = [
        *_contract_findings(registry, today),
        *_assessment_findings(registry, today),
        *_entrustment_findings(registry),
        *_sub_entrustment_findings(registry, today),
        *_request_findings(registry, today),
        *_provision_findings(registry),
        *_foreign_transfer_findings(registry, today),
        *await _notice_findings(session, scope, today),
    ]
    return sorted(findings, key=lambda f: (_SEVERITY_RANK[f.severity], f.code))


def _is_active(contract: Contract, today: date) -> bool:
    return effective_status(contract, today) == ContractStatus.ACTIVE


# --- Loading ------------------------------------------------------------------------


async def _scope(session: AsyncSession, business_code: str | None):
    """A subquery of the ids of the businesses checked."""
    if business_code is None:
        return select(Business.id)
    found = (await session.exec(select(Business.id).where(Business.code == business_code))).first()
    if found is None:
        raise NotFound(f"No business with code {business_code!r}", field="businessCode")
    return select(Business.id).where(Business.id == found)


async def _all(session: AsyncSession, stmt) -> list:
    return list((await session.exec(stmt)).all())


async def _load(session: AsyncSession, scope, today: date) -> _Registry:
    in_scope = Contract.business_id.in_(scope)
    under_contract = select(Contract.subcontractor_id).where(in_scope)
    parents = select(Subcontractor.parent_id).where(Subcontractor.id.in_(under_contract))
    assessments = await _all(session, select(Assessment).where(Assessment.subcontractor_id.in_(under_contract))
                             .order_by(Assessment.assessed_on, Assessment.id))
    counts = await _all(session, select(Entrustment.contract_id, sa.func.count()).join(Contract)
                        .where(in_scope, in_effect(Entrustment, today)).group_by(Entrustment.contract_id))
    return _Registry(
        contracts=await _all(session, select(Contract).where(in_scope).order_by(Contract.id)),
        subcontractors={s.id: s for s in await _all(session, select(Subcontractor).where(
            sa.or_(Subcontractor.id.in_(under_contract), Subcontractor.id.in_(parents))))},
        entrustment_counts=dict(counts),
        latest_assessments={a.subcontractor_id: a for a in assessments},  # the last one wins
        outside_scope=await _outside_scope(session, in_scope),
        open_requests=await _all(session, select(DataSubjectRequest, Customer.external_ref).join(Customer).where(
            Customer.business_id.in_(scope), DataSubjectRequest.due_on < today,
            DataSubjectRequest.status.not_in([RequestStatus.COMPLETED, RequestStatus.REJECTED]),
        ).order_by(DataSubjectRequest.id)),
        unrecorded_provisions=await _all(session, select(Provision, ThirdPartyRecipient).join(ThirdPartyRecipient).where(
            Provision.business_id.in_(scope), in_effect(Provision, today), Provision.legal_basis != LegalBasis.LAW,
            ~sa.exists().where(ProvisionRecord.provision_id == Provision.id),
        ).order_by(Provision.id)),
        foreign_recipients=await _all(session, select(ThirdPartyRecipient).where(
            ThirdPartyRecipient.country != HOME_COUNTRY, ThirdPartyRecipient.foreign_transfer_basis.is_(None),
            ThirdPartyRecipient.id.in_(select(Provision.recipient_id).where(
                Provision.business_id.in_(scope), not_ended_by(Provision, today))),
        ).order_by(ThirdPartyRecipient.id)),
    )


async def _outside_scope(session: AsyncSession, in_scope) -> dict[tuple[int, int], list[str]]:
    """Purposes and items entrusted under a contract that belong to another business."""
    def foreign(link, target, target_id):
        return (select(Entrustment.contract_id, Entrustment.id, target.code)
                .join(link, link.entrustment_id == Entrustment.id).join(target, target.id == target_id)
                .join(Contract, Contract.id == Entrustment.contract_id)
                .where(in_scope, target.business_id != Contract.business_id))
    stmt = sa.union_all(
        foreign(EntrustmentPurpose, Purpose, EntrustmentPurpose.purpose_id),
        foreign(EntrustmentDataItem, DataItem, EntrustmentDataItem.data_item_id),
    )
    found: dict[tuple[int, int], list[str]] = defaultdict(list)
    for contract_id, entrustment_id, code in (await session.exec(stmt)).all():
        found[(contract_id, entrustment_id)].append(code)
    return dict(sorted(found.items()))


# --- Checks -------------------------------------------------------------------------


def _contract_findings(registry: _Registry, today: date) -> list[Finding]:
    findings = []
    for c in registry.contracts:
        sub = registry.subcontractors[c.subcontractor_id]
        days = (c.expires_on - today).days
        if c.status == ContractStatus.ACTIVE and 0 <= days <= EXPIRY_WARNING_DAYS:
            findings.append(Finding("CONTRACT_EXPIRING_SOON", Severity.WARNING, c, (
                f"Contract {c.reference} with {sub.name} expires on {c.expires_on} ({days} days): "
                "renew it or plan the return or deletion of the entrusted data.")))
        # an ended contract's subcontractor holds the data until its return is recorded (DESIGN.md
        # "Breach, findings and the notice"); entrustments ended (removed) are not carried any more
        entrusted = registry.entrustment_counts.get(c.id, 0)
        ended = f"expired on {c.expires_on}" if days < 0 else (
            "was terminated" if c.status == ContractStatus.TERMINATED else None)
        if ended and entrusted and c.data_returned_on is None:
            findings.append(Finding("CONTRACT_EXPIRED_WITH_ENTRUSTMENTS", Severity.WARNING, c, (
                f"Contract {c.reference} with {sub.name} {ended} but still carries {entrusted} "
                "entrustment(s) and no return of the data is recorded: renew the contract, or have the "
                "entrusted data returned or deleted, record it, and remove the entrustments.")))
    return findings


def _assessment_findings(registry: _Registry, today: date) -> list[Finding]:
    findings, by_sub = [], defaultdict(list)
    for c in registry.contracts:
        by_sub[c.subcontractor_id].append(c)
    for sub_id, contracts in sorted(by_sub.items()):
        sub, latest = registry.subcontractors[sub_id], registry.latest_assessments.get(sub_id)
        active = [c.reference for c in contracts if _is_active(c, today)]
        if latest is None or latest.result == AssessmentResult.NOT_ASSESSED:
            findings.append(Finding("ASSESSMENT_MISSING", Severity.WARNING, sub, (
                f"Subcontractor {sub.name} is under contract but its management system has never been "
                "assessed: assess it before entrusting personal data (APPI Art. 25).")))
            continue
        if latest.result == AssessmentResult.INADEQUATE and active:
            findings.append(Finding("ASSESSMENT_INADEQUATE", Severity.CRITICAL, sub, (
                f"Subcontractor {sub.name} was assessed INADEQUATE on {latest.assessed_on} yet holds "
                f"active contract(s) {', '.join(active)}: suspend them or have its management system "
                "remedied and reassessed (APPI Art. 25).")))
        if latest.next_due_on is not None and latest.next_due_on < today:
            findings.append(Finding("ASSESSMENT_OVERDUE", Severity.WARNING, sub, (
                f"The assessment of subcontractor {sub.name} was due on {latest.next_due_on}: "
                "reassess its management system.")))
    return findings


def _entrustment_findings(registry: _Registry) -> list[Finding]:
    contracts = {c.id: c for c in registry.contracts}
    return [
        Finding("ENTRUSTMENT_OUTSIDE_PURPOSES", Severity.CRITICAL, contracts[contract_id], (
            f"Entrustment {entrustment_id} under contract {contracts[contract_id].reference} names "
            f"{', '.join(codes)}, which are not the contract's business's purposes or items: remove "
            "the entrustment and entrust only within the purposes of use (seed §9, APPI Art. 27(5)(i))."))
        for (contract_id, entrustment_id), codes in registry.outside_scope.items()
    ]


def _consents(registry: _Registry, today: date) -> set[tuple[int, int]]:
    """(subcontractor, business) pairs with an ACTIVE contract allowing sub-entrustment."""
    return {
        (c.subcontractor_id, c.business_id) for c in registry.contracts
        if _is_active(c, today) and ContractClause.SUB_ENTRUSTMENT_CONSENT in c.clauses
    }


def _sub_entrustment_findings(registry: _Registry, today: date) -> list[Finding]:
    consents, findings = _consents(registry, today), []
    for c in registry.contracts:
        sub = registry.subcontractors[c.subcontractor_id]
        if sub.parent_id is None or not _is_active(c, today) or (sub.parent_id, c.business_id) in consents:
            continue
        parent = registry.subcontractors[sub.parent_id]
        findings.append(Finding("SUB_ENTRUSTMENT_WITHOUT_CONSENT", Severity.CRITICAL, c, (
            f"Contract {c.reference} with {sub.name} is active, but {parent.name}, which re-entrusted "
            "it, has no active contract allowing sub-entrustment (SUB_ENTRUSTMENT_CONSENT): suspend the "
            f"contract or obtain the consent clause in {parent.name}'s contract.")))
    return findings


def _request_findings(registry: _Registry, today: date) -> list[Finding]:
    return [
        Finding("REQUEST_OVERDUE", Severity.CRITICAL, request, (
            f"{request.kind} request {request.id} of customer {ref} was due on {request.due_on} "
            f"({(today - request.due_on).days} days overdue): complete or reject it without delay "
            "(APPI Art. 33-35)."))
        for request, ref in registry.open_requests
    ]


def _provision_findings(registry: _Registry) -> list[Finding]:
    return [
        Finding("PROVISION_WITHOUT_RECORDS", Severity.WARNING, provision, (
            f"Provision {provision.id} to {recipient.name} has no provision record: record each "
            "provision (date, recipient, customer, items) and keep it for 3 years (APPI Art. 29)."))
        for provision, recipient in registry.unrecorded_provisions
    ]



def _foreign_transfer_findings(registry: _Registry, today: date) -> list[Finding]:
    """APPI Art. 28: a party outside Japan needs a basis before it receives personal data; until
    one is recorded it is excluded from handlings (registry/handling.py)."""
    ended = {ContractStatus.TERMINATED, ContractStatus.EXPIRED}
    subs = {c.subcontractor_id for c in registry.contracts if effective_status(c, today) not in ended}
    parties = [registry.subcontractors[s] for s in sorted(subs)] + registry.foreign_recipients
    return [
        Finding("FOREIGN_TRANSFER_WITHOUT_BASIS", Severity.CRITICAL, party, (
            f"{party.name} is in {party.country} and no basis for transferring personal data there is recorded "
            "(APPI Art. 28): record the customers' consent after informing them of the country, the recipient's "
            "equivalent measures, or the country's PPC designation; until then it may receive nothing."))
        for party in parties if lacks_foreign_basis(party)
    ]


async def _notice_findings(session: AsyncSession, scope, today: date) -> list[Finding]:
    """Whether each business's published notice still says what the registry says (the
    notice as it reads now, rendered in every language, against the hashes of the latest
    version)."""
    businesses = await _all(session, select(Business).where(Business.id.in_(scope)).order_by(Business.id))
    published = await in_force(session, [(b.id, today) for b in businesses])
    findings = []
    for business in businesses:
        latest = published.get((business.id, today))
        if latest is None:
            findings.append(Finding("NOTICE_NOT_PUBLISHED", Severity.INFO, business, (
                f"{business.name} has never published its privacy notice: publish it (publishNotice, or "
                f"pi-gateway notice {business.code} --publish) so what customers are told is kept")))
            continue
        stale = [lang for lang in LANGUAGES if latest.content_hashes.get(lang) != content_hash(
            await render_notice(session, business.code, lang=lang))]
        if stale:
            findings.append(Finding("NOTICE_OUTDATED", Severity.WARNING, business, (
                f"The published notice of {business.name} (version {latest.version} of {latest.published_on}) no "
                f"longer states the registry ({', '.join(stale)}): publish it again")))
    return findings
