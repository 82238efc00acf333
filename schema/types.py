"""GraphQL object types, built from registry rows (`from_row`) and resolved through loaders.

Every type keeps its row in a private attribute; reference and list fields go through the
operation's DataLoaders, so a list of N objects costs one query per level, not N.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo
from typing import Any

import strawberry
from strawberry import Private
from strawberry.types import Info

from registry import audit as audit_log
from registry import contract_status, contracts, customers, handling, models, subcontractors
from registry.access import Capability
from registry.disclosure import render_disclosure
from registry.enums import RequestScope
from registry.periods import Period
from schema import ids
from schema.errors import bad_argument
from schema.pagination import audit_page
from schema.enums import (
    AssessmentResult,
    BreachCause,
    Certification,
    ContractClause,
    ContractStatus,
    CustomerStatus,
    ExclusionReason,
    ForeignTransferBasis,
    HandlingRole,
    LegalBasis,
    NoticeFormat,
    RequestKind,
    RequestStatus,
    Role,
    Sensitivity,
    Severity,
)
from schema.execution.batching import batched, batched_by_default, shared
from schema.notices import NoticeVersion
from schema.permissions import deny, hide

ASSESSMENTS_FIRST = 20  # a subcontractor assessed every year: twenty years of them


def _local(info: Info, instant: datetime | None) -> datetime | None:
    """A stored UTC instant shown in the business's time zone."""
    return None if instant is None else instant.astimezone(ZoneInfo(info.context.clock.timezone))


def _ja(english: str, *, many: bool = False) -> str:
    """The description of a text's Japanese version, which the notice in Japanese states
    (DESIGN.md "the notice")."""
    none = "empty" if many else "null"
    return f"The Japanese version of {english}, for the notice in Japanese ({none}: {english} stands in)."


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global ID; stable across restarts.")


@strawberry.interface(
    description="Anyone who handles personal data: the business itself, a subcontractor, a third-party recipient."
)
class Party:
    id: strawberry.ID
    name: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country where the party handles the data.")


@strawberry.type(description="Relay page information of a connection.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="The caller: the name and role of the token used.")
class Viewer:
    name: str = strawberry.field(description="The token's name; recorded as the actor of every write.")
    role: Role


@strawberry.type(description="A purpose of use of a business (seed section 2), numbered P1..")
class Purpose(Node):
    code: str
    ordinal: int
    title: str
    title_ja: str | None = strawberry.field(description=_ja("title"))
    description: str | None
    usable_after_cancellation: bool = strawberry.field(
        description="Still applies after the customer cancels (seed section 5)."
    )
    data_use: str | None = strawberry.field(description="fideslang data use key, e.g. marketing.communications.email.")
    effective_from: date = strawberry.field(description="The first day it permits use.")
    retired_on: date | None = strawberry.field(description="Once retired, it permits nothing after this day.")

    @classmethod
    def from_row(cls, row: models.Purpose) -> "Purpose":
        return cls(
            id=ids.encode("Purpose", row.id), code=row.code, ordinal=row.ordinal, title=row.title,
            title_ja=row.title_ja, description=row.description,
            usable_after_cancellation=row.usable_after_cancellation, data_use=row.data_use,
            effective_from=row.effective_from, retired_on=row.effective_until,
        )


@strawberry.type(description="A kind of personal data the business acquires (name, credit card number...).")
class DataItem(Node):
    code: str
    name: str
    name_ja: str | None = strawberry.field(description=_ja("name"))
    category: str | None = strawberry.field(description="fideslang data category key, e.g. user.financial.credit_card.")
    sensitivity: Sensitivity
    voluntary: bool = strawberry.field(description="A voluntary entry (seed section 11): held only when given.")
    property_damage_risk: bool = strawberry.field(
        description="Its leak risks property damage (PPC Rules Art. 7(ii)): a card number, bank credentials."
    )

    @classmethod
    def from_row(cls, row: models.DataItem) -> "DataItem":
        return cls(
            id=ids.encode("DataItem", row.id), code=row.code, name=row.name, name_ja=row.name_ja,
            category=row.category, sensitivity=row.sensitivity, voluntary=row.voluntary,
            property_damage_risk=row.property_damage_risk,
        )


def _purposes(rows) -> list[Purpose]:
    return [shared(r, Purpose.from_row) for r in rows]  # a data map names the same few thousands of times


def _items(rows) -> list[DataItem]:
    return [shared(r, DataItem.from_row) for r in rows]


@strawberry.type(description="A service line run by an operator; it owns its purposes, items, contracts and provisions.")
class Business(Node, Party):
    code: str
    operator_name: str
    activities: list[str] = strawberry.field(description="Business activities (seed section 1).")
    address: str | None = strawberry.field(description="Its address, stated with the representative (APPI Art. "
                                                       "32(1)(i)).")
    representative: str | None = strawberry.field(description="The name of its representative (Art. 32(1)(i)).")
    contact: str | None = strawberry.field(description="The desk for requests and complaints (seed section 12).")
    request_procedure: str | None = strawberry.field(
        description="How to make a request, and the fee (Art. 32(1)(iii), Art. 38).")
    security_measures: list[str] = strawberry.field(
        description="The security control measures taken (Art. 32(1)(iv)).")
    name_ja: str | None = strawberry.field(description=_ja("name"))
    operator_name_ja: str | None = strawberry.field(description=_ja("operatorName"))
    activities_ja: list[str] = strawberry.field(description=_ja("activities", many=True))
    address_ja: str | None = strawberry.field(description=_ja("address"))
    representative_ja: str | None = strawberry.field(description=_ja("representative"))
    contact_ja: str | None = strawberry.field(description=_ja("contact"))
    request_procedure_ja: str | None = strawberry.field(description=_ja("requestProcedure"))
    security_measures_ja: list[str] = strawberry.field(description=_ja("securityMeasures", many=True))
    _row: Private[models.Business]

    @classmethod
    def from_row(cls, row: models.Business) -> "Business":
        return cls(
            id=ids.encode("Business", row.id), code=row.code, name=row.name,
            operator_name=row.operator_name, country=row.country, activities=list(row.activities),
            address=row.address, representative=row.representative, contact=row.contact,
            request_procedure=row.request_procedure, security_measures=list(row.security_measures),
            name_ja=row.name_ja, operator_name_ja=row.operator_name_ja, activities_ja=list(row.activities_ja),
            address_ja=row.address_ja, representative_ja=row.representative_ja, contact_ja=row.contact_ja,
            request_procedure_ja=row.request_procedure_ja, security_measures_ja=list(row.security_measures_ja),
            _row=row,
        )

    @strawberry.field(description="Its purposes of use, in order; retired ones (retired before today) only with "
                                  "includeRetired.")
    async def purposes(self, info: Info, include_retired: bool | None = False) -> list[Purpose]:
        loaders = info.context.loaders
        found = loaders.purposes_of_business if include_retired else loaders.current_purposes_of_business
        return _purposes(await found.load(self._row.id))

    @strawberry.field(description="The kinds of personal data it acquires.")
    @batched("items_of_business", lambda rows: _items(rows))
    async def data_items(self, info: Info) -> list[DataItem]: ...

    @strawberry.field(description="Its joint uses (APPI Art. 27(5)(iii)) not ended before today, ones that begin "
                                  "later included; an ended one stays readable with node(id:).")
    @batched("current_joint_uses_of_business", lambda rows: [JointUse.from_row(r) for r in rows])
    async def joint_uses(self, info: Info) -> list["JointUse"]: ...


@strawberry.type(description="Joint use under APPI Art. 27(5)(iii): who uses which items together, for what, under "
                             "whose responsibility, for a period.")
class JointUse(Node):
    users: str = strawberry.field(description="The scope of the joint users.")
    responsible: str = strawberry.field(
        description="Name, address and representative of the person responsible for the data.")
    users_ja: str | None = strawberry.field(description=_ja("users"))
    responsible_ja: str | None = strawberry.field(description=_ja("responsible"))
    effective_from: date
    effective_until: date | None = strawberry.field(description="Its last day: ending it closes its period; it stays "
                                                                "for the past.")
    _row: Private[models.JointUse]

    @classmethod
    def from_row(cls, row: models.JointUse) -> "JointUse":
        return cls(id=ids.encode("JointUse", row.id), users=row.users, responsible=row.responsible,
                   users_ja=row.users_ja, responsible_ja=row.responsible_ja, effective_from=row.effective_from,
                   effective_until=row.effective_until, _row=row)

    @strawberry.field
    @batched("business", lambda row: Business.from_row(row), key=lambda obj: obj._row.business_id)
    async def business(self, info: Info) -> Business: ...

    @strawberry.field
    @batched("joint_use_links", lambda links: _items(links[1]))
    async def data_items(self, info: Info) -> list[DataItem]: ...

    @strawberry.field
    @batched("joint_use_links", lambda links: _purposes(links[0]))
    async def purposes(self, info: Info) -> list[Purpose]: ...


@strawberry.type(description="A subcontractor's system for managing personal data (seed section 9).")
class ManagementSystem:
    certifications: list[Certification]
    assessment_result: AssessmentResult = strawberry.field(description="Result of the latest assessment.")
    last_assessed_on: date | None
    next_assessment_due_on: date | None


@strawberry.type(description="One assessment of a subcontractor's management system (APPI Art. 25).")
class Assessment:
    result: AssessmentResult
    assessed_on: date
    next_due_on: date | None = strawberry.field(description="When it is to be assessed again; past it, OVERDUE.")
    note: str | None

    @classmethod
    def from_row(cls, row: models.Assessment) -> "Assessment":
        return cls(result=row.result, assessed_on=row.assessed_on, next_due_on=row.next_due_on, note=row.note)


@strawberry.type(description="An event of the audit trail: one successful write.")
class AuditEvent(Node):
    at: datetime
    actor: str = strawberry.field(description="The name of the token that wrote.")
    action: str
    entity_type: str
    entity_id: strawberry.ID = strawberry.field(description="Global ID of the entity written.")
    _row: Private[models.AuditEvent]

    @classmethod
    def from_row(cls, row: models.AuditEvent, info: Info) -> "AuditEvent":
        return cls(
            id=ids.encode("AuditEvent", row.id), at=_local(info, row.at), actor=row.actor, action=row.action,
            entity_type=row.entity_type, entity_id=ids.encode(row.entity_type, row.entity_id), _row=row,
        )

    @strawberry.field(description="JSON state before the write; personal data redacted for roles that may not see it.")
    def before(self, info: Info) -> str | None:
        return self._document(info, self._row.before)

    @strawberry.field(description="JSON state after the write; personal data redacted for roles that may not see it.")
    def after(self, info: Info) -> str | None:
        return self._document(info, self._row.after)

    def _document(self, info: Info, document: str | None) -> str | None:
        if info.context.caller and info.context.caller.can(Capability.READ_PERSONAL_DATA):
            return document
        return audit_log.redact(self._row.entity_type, document)


@strawberry.type(description="One AuditEvent of a page, with its cursor.")
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type(description="A page of audit events, newest first.")
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_page(cls, page, info: Info) -> "AuditEventConnection":
        edges = [AuditEventEdge(cursor=ids.encode_cursor(r.id), node=AuditEvent.from_row(r, info)) for r in page.items]
        return cls(edges=edges, page_info=_page_info(page, edges), total_count=page.total)


def _page_info(page, edges) -> PageInfo:
    return PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None)


@strawberry.type(description="A party entrusted with personal data under a contract (seed section 9).")
class Subcontractor(Node, Party):
    corporate_number: str | None = strawberry.field(
        description="Japanese 13-digit corporate number; its check digit is validated."
    )
    version: int = strawberry.field(description="Bumped by one on every write; send it back as expectedVersion.")
    foreign_transfer_basis: ForeignTransferBasis | None = strawberry.field(
        description="Its APPI Art. 28 basis; required when country is not JP, else it handles nothing.")
    _row: Private[models.Subcontractor]

    @classmethod
    def from_row(cls, row: models.Subcontractor) -> "Subcontractor":
        return cls(
            id=ids.encode("Subcontractor", row.id), name=row.name, country=row.country,
            corporate_number=row.corporate_number, version=row.version,
            foreign_transfer_basis=row.foreign_transfer_basis, _row=row,
        )

    @strawberry.field(description="The subcontractor that re-entrusted to this one; null when entrusted by the business.")
    @batched("subcontractor", lambda row: Subcontractor.from_row(row), key=lambda obj: obj._row.parent_id)
    async def parent(self, info: Info) -> "Subcontractor | None": ...

    @strawberry.field(description="Certifications and the latest assessment.")
    @batched("management_system", lambda system: ManagementSystem(
        certifications=list(system.certifications), assessment_result=system.assessment_result,
        last_assessed_on=system.last_assessed_on, next_assessment_due_on=system.next_assessment_due_on))
    async def management_system(self, info: Info) -> ManagementSystem: ...

    @strawberry.field(description="The subcontractors it re-entrusted to (those whose parent it is), by id.")
    @batched("children_of_subcontractor", lambda rows: [Subcontractor.from_row(r) for r in rows])
    async def children(self, info: Info) -> list["Subcontractor"]: ...

    @strawberry.field(description=f"Its assessments, newest first (the first is the one managementSystem reads); "
                                  f"first is 0..{subcontractors.MAX_ASSESSMENTS}.")
    async def assessments(self, info: Info, first: int | None = ASSESSMENTS_FIRST) -> list[Assessment]:
        size = ASSESSMENTS_FIRST if first is None else first
        if not 0 <= size <= subcontractors.MAX_ASSESSMENTS:
            raise bad_argument(f"first must be between 0 and {subcontractors.MAX_ASSESSMENTS}", "first")
        rows = await info.context.loaders.assessments_of_subcontractor.load((self._row.id, size))
        return [Assessment.from_row(r) for r in rows]

    @strawberry.field(description="Its contracts with any business.")
    @batched("contracts_of_subcontractor", lambda rows: [Contract.from_row(r) for r in rows])
    async def contracts(self, info: Info) -> list["Contract"]: ...

    @strawberry.field(description="Status of its current (latest effective) contract; null when it has none.")
    @batched("contract_status", lambda status: status)
    async def contract_status(self, info: Info) -> ContractStatus | None: ...

    @strawberry.field
    def created_at(self, info: Info) -> datetime:
        return _local(info, self._row.created_at)

    @strawberry.field
    def updated_at(self, info: Info) -> datetime:
        return _local(info, self._row.updated_at)

    @strawberry.field(description="Audit events of this subcontractor, newest first.",
                      extensions=deny(Capability.READ_HISTORY))
    async def history(self, info: Info, first: int | None = 50, after: str | None = None) -> AuditEventConnection:
        page = await audit_page(info, first=first, after=after, entity_type="Subcontractor", entity_id=self._row.id)
        return AuditEventConnection.from_page(page, info)


@strawberry.type(description="What a contract entrusts: purposes x data items, for a period.")
class Entrustment(Node):
    description: str | None
    effective_from: date
    effective_until: date | None = strawberry.field(
        description="Its last day: removing an entrustment closes its period; it stays for the past."
    )
    _row: Private[models.Entrustment]

    @classmethod
    def from_row(cls, row: models.Entrustment) -> "Entrustment":
        return cls(id=ids.encode("Entrustment", row.id), description=row.description,
                   effective_from=row.effective_from, effective_until=row.effective_until, _row=row)

    @strawberry.field
    @batched("contract", lambda row: Contract.from_row(row), key=lambda obj: obj._row.contract_id)
    async def contract(self, info: Info) -> "Contract": ...

    @strawberry.field
    @batched("entrustment_links", lambda links: _purposes(links[0]))
    async def purposes(self, info: Info) -> list[Purpose]: ...

    @strawberry.field
    @batched("entrustment_links", lambda links: _items(links[1]))
    async def data_items(self, info: Info) -> list[DataItem]: ...


@strawberry.type(description="One transition of a contract: the status it took and the day it took effect.")
class ContractStatusChange:
    status: ContractStatus
    effective_on: date
    at: datetime = strawberry.field(description="When the transition was recorded.")
    actor: str
    reason: str | None


@strawberry.type(description="A contract between a business and a subcontractor, with its lifecycle.")
class Contract(Node):
    reference: str
    signed_on: date | None
    effective_from: date
    expires_on: date
    clauses: list[ContractClause]
    version: int = strawberry.field(description="Bumped by one on every write, entrustments included.")
    data_returned_on: date | None = strawberry.field(
        description="When the subcontractor confirmed the data returned or deleted (recordDataReturn)."
    )
    _row: Private[models.Contract]

    @classmethod
    def from_row(cls, row: models.Contract) -> "Contract":
        return cls(
            id=ids.encode("Contract", row.id), reference=row.reference, signed_on=row.signed_on,
            effective_from=row.effective_from, expires_on=row.expires_on,
            clauses=[ContractClause(c) for c in row.clauses], version=row.version,
            data_returned_on=row.data_returned_on, _row=row,
        )

    @strawberry.field(description="The status on asOf (default today): that of the last transition on or before it, "
                                  "DRAFT before the first, EXPIRED once expiresOn has passed.")
    async def status(self, info: Info, as_of: date | None = None) -> ContractStatus:
        today = info.context.clock.today()
        if as_of is None or as_of == today:
            return contracts.effective_status(self._row, today)  # the stored status is today's
        changes = await info.context.loaders.status_history.load(self._row.id)
        return contract_status.status_on(self._row, changes, as_of)

    @strawberry.field(description="The statuses transitionContract may move it to from its stored status (the last "
                                  "transition's), in lifecycle order; an activation is still checked against every "
                                  "rule when asked.")
    def allowed_transitions(self) -> list[ContractStatus]:
        return contracts.next_statuses(self._row)

    @strawberry.field(description="Every transition, oldest first.")
    async def status_history(self, info: Info) -> list[ContractStatusChange]:
        changes = await info.context.loaders.status_history.load(self._row.id)
        return [ContractStatusChange(status=c.status, effective_on=c.effective_on, at=_local(info, c.at),
                                     actor=c.actor, reason=c.reason) for c in changes]

    @strawberry.field
    @batched("subcontractor", lambda row: Subcontractor.from_row(row), key=lambda obj: obj._row.subcontractor_id)
    async def subcontractor(self, info: Info) -> Subcontractor: ...

    @strawberry.field
    @batched("business", lambda row: Business.from_row(row), key=lambda obj: obj._row.business_id)
    async def business(self, info: Info) -> Business: ...

    @strawberry.field(description="Its entrustments in effect on asOf; without asOf, those not ended (ones that begin "
                                  "later included); with includeEnded, all of them.")
    @batched_by_default("current_entrustments_of_contract", lambda rows: [Entrustment.from_row(r) for r in rows])
    async def entrustments(self, info: Info, as_of: date | None = None,
                           include_ended: bool | None = False) -> list[Entrustment]:
        loaders = info.context.loaders
        if include_ended:
            rows = await loaders.entrustments_of_contract.load(self._row.id)
        elif as_of is not None:
            rows = await loaders.entrustments_of_contract_on.load((self._row.id, as_of))
        else:
            rows = await loaders.current_entrustments_of_contract.load(self._row.id)
        return [Entrustment.from_row(r) for r in rows]


@strawberry.type(description="A recipient of personal data provided by the business (seed section 7).")
class ThirdPartyRecipient(Node, Party):
    name_ja: str | None = strawberry.field(description=_ja("name"))
    kind: str
    foreign_transfer_basis: ForeignTransferBasis | None = strawberry.field(
        description="Its APPI Art. 28 basis; required when country is not JP, else it receives nothing.")
    _row: Private[models.ThirdPartyRecipient]

    @classmethod
    def from_row(cls, row: models.ThirdPartyRecipient) -> "ThirdPartyRecipient":
        return cls(id=ids.encode("ThirdPartyRecipient", row.id), name=row.name, name_ja=row.name_ja,
                   country=row.country, kind=row.kind, foreign_transfer_basis=row.foreign_transfer_basis, _row=row)

    @strawberry.field
    @batched("provisions_of_recipient", lambda rows: [Provision.from_row(r) for r in rows])
    async def provisions(self, info: Info) -> list["Provision"]: ...


@strawberry.type(description="Which items a business provides to a recipient, for which purposes, on which basis, "
                             "for a period.")
class Provision(Node):
    legal_basis: LegalBasis
    stated_purpose: str | None = strawberry.field(description="What it is for, in the notice's words (seed section 7).")
    stated_purpose_ja: str | None = strawberry.field(description=_ja("statedPurpose"))
    method: str | None = strawberry.field(
        description="How the data is provided; the notice states it for an OPT_OUT provision (APPI Art. 27(2)(v)).")
    method_ja: str | None = strawberry.field(description=_ja("method"))
    effective_from: date
    effective_until: date | None = strawberry.field(description="Its last day; null while it goes on.")
    ppc_notified_on: date | None = strawberry.field(
        description="OPT_OUT only: when the PPC was notified (APPI Art. 27(2)), on or before effectiveFrom.")
    _row: Private[models.Provision]

    @classmethod
    def from_row(cls, row: models.Provision) -> "Provision":
        return cls(id=ids.encode("Provision", row.id), legal_basis=row.legal_basis, stated_purpose=row.stated_purpose,
                   stated_purpose_ja=row.stated_purpose_ja, method=row.method, method_ja=row.method_ja,
                   effective_from=row.effective_from,
                   effective_until=row.effective_until, ppc_notified_on=row.ppc_notified_on, _row=row)

    @strawberry.field(description="In effect today (its period holds today).")
    def active(self, info: Info) -> bool:
        return Period.of(self._row).holds_on(info.context.clock.today())

    @strawberry.field
    @batched("recipient", lambda row: ThirdPartyRecipient.from_row(row), key=lambda obj: obj._row.recipient_id)
    async def recipient(self, info: Info) -> ThirdPartyRecipient: ...

    @strawberry.field
    @batched("business", lambda row: Business.from_row(row), key=lambda obj: obj._row.business_id)
    async def business(self, info: Info) -> Business: ...

    @strawberry.field
    @batched("provision_links", lambda links: _items(links[1]))
    async def data_items(self, info: Info) -> list[DataItem]: ...

    @strawberry.field
    @batched("provision_links", lambda links: _purposes(links[0]))
    async def purposes(self, info: Info) -> list[Purpose]: ...


@strawberry.type(description="The APPI Art. 29 record of one provision, kept until retainUntil (3 years).")
class ProvisionRecord(Node):
    provided_on: date
    retain_until: date
    _row: Private[models.ProvisionRecord]

    @classmethod
    def from_row(cls, row: models.ProvisionRecord) -> "ProvisionRecord":
        return cls(id=ids.encode("ProvisionRecord", row.id), provided_on=row.provided_on,
                   retain_until=row.retain_until, _row=row)

    @strawberry.field
    @batched("provision", lambda row: Provision.from_row(row), key=lambda obj: obj._row.provision_id)
    async def provision(self, info: Info) -> Provision: ...

    @strawberry.field
    @batched("customer", lambda row: Customer.from_row(row), key=lambda obj: obj._row.customer_id)
    async def customer(self, info: Info) -> "Customer": ...

    @strawberry.field
    @batched("record_items", lambda rows: _items(rows))
    async def data_items(self, info: Info) -> list[DataItem]: ...


@strawberry.type(description="A customer's request about their personal data (seed sections 8 and 10).")
class DataSubjectRequest(Node):
    kind: RequestKind
    status: RequestStatus
    due_on: date = strawberry.field(description="Receipt date plus the configured number of days (APPI: without delay).")
    _row: Private[models.DataSubjectRequest]

    @classmethod
    def from_row(cls, row: models.DataSubjectRequest) -> "DataSubjectRequest":
        return cls(id=ids.encode("DataSubjectRequest", row.id), kind=row.kind, status=row.status,
                   due_on=row.due_on, _row=row)

    @strawberry.field(description="Free text that often names the customer: personal data, null unless the viewer "
                                  "is PRIVACY_OFFICER or ADMIN; erased by a completed DELETION.",
                      extensions=hide(Capability.READ_PERSONAL_DATA))
    def note(self) -> str | None:
        return self._row.note

    @strawberry.field
    @batched("customer", lambda row: Customer.from_row(row), key=lambda obj: obj._row.customer_id)
    async def customer(self, info: Info) -> "Customer": ...

    @strawberry.field
    def received_at(self, info: Info) -> datetime:
        return _local(info, self._row.received_at)

    @strawberry.field(description="When the request was completed or rejected; it takes effect from that date.")
    def resolved_at(self, info: Info) -> datetime | None:
        return _local(info, self._row.resolved_at)

    async def _named(self, info: Info, scope: RequestScope) -> list[int]:
        targets = await info.context.loaders.request_targets.load(self._row.id)
        return [t.target_id for t in targets if t.scope == scope]

    async def _items_named(self, info: Info, scope: RequestScope) -> list[DataItem]:
        found = await info.context.loaders.data_item.load_many(await self._named(info, scope))
        return _items(row for row in found if row is not None)

    @strawberry.field(description="STOP_USE: the purposes it stops (empty: all).")
    async def purposes(self, info: Info) -> list[Purpose]:
        found = await info.context.loaders.purpose.load_many(await self._named(info, RequestScope.PURPOSE))
        return _purposes(row for row in found if row is not None)

    @strawberry.field(description="DELETION: the items it deletes (empty: all).")
    async def data_items(self, info: Info) -> list[DataItem]:
        return await self._items_named(info, RequestScope.DATA_ITEM)

    @strawberry.field(description="STOP_THIRD_PARTY_PROVISION: the recipients it names (empty: all).")
    async def recipients(self, info: Info) -> list[ThirdPartyRecipient]:
        found = await info.context.loaders.recipient.load_many(await self._named(info, RequestScope.RECIPIENT))
        return [ThirdPartyRecipient.from_row(row) for row in found if row is not None]

    @strawberry.field(description="CORRECTION: the items it adds.")
    async def add_data_items(self, info: Info) -> list[DataItem]:
        return await self._items_named(info, RequestScope.ADD_DATA_ITEM)

    @strawberry.field(description="CORRECTION: the items it removes.")
    async def remove_data_items(self, info: Info) -> list[DataItem]:
        return await self._items_named(info, RequestScope.REMOVE_DATA_ITEM)


@strawberry.type(description="Who handles which of a customer's data items, for which purposes, and on what footing.")
class Handling:
    party: Party
    role: HandlingRole
    data_items: list[DataItem]
    purposes: list[Purpose]
    contract: Contract | None = strawberry.field(description="Set for SUBCONTRACTOR.")
    provision: Provision | None = strawberry.field(description="Set for THIRD_PARTY.")
    chain: list[Subcontractor] = strawberry.field(
        description="For a re-entrusted subcontractor: its entrusting parents, nearest first."
    )
    excluded: bool
    exclusion_reasons: list[ExclusionReason]

    @classmethod
    def from_result(cls, h: handling.Handling) -> "Handling":
        return cls(
            party=shared(h.party, party_of), role=h.role,
            data_items=[shared(i, DataItem.from_row) for i in h.data_items],
            purposes=[shared(p, Purpose.from_row) for p in h.purposes],
            contract=shared(h.contract, Contract.from_row) if h.contract else None,
            provision=shared(h.provision, Provision.from_row) if h.provision else None,
            chain=[shared(s, Subcontractor.from_row) for s in h.chain], excluded=h.excluded,
            exclusion_reasons=list(h.exclusion_reasons),
        )


# The types whose completed answers the fast executor (schema/execution) reuses across operations: their objects
# are built by `shared` from rows of the per-version business context, and an answer under
# them may depend on nothing but the object, the selection's variables, the caller's role and
# the business date (schema/execution keys shared answers by those). A field under them that
# reads more of its context (the caller's name, the request, the time of day) would hand one
# caller's answer to another: tests/schema/test_fast.py runs every field under these types
# with a context that refuses anything else.
SHARED_TYPES = frozenset({"Handling"})


@strawberry.type(description="A period in which an item was held for a customer.")
class HeldItem:
    data_item: DataItem
    held_from: date
    held_until: date | None = strawberry.field(description="The last day it was held; null while it is.")


@strawberry.type(description="A data subject: a customer of a business.")
class Customer(Node):
    external_ref: str = strawberry.field(description="The business's own reference for the customer.")
    cancelled_on: date | None = strawberry.field(description="The first day cancelled; it may lie ahead (scheduled).")
    registered_on: date = strawberry.field(description="Before this day nobody handles the customer's data.")
    _row: Private[models.Customer]

    @classmethod
    def from_row(cls, row: models.Customer) -> "Customer":
        return cls(id=ids.encode("Customer", row.id), external_ref=row.external_ref,
                   cancelled_on=row.cancelled_on, registered_on=row.registered_on, _row=row)

    @strawberry.field(description="The status on asOf (default today): CANCELLED only from cancelledOn.")
    def status(self, info: Info, as_of: date | None = None) -> CustomerStatus:
        return customers.status_on(self._row, as_of or info.context.clock.today())

    @strawberry.field(description="Personal data: null unless the viewer is PRIVACY_OFFICER or ADMIN.",
                      extensions=hide(Capability.READ_PERSONAL_DATA))
    def display_name(self) -> str | None:
        return self._row.display_name

    @strawberry.field(description="Personal data: null unless the viewer is PRIVACY_OFFICER or ADMIN.",
                      extensions=hide(Capability.READ_PERSONAL_DATA))
    def email(self) -> str | None:
        return self._row.email

    @strawberry.field
    @batched("business", lambda row: Business.from_row(row), key=lambda obj: obj._row.business_id)
    async def business(self, info: Info) -> Business: ...

    @strawberry.field(description="The published notice in force on registeredOn (the latest version published on "
                                  "or before it): what the customer was told when registering. Null when none "
                                  "was published by then.")
    async def notice_at_registration(self, info: Info) -> NoticeVersion | None:
        row = self._row
        publication = await info.context.loaders.notice_in_force.load((row.business_id, row.registered_on))
        if publication is None:
            return None
        business = await info.context.loaders.business.load(row.business_id)
        return NoticeVersion.from_publication(business.code, publication)

    @strawberry.field(description="The items held for this customer on asOf (default today).")
    async def data_items(self, info: Info, as_of: date | None = None) -> list[DataItem]:
        day = as_of or info.context.clock.today()
        return _items(await info.context.loaders.held_items.load((self._row.id, day)))

    @strawberry.field(description="Every period in which an item was held, oldest first.")
    async def item_history(self, info: Info) -> list[HeldItem]:
        periods = await info.context.loaders.item_history.load(self._row.id)
        return [HeldItem(data_item=shared(item, DataItem.from_row), held_from=period.effective_from,
                         held_until=period.effective_until) for period, item in periods]

    @strawberry.field(description="Who handles this customer's data on `asOf` (default today in the business's time zone).")
    async def handlings(
        self, info: Info, as_of: date | None = None, include_excluded: bool | None = False
    ) -> list[Handling]:
        key = (self._row.id, as_of or info.context.clock.today(), bool(include_excluded))
        results = await info.context.loaders.handlings.load(key)  # a page's customers in one resolution
        return [shared(h, Handling.from_result) for h in results]  # derived handlings are shared too

    @strawberry.field
    @batched("requests_of_customer", lambda rows: [DataSubjectRequest.from_row(r) for r in rows])
    async def requests(self, info: Info) -> list[DataSubjectRequest]: ...

    @strawberry.field(description="The answer to the customer's disclosure request on `asOf` (default today): data "
                                  "held, who handles it, provision records (APPI Art. 33 and 33(5)), requests. "
                                  "Personal data: null unless the viewer is PRIVACY_OFFICER or ADMIN.",
                      extensions=hide(Capability.READ_PERSONAL_DATA))
    async def disclosure(
        self, info: Info, as_of: date | None = None, format: NoticeFormat | None = NoticeFormat.MARKDOWN
    ) -> str | None:
        day = as_of or info.context.clock.today()
        fmt = (format or NoticeFormat.MARKDOWN).value.lower()
        return await info.context.run(render_disclosure, self._row.id, as_of=day, fmt=fmt)

    @strawberry.field(description="APPI Art. 29 records of provisions of this customer's data.")
    @batched("records_of_customer", lambda rows: [ProvisionRecord.from_row(r) for r in rows])
    async def provision_records(self, info: Info) -> list[ProvisionRecord]: ...


@strawberry.type(description="Something in the registry that needs attention, and what to do about it.")
class Finding:
    code: str = strawberry.field(description="Stable code, e.g. CONTRACT_EXPIRING_SOON, ASSESSMENT_OVERDUE.")
    severity: Severity
    subject: Node | None = strawberry.field(description="The contract, subcontractor, request, provision or business concerned.")
    message: str = strawberry.field(description="What is wrong and what to do.")


@strawberry.type(description="Whose data a party's breach would touch, and whether APPI Art. 26 makes it reportable.")
class BreachImpact:
    party: Party
    data_items: list[DataItem]
    affected_customers: int = strawberry.field(
        description="Customers whose items the party holds, whatever the use limits (data under STOP_USE is still held)."
    )
    customers_in_use: int = strawberry.field(description="Of those, the ones whose data it still uses.")
    reportable: bool = strawberry.field(description="APPI Art. 26 report to the regulator is required.")
    reasons: list[str] = strawberry.field(description="Each names its rule, e.g. \"PPC Rules Art. 7(iii): malicious act\".")
    cause: BreachCause
    discovered_on: date | None = strawberry.field(description="The day the breach was found, as given.")
    preliminary_report_due_on: date | None = strawberry.field(
        description="Within 5 days of discoveredOn; set when reportable and discoveredOn is given."
    )
    final_report_due_on: date | None = strawberry.field(
        description="Within 30 days of discoveredOn, 60 for a malicious cause; set when reportable and discoveredOn is "
        "given."
    )

    @classmethod
    def from_impact(cls, impact) -> "BreachImpact":
        return cls(
            party=party_of(impact.party), data_items=_items(impact.data_items),
            affected_customers=impact.affected_customers, customers_in_use=impact.customers_in_use,
            reportable=impact.reportable, reasons=list(impact.reasons), cause=impact.cause,
            discovered_on=impact.discovered_on, preliminary_report_due_on=impact.preliminary_report_due_on,
            final_report_due_on=impact.final_report_due_on,
        )


@strawberry.type(description="One Subcontractor of a page, with its cursor.")
class SubcontractorEdge:
    cursor: str
    node: Subcontractor


@strawberry.type(description="A page of subcontractors.")
class SubcontractorConnection:
    edges: list[SubcontractorEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_page(cls, page) -> "SubcontractorConnection":
        edges = [SubcontractorEdge(cursor=ids.encode_cursor(r.id), node=Subcontractor.from_row(r)) for r in page.items]
        return cls(edges=edges, page_info=_page_info(page, edges), total_count=page.total)


@strawberry.type(description="One Customer of a page, with its cursor.")
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type(description="A page of customers.")
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_page(cls, page) -> "CustomerConnection":
        edges = [CustomerEdge(cursor=ids.encode_cursor(r.id), node=Customer.from_row(r)) for r in page.items]
        return cls(edges=edges, page_info=_page_info(page, edges), total_count=page.total)


_NODE_TYPES: dict[type, Any] = {
    models.Business: Business, models.Purpose: Purpose, models.DataItem: DataItem,
    models.Subcontractor: Subcontractor, models.Contract: Contract, models.Entrustment: Entrustment,
    models.ThirdPartyRecipient: ThirdPartyRecipient, models.Provision: Provision,
    models.ProvisionRecord: ProvisionRecord, models.Customer: Customer,
    models.DataSubjectRequest: DataSubjectRequest, models.JointUse: JointUse,
}
MODELS_BY_NAME = {model.__name__: model for model in _NODE_TYPES} | {"AuditEvent": models.AuditEvent}


def node_of(row: Any, info: Info) -> Node:
    """The GraphQL object for any registry row that is a Node."""
    if isinstance(row, models.AuditEvent):
        return AuditEvent.from_row(row, info)
    return _NODE_TYPES[type(row)].from_row(row)


def party_of(row: Any) -> Party:
    return _NODE_TYPES[type(row)].from_row(row)
