"""Every table of the registry.

Identifiers are integer keys; the GraphQL layer turns them into opaque global IDs.
Enums are stored as short strings (not native database enums) so that adding a value
is a code change, not a migration. Timestamps are stored in UTC and always read back
timezone-aware; calendar dates are dates in the business's time zone.
"""

from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.enums import (
    AssessmentResult,
    ContractStatus,
    ForeignTransferBasis,
    LegalBasis,
    RequestKind,
    RequestScope,
    RequestStatus,
    Role,
    Sensitivity,
)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as UTC and read back aware, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: registry timestamps must carry a timezone")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# Named constraints, so later migrations (SQLite batch mode included) can drop and alter them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _enum(enum_cls) -> sa.Enum:
    return sa.Enum(enum_cls, native_enum=False, length=32, validate_strings=True)


def _stamp(**kw):
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, **kw)


def _fk(target: str, *, nullable: bool = False, index: bool = True, ondelete: str | None = None):
    return Field(
        default=None if nullable else ...,
        sa_column_args=[sa.ForeignKey(target, ondelete=ondelete)],
        sa_type=sa.Integer,
        nullable=nullable,
        index=index,
    )


def _json_list():
    return Field(default_factory=list, sa_type=sa.JSON, nullable=False)


class Valid(SQLModel):
    """A fact's period of valid time (registry/periods.py): from its first day to its last,
    inclusive; `effective_until` NULL while it holds."""

    effective_from: date
    effective_until: date | None = None


# --- The business and what it owns -------------------------------------------------


class Business(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    operator_name: str = Field(max_length=200)
    country: str = Field(max_length=2)
    activities: list[str] = _json_list()
    contact: str | None = Field(default=None, max_length=500)  # seed §12
    # the facts APPI Art. 32(1) asks the notice to state
    address: str | None = Field(default=None, max_length=500)  # (i) with the representative
    representative: str | None = Field(default=None, max_length=200)
    request_procedure: str | None = Field(default=None, max_length=4000)  # (iii), with the fee (Art. 38)
    security_measures: list[str] = _json_list()  # (iv)
    # the same texts in Japanese, for the notice in Japanese (None or []: the English one stands in)
    name_ja: str | None = Field(default=None, max_length=200)
    operator_name_ja: str | None = Field(default=None, max_length=200)
    activities_ja: list[str] = _json_list()
    contact_ja: str | None = Field(default=None, max_length=500)
    address_ja: str | None = Field(default=None, max_length=500)
    representative_ja: str | None = Field(default=None, max_length=200)
    request_procedure_ja: str | None = Field(default=None, max_length=4000)
    security_measures_ja: list[str] = _json_list()
    created_at: datetime = _stamp()


class Purpose(Valid, table=True):
    """A purpose of use (seed §2), numbered P1.. within its business; once retired
    (`effective_until`, the API's `retiredOn`) it permits nothing after that day."""

    __table_args__ = (sa.UniqueConstraint("business_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    business_id: int = _fk("business.id")
    code: str = Field(max_length=32)
    ordinal: int
    title: str = Field(max_length=500)
    title_ja: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=2000)
    usable_after_cancellation: bool = False  # seed §5
    data_use: str | None = Field(default=None, max_length=200)  # fideslang data use key


class DataItem(SQLModel, table=True):
    __tablename__ = "data_item"
    __table_args__ = (sa.UniqueConstraint("business_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    business_id: int = _fk("business.id")
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    name_ja: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)  # fideslang data category key
    sensitivity: Sensitivity = Field(default=Sensitivity.ORDINARY, sa_type=_enum(Sensitivity))
    voluntary: bool = False  # seed §11
    property_damage_risk: bool = False  # its leak risks property damage (PPC Rules Art. 7(ii))


# --- Customers (the data subjects) ---------------------------------------------------


class Customer(SQLModel, table=True):
    """A data subject, from `registered_on`; CANCELLED from `cancelled_on` on (which may lie
    ahead: a scheduled cancellation), so the status is read for a day, never stored."""

    __table_args__ = (
        sa.UniqueConstraint("business_id", "external_ref"),
        sa.Index("ix_customer_business_cancelled", "business_id", "cancelled_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    business_id: int = _fk("business.id", index=False)
    external_ref: str = Field(max_length=100)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    registered_on: date
    cancelled_on: date | None = None
    version: int = 1
    created_at: datetime = _stamp()
    updated_at: datetime = _stamp()


class CustomerDataItem(Valid, table=True):
    """A period in which a data item was held for a customer (a voluntary item not given is
    not held). Giving it opens one, withdrawing it or a completed DELETION closes it."""

    __tablename__ = "customer_data_item"
    __table_args__ = (
        sa.Index("ix_customer_data_item_customer", "customer_id", "data_item_id", "effective_from"),
        sa.Index("ix_customer_data_item_item", "data_item_id", "customer_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(sa_column_args=[sa.ForeignKey("customer.id", ondelete="CASCADE")])
    data_item_id: int = Field(sa_column_args=[sa.ForeignKey("data_item.id")])


# --- Subcontractors (entrusted parties, seed §9) -------------------------------------


class Subcontractor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    country: str = Field(max_length=2)
    corporate_number: str | None = Field(default=None, max_length=13)
    parent_id: int | None = _fk("subcontractor.id", nullable=True)
    certifications: list[str] = _json_list()
    foreign_transfer_basis: ForeignTransferBasis | None = Field(
        default=None, sa_type=_enum(ForeignTransferBasis), nullable=True)  # APPI Art. 28, outside Japan
    version: int = 1
    created_at: datetime = _stamp()
    updated_at: datetime = _stamp()


class Assessment(SQLModel, table=True):
    """One assessment of a subcontractor's management system; the latest `assessed_on` counts."""

    __table_args__ = (sa.Index("ix_assessment_latest", "subcontractor_id", "assessed_on"),)
    id: int | None = Field(default=None, primary_key=True)
    subcontractor_id: int = _fk("subcontractor.id", index=False)
    result: AssessmentResult = Field(sa_type=_enum(AssessmentResult))
    assessed_on: date
    next_due_on: date | None = None
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _stamp()


class Contract(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("business_id", "reference"),)
    id: int | None = Field(default=None, primary_key=True)
    business_id: int = _fk("business.id")
    subcontractor_id: int = _fk("subcontractor.id")
    reference: str = Field(max_length=100)
    status: ContractStatus = Field(default=ContractStatus.DRAFT, sa_type=_enum(ContractStatus))
    signed_on: date | None = None
    effective_from: date
    expires_on: date
    clauses: list[str] = _json_list()
    data_returned_on: date | None = None  # the subcontractor confirmed the data returned or deleted
    version: int = 1
    created_at: datetime = _stamp()
    updated_at: datetime = _stamp()


class ContractStatusChange(SQLModel, table=True):
    """One transition of a contract, dated by the day it takes effect: the status on a day is
    that of the last change on or before it (DRAFT before the first)."""

    __tablename__ = "contract_status_change"
    __table_args__ = (sa.Index("ix_contract_status_change_contract", "contract_id", "effective_on", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = _fk("contract.id", index=False, ondelete="CASCADE")
    status: ContractStatus = Field(sa_type=_enum(ContractStatus))
    effective_on: date
    at: datetime = _stamp()
    actor: str = Field(max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class Entrustment(Valid, table=True):
    """What a contract entrusts: purposes x data items, for a period; removing it closes the
    period and keeps the row, so the past still answers."""

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = _fk("contract.id", ondelete="CASCADE")
    description: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _stamp()


class EntrustmentPurpose(SQLModel, table=True):
    __tablename__ = "entrustment_purpose"
    entrustment_id: int = Field(
        sa_column_args=[sa.ForeignKey("entrustment.id", ondelete="CASCADE")], primary_key=True
    )
    purpose_id: int = Field(sa_column_args=[sa.ForeignKey("purpose.id")], primary_key=True)


class EntrustmentDataItem(SQLModel, table=True):
    __tablename__ = "entrustment_data_item"
    entrustment_id: int = Field(
        sa_column_args=[sa.ForeignKey("entrustment.id", ondelete="CASCADE")], primary_key=True
    )
    data_item_id: int = Field(sa_column_args=[sa.ForeignKey("data_item.id")], primary_key=True)


# --- Third parties (seed §7, APPI Art. 27-29) -----------------------------------------


class ThirdPartyRecipient(SQLModel, table=True):
    __tablename__ = "third_party_recipient"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_ja: str | None = Field(default=None, max_length=200)
    country: str = Field(max_length=2)
    kind: str = Field(max_length=100)
    foreign_transfer_basis: ForeignTransferBasis | None = Field(
        default=None, sa_type=_enum(ForeignTransferBasis), nullable=True)  # APPI Art. 28, outside Japan


class PartyJurisdiction(Valid, table=True):
    """Where a subcontractor or a third-party recipient is (ISO 3166-1 alpha-2) and, outside
    Japan, its APPI Art. 28 basis, for a period: both decide whether it may handle the data
    (registry/jurisdictions.py). The party's own `country` and `foreign_transfer_basis` are the
    values of its open period, which holds today and on."""

    __tablename__ = "party_jurisdiction"
    __table_args__ = (
        sa.CheckConstraint("(subcontractor_id IS NULL) <> (recipient_id IS NULL)", name="one_party"),
        sa.Index("ix_party_jurisdiction_subcontractor", "subcontractor_id", "effective_from"),
        sa.Index("ix_party_jurisdiction_recipient", "recipient_id", "effective_from"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subcontractor_id: int | None = _fk("subcontractor.id", nullable=True, index=False, ondelete="CASCADE")
    recipient_id: int | None = _fk("third_party_recipient.id", nullable=True, index=False, ondelete="CASCADE")
    country: str = Field(max_length=2)
    foreign_transfer_basis: ForeignTransferBasis | None = Field(
        default=None, sa_type=_enum(ForeignTransferBasis), nullable=True)


class Provision(Valid, table=True):
    """A provision to a third party for a period; it is active on the days its period holds.
    An OPT_OUT one (Art. 27(2)) carries the day the PPC was notified."""

    id: int | None = Field(default=None, primary_key=True)
    business_id: int = _fk("business.id")
    recipient_id: int = _fk("third_party_recipient.id")
    legal_basis: LegalBasis = Field(sa_type=_enum(LegalBasis))
    # what the data is provided for, in the notice's words (seed §7: "for billing purposes...")
    stated_purpose: str | None = Field(default=None, max_length=500)
    stated_purpose_ja: str | None = Field(default=None, max_length=500)
    # how the data is provided (by file transfer, on paper...): the notice states it for an
    # OPT_OUT provision (Art. 27(2)(v))
    method: str | None = Field(default=None, max_length=500)
    method_ja: str | None = Field(default=None, max_length=500)
    ppc_notified_on: date | None = None


class ProvisionPurpose(SQLModel, table=True):
    __tablename__ = "provision_purpose"
    provision_id: int = Field(
        sa_column_args=[sa.ForeignKey("provision.id", ondelete="CASCADE")], primary_key=True
    )
    purpose_id: int = Field(sa_column_args=[sa.ForeignKey("purpose.id")], primary_key=True)


class ProvisionDataItem(SQLModel, table=True):
    __tablename__ = "provision_data_item"
    provision_id: int = Field(
        sa_column_args=[sa.ForeignKey("provision.id", ondelete="CASCADE")], primary_key=True
    )
    data_item_id: int = Field(sa_column_args=[sa.ForeignKey("data_item.id")], primary_key=True)


class ProvisionRecord(SQLModel, table=True):
    """The APPI Art. 29 record of one provision, kept until `retain_until`."""

    __tablename__ = "provision_record"
    __table_args__ = (sa.Index("ix_provision_record_provided", "provision_id", "provided_on"),)
    id: int | None = Field(default=None, primary_key=True)
    provision_id: int = _fk("provision.id", index=False)
    customer_id: int = _fk("customer.id")
    provided_on: date
    retain_until: date = Field(index=True)
    created_at: datetime = _stamp()


class ProvisionRecordDataItem(SQLModel, table=True):
    __tablename__ = "provision_record_data_item"
    record_id: int = Field(
        sa_column_args=[sa.ForeignKey("provision_record.id", ondelete="CASCADE")],
        primary_key=True,
    )
    data_item_id: int = Field(sa_column_args=[sa.ForeignKey("data_item.id")], primary_key=True)


class JointUse(Valid, table=True):
    """Joint use (APPI Art. 27(5)(iii), seed §6): who uses which of the business's items together,
    for which purposes, under whose responsibility, for a period; ending it keeps the row."""

    __tablename__ = "joint_use"
    id: int | None = Field(default=None, primary_key=True)
    business_id: int = _fk("business.id")
    users: str = Field(max_length=1000)  # the scope of the joint users
    responsible: str = Field(max_length=1000)  # name, address and representative of the one responsible
    users_ja: str | None = Field(default=None, max_length=1000)
    responsible_ja: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _stamp()


class NoticeVersion(SQLModel, table=True):
    """A published privacy notice: the text as rendered on the day, in one language, kept so the
    business can show what a customer was told (APPI Art. 32). Versions number 1.. per business;
    one publication stores a row per language under the same number."""

    __tablename__ = "notice_version"
    __table_args__ = (sa.UniqueConstraint("business_id", "version", "lang"),)
    id: int | None = Field(default=None, primary_key=True)
    business_id: int = _fk("business.id", index=False)
    version: int
    lang: str = Field(max_length=8)  # "en" or "ja"
    published_on: date
    published_at: datetime = _stamp()
    published_by: str = Field(max_length=200)
    content_hash: str = Field(max_length=64)  # sha256 of `markdown`, hex
    markdown: str = Field(sa_type=sa.Text)
    html: str = Field(sa_type=sa.Text)


class JointUsePurpose(SQLModel, table=True):
    __tablename__ = "joint_use_purpose"
    joint_use_id: int = Field(
        sa_column_args=[sa.ForeignKey("joint_use.id", ondelete="CASCADE")], primary_key=True
    )
    purpose_id: int = Field(sa_column_args=[sa.ForeignKey("purpose.id")], primary_key=True)


class JointUseDataItem(SQLModel, table=True):
    __tablename__ = "joint_use_data_item"
    joint_use_id: int = Field(
        sa_column_args=[sa.ForeignKey("joint_use.id", ondelete="CASCADE")], primary_key=True
    )
    data_item_id: int = Field(sa_column_args=[sa.ForeignKey("data_item.id")], primary_key=True)


# --- Data-subject requests (seed §8, §10) ---------------------------------------------


class DataSubjectRequest(SQLModel, table=True):
    __tablename__ = "data_subject_request"
    __table_args__ = (sa.Index("ix_request_customer_kind", "customer_id", "kind", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = _fk("customer.id", index=False)
    kind: RequestKind = Field(sa_type=_enum(RequestKind))
    status: RequestStatus = Field(default=RequestStatus.RECEIVED, sa_type=_enum(RequestStatus))
    detail: str | None = Field(default=None, max_length=4000)
    received_at: datetime = _stamp()
    due_on: date
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_on: date | None = None  # resolved_at as a date in the business's time zone
    note: str | None = Field(default=None, max_length=4000)
    version: int = 1


class RequestTarget(SQLModel, table=True):
    """What a scoped request names (RequestScope): a purpose, data item or recipient by id."""

    __tablename__ = "request_target"
    request_id: int = Field(
        sa_column_args=[sa.ForeignKey("data_subject_request.id", ondelete="CASCADE")], primary_key=True
    )
    scope: RequestScope = Field(sa_type=_enum(RequestScope), primary_key=True)
    target_id: int = Field(primary_key=True)


# --- Audit and access -----------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """One successful write. Append-only: nothing updates or deletes these rows, except the
    redaction of a customer's personal fields when their DELETION completes (migration 0005)."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_entity", "entity_type", "entity_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _stamp()
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=64)
    entity_id: int
    before: str | None = Field(default=None, sa_type=sa.Text)  # JSON document
    after: str | None = Field(default=None, sa_type=sa.Text)  # JSON document


class ApiToken(SQLModel, table=True):
    """A bearer token; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: Role = Field(sa_type=_enum(Role))
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _stamp()
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- The registry version (issue 7) ---------------------------------------------------


class RegistryVersion(SQLModel, table=True):
    """One row whose `version` every committed write raises by one (registry/version.py).

    Every cache of registry data keys on it, so that a write through any worker or host
    invalidates every process's cache with nothing to broadcast.
    """

    __tablename__ = "registry_version"
    __table_args__ = (sa.CheckConstraint("id = 1", name="one_row"),)
    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = Field(default=0, sa_type=sa.BigInteger)


# The row exists from the table's creation on (migration 0004 inserts it the same way):
# a bump that found no row would leave every cache holding stale answers.
sa.event.listen(
    RegistryVersion.__table__, "after_create",
    sa.DDL("INSERT INTO registry_version (id, version) VALUES (1, 0)"),
)


metadata = SQLModel.metadata
