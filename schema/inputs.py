"""Input types of the contract's filters and mutations."""

from datetime import date

import strawberry

from schema.enums import AssessmentResult, Certification, ContractClause, ContractStatus, CustomerStatus, RequestKind, RequestStatus


@strawberry.input(description="Narrows `subcontractors`; every field given must match.")
class SubcontractorFilter:
    name_contains: str | None = strawberry.field(default=None, description="Case-insensitive part of the name.")
    contract_status: ContractStatus | None = strawberry.field(default=None, description="Status of the current contract.")
    country: str | None = None
    data_item_code: str | None = strawberry.field(default=None, description="Entrusted with this data item.")
    purpose_code: str | None = strawberry.field(default=None, description="Entrusted for this purpose.")


@strawberry.input(description="Narrows `customers`.")
class CustomerFilter:
    business_code: str | None = None
    status: CustomerStatus | None = None


@strawberry.input
class CreateSubcontractorInput:
    name: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    corporate_number: str | None = None
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="The re-entrusting subcontractor.")
    certifications: list[Certification] | None = None


@strawberry.input(description="Fields left out are unchanged; corporateNumber: null clears it.")
class UpdateSubcontractorInput:
    id: strawberry.ID
    expected_version: int
    name: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    corporate_number: str | None = strawberry.UNSET
    certifications: list[Certification] | None = strawberry.UNSET


@strawberry.input
class RecordAssessmentInput:
    subcontractor_id: strawberry.ID
    result: AssessmentResult
    assessed_on: date
    next_due_on: date | None = None
    note: str | None = None


@strawberry.input
class CreateContractInput:
    subcontractor_id: strawberry.ID
    business_code: str
    reference: str
    effective_from: date
    expires_on: date
    signed_on: date | None = None
    clauses: list[ContractClause]


@strawberry.input
class TransitionContractInput:
    id: strawberry.ID
    expected_version: int
    to: ContractStatus
    reason: str | None = None


@strawberry.input
class AddEntrustmentInput:
    contract_id: strawberry.ID
    purpose_codes: list[str]
    data_item_codes: list[str]
    description: str | None = None


@strawberry.input
class RemoveEntrustmentInput:
    id: strawberry.ID


@strawberry.input
class RegisterCustomerInput:
    business_code: str
    external_ref: str
    display_name: str | None = None
    email: str | None = None
    data_item_codes: list[str]


@strawberry.input
class CancelCustomerInput:
    id: strawberry.ID
    cancelled_on: date


@strawberry.input
class SubmitRequestInput:
    customer_id: strawberry.ID
    kind: RequestKind
    detail: str | None = None


@strawberry.input
class TransitionRequestInput:
    id: strawberry.ID
    to: RequestStatus
    note: str | None = None


@strawberry.input
class RecordProvisionInput:
    provision_id: strawberry.ID
    customer_id: strawberry.ID
    provided_on: date
    data_item_codes: list[str]
