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


@strawberry.input(description="A new subcontractor; its management system starts NOT_ASSESSED.")
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
    parent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The re-entrusting subcontractor; null: entrusted by the business itself. "
        "A parent whose own chain of parents reaches this subcontractor is refused (a cycle). The parent changes "
        "only while none of this subcontractor's entrustments has begun (INVALID_INPUT after): past answers of "
        "handlings(asOf:) read it, so a re-entrustment by another parent is a new subcontractor and contract.",
    )


@strawberry.input(description="An assessment of a subcontractor's management system; the latest assessedOn counts.")
class RecordAssessmentInput:
    subcontractor_id: strawberry.ID
    result: AssessmentResult
    assessed_on: date
    next_due_on: date | None = None
    note: str | None = None


@strawberry.input(description="A new contract, created as DRAFT.")
class CreateContractInput:
    subcontractor_id: strawberry.ID
    business_code: str
    reference: str
    effective_from: date
    expires_on: date
    signed_on: date | None = None
    clauses: list[ContractClause]


@strawberry.input(description="A lifecycle move of a contract; expectedVersion must be the stored version.")
class TransitionContractInput:
    id: strawberry.ID
    expected_version: int
    to: ContractStatus
    reason: str | None = None
    effective_on: date | None = strawberry.field(
        default=None, description="The day it takes effect (default today; never in the future, nor before the "
        "previous transition's).")


@strawberry.input(description="Purposes x data items entrusted under a contract; codes of the contract's own business only.")
class AddEntrustmentInput:
    contract_id: strawberry.ID
    purpose_codes: list[str]
    data_item_codes: list[str]
    description: str | None = None
    effective_from: date | None = strawberry.field(
        default=None, description="The first day in effect (default today, or the contract's start when later).")


@strawberry.input(description="The entrustment to end: its period closes the day before effectiveOn; it stays for "
                             "the past.")
class RemoveEntrustmentInput:
    id: strawberry.ID
    effective_on: date | None = strawberry.field(default=None, description="The first day no longer in effect "
                                                 "(default today; a later day schedules the end; never before the "
                                                 "entrustment began).")


@strawberry.input(description="The day the subcontractor confirmed the contract's data returned or deleted.")
class RecordDataReturnInput:
    contract_id: strawberry.ID
    expected_version: int
    returned_on: date


@strawberry.input(description="A new customer and the data items held for them (a voluntary item not given is left out).")
class RegisterCustomerInput:
    business_code: str
    external_ref: str
    display_name: str | None = None
    email: str | None = None
    data_item_codes: list[str]
    registered_on: date | None = strawberry.field(default=None, description="Default today; never in the future.")


@strawberry.input(description="The date the customer cancelled; afterwards only purposes usable after cancellation apply.")
class CancelCustomerInput:
    id: strawberry.ID
    cancelled_on: date


@strawberry.input(description="Items a customer gives (a voluntary one later) or withdraws, from effectiveOn.")
class ChangeCustomerItemsInput:
    id: strawberry.ID
    add_data_item_codes: list[str] | None = None
    remove_data_item_codes: list[str] | None = None
    effective_on: date | None = strawberry.field(default=None, description="Default today; never in the future.")


@strawberry.input(description="A data-subject request as received today, scoped to what it names (none named: all).")
class SubmitRequestInput:
    customer_id: strawberry.ID
    kind: RequestKind
    detail: str | None = None
    purpose_codes: list[str] | None = strawberry.field(default=None, description="STOP_USE: the purposes to stop.")
    data_item_codes: list[str] | None = strawberry.field(default=None, description="DELETION: the items to delete.")
    recipient_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="STOP_THIRD_PARTY_PROVISION: the recipients to stop providing to.")
    add_data_item_codes: list[str] | None = strawberry.field(default=None, description="CORRECTION: items to add.")
    remove_data_item_codes: list[str] | None = strawberry.field(default=None,
                                                                description="CORRECTION: items to remove.")


@strawberry.input(description="A move of a request: RECEIVED -> IN_PROGRESS -> COMPLETED | REJECTED.")
class TransitionRequestInput:
    id: strawberry.ID
    to: RequestStatus
    note: str | None = None


@strawberry.input(description="The APPI Art. 29 record of data provided to a third party.")
class RecordProvisionInput:
    provision_id: strawberry.ID
    customer_id: strawberry.ID
    provided_on: date
    data_item_codes: list[str]
