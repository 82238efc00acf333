"""Input types of the contract's filters and mutations."""

from datetime import date

import strawberry

from schema.enums import (
    AssessmentResult,
    AssessmentState,
    Certification,
    ContractClause,
    ContractStatus,
    CustomerStatus,
    ForeignTransferBasis,
    LegalBasis,
    RequestKind,
    RequestStatus,
    Sensitivity,
)

BASIS = "APPI Art. 28 basis, required when country is not JP: without one the party handles nothing."
JA = "Its Japanese version, stated by the notice in Japanese (none: the English one stands in)."
JA_LIST = "Its Japanese version, at most 50 (empty: the English one stands in)."
JURISDICTION_FROM = ("The first day a new country or foreignTransferBasis holds (default today): handlings for "
                     "earlier days keep the previous ones. A day before today corrects the past, back to the day "
                     "the current ones took effect at most; a day after today is refused (INVALID_INPUT), as is "
                     "effectiveOn without a change of country or foreignTransferBasis.")


@strawberry.input(description="Narrows `subcontractors`; every field given must match.")
class SubcontractorFilter:
    name_contains: str | None = strawberry.field(default=None, description="Case-insensitive part of the name.")
    contract_status: ContractStatus | None = strawberry.field(default=None, description="Status of the current contract.")
    country: str | None = None
    data_item_code: str | None = strawberry.field(default=None, description="Entrusted with this data item.")
    purpose_code: str | None = strawberry.field(default=None, description="Entrusted for this purpose.")
    contract_expiring_within_days: int | None = strawberry.field(default=None, description=(
        "0..366: an ACTIVE contract expires between today and that many days later, both included "
        "(30 selects the subcontractors of the finding CONTRACT_EXPIRING_SOON)."))
    assessment: AssessmentState | None = strawberry.field(
        default=None, description="Its assessment is missing or overdue, as complianceFindings judges it.")
    re_entrusted: bool | None = strawberry.field(default=None, description=(
        "true: re-entrusted by another subcontractor (it has a parent); false: entrusted by the business itself."))


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
    foreign_transfer_basis: ForeignTransferBasis | None = strawberry.field(default=None, description=BASIS)


@strawberry.input(description="Fields left out are unchanged; corporateNumber: null clears it.")
class UpdateSubcontractorInput:
    id: strawberry.ID
    expected_version: int
    name: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    corporate_number: str | None = strawberry.UNSET
    certifications: list[Certification] | None = strawberry.UNSET
    foreign_transfer_basis: ForeignTransferBasis | None = strawberry.field(
        default=strawberry.UNSET, description=BASIS + " null clears it.")
    effective_on: date | None = strawberry.field(default=None, description=JURISDICTION_FROM)
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
    expected_version: int | None = strawberry.field(
        default=None, description="The subcontractor's version as read; a stale one is VERSION_CONFLICT (null: not checked).")


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
    expected_version: int | None = strawberry.field(
        default=None, description="The contract's version as read; a stale one is VERSION_CONFLICT (null: not checked).")


@strawberry.input(description="The entrustment to end: its period closes the day before effectiveOn; it stays for "
                             "the past.")
class RemoveEntrustmentInput:
    id: strawberry.ID
    effective_on: date | None = strawberry.field(default=None, description="The first day no longer in effect "
                                                 "(default today; a later day schedules the end; never before the "
                                                 "entrustment began).")
    expected_version: int | None = strawberry.field(
        default=None, description="The contract's version as read; a stale one is VERSION_CONFLICT (null: not checked).")


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


@strawberry.input(description="The business's facts the notice states (APPI Art. 32(1)); fields left out are "
                             "unchanged, null clears an optional text.")
class UpdateBusinessInput:
    code: str = strawberry.field(description="The business to change.")
    name: str | None = strawberry.UNSET
    operator_name: str | None = strawberry.UNSET
    activities: list[str] | None = strawberry.field(default=strawberry.UNSET, description="At most 50.")
    address: str | None = strawberry.UNSET
    representative: str | None = strawberry.UNSET
    contact: str | None = strawberry.field(default=strawberry.UNSET, description="The desk for requests and "
                                           "complaints.")
    request_procedure: str | None = strawberry.field(default=strawberry.UNSET,
                                                     description="How to make a request, and the fee.")
    security_measures: list[str] | None = strawberry.field(default=strawberry.UNSET, description="At most 50.")
    name_ja: str | None = strawberry.field(default=strawberry.UNSET, description=JA)
    operator_name_ja: str | None = strawberry.field(default=strawberry.UNSET, description=JA)
    activities_ja: list[str] | None = strawberry.field(default=strawberry.UNSET, description=JA_LIST)
    address_ja: str | None = strawberry.field(default=strawberry.UNSET, description=JA)
    representative_ja: str | None = strawberry.field(default=strawberry.UNSET, description=JA)
    contact_ja: str | None = strawberry.field(default=strawberry.UNSET, description=JA)
    request_procedure_ja: str | None = strawberry.field(default=strawberry.UNSET, description=JA)
    security_measures_ja: list[str] | None = strawberry.field(default=strawberry.UNSET, description=JA_LIST)


@strawberry.input(description="A new purpose of use, numbered after the business's last; its code is unique in the "
                             "business.")
class CreatePurposeInput:
    business_code: str
    code: str
    title: str
    title_ja: str | None = None
    description: str | None = None
    usable_after_cancellation: bool | None = strawberry.field(default=None, description="Default false.")
    data_use: str | None = None
    effective_from: date | None = strawberry.field(default=None, description="Default today; never before today.")


@strawberry.input(description="Fields left out are unchanged. usableAfterCancellation changes only until the purpose "
                             "first takes effect.")
class UpdatePurposeInput:
    id: strawberry.ID
    title: str | None = strawberry.UNSET
    title_ja: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    usable_after_cancellation: bool | None = strawberry.UNSET
    data_use: str | None = strawberry.UNSET


@strawberry.input(description="The purpose to retire: it permits nothing after retiredOn, and stays for the past.")
class RetirePurposeInput:
    id: strawberry.ID
    retired_on: date = strawberry.field(description="Its last day in effect; never before yesterday.")


@strawberry.input(description="A new kind of personal data; its code is unique in the business.")
class CreateDataItemInput:
    business_code: str
    code: str
    name: str
    name_ja: str | None = None
    category: str | None = None
    sensitivity: Sensitivity
    voluntary: bool | None = strawberry.field(default=None, description="Default false.")
    property_damage_risk: bool | None = strawberry.field(default=None, description="Default false.")


@strawberry.input(description="Fields left out are unchanged.")
class UpdateDataItemInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    name_ja: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    sensitivity: Sensitivity | None = strawberry.UNSET
    voluntary: bool | None = strawberry.UNSET
    property_damage_risk: bool | None = strawberry.UNSET


@strawberry.input(description="A new third-party recipient (seed section 7).")
class CreateRecipientInput:
    name: str
    name_ja: str | None = strawberry.field(default=None, description=JA)
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    kind: str
    foreign_transfer_basis: ForeignTransferBasis | None = strawberry.field(default=None, description=BASIS)


@strawberry.input(description="Fields left out are unchanged; foreignTransferBasis: null clears it.")
class UpdateRecipientInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    name_ja: str | None = strawberry.field(default=strawberry.UNSET, description=JA + " null clears it.")
    country: str | None = strawberry.UNSET
    kind: str | None = strawberry.UNSET
    foreign_transfer_basis: ForeignTransferBasis | None = strawberry.field(default=strawberry.UNSET,
                                                                           description=BASIS)
    effective_on: date | None = strawberry.field(default=None, description=JURISDICTION_FROM)


@strawberry.input(description="A provision to a recipient of the business's own purposes and items (APPI Art. 27).")
class CreateProvisionInput:
    business_code: str
    recipient_id: strawberry.ID
    legal_basis: LegalBasis
    purpose_codes: list[str]
    data_item_codes: list[str]
    stated_purpose: str | None = None
    stated_purpose_ja: str | None = strawberry.field(default=None, description=JA)
    method: str | None = strawberry.field(
        default=None, description="How the data is provided (by file transfer, on paper...); the notice states it "
                                  "for an OPT_OUT provision (APPI Art. 27(2)(v)).")
    method_ja: str | None = strawberry.field(default=None, description=JA)
    effective_from: date | None = strawberry.field(default=None, description="Default today; never before today.")
    ppc_notified_on: date | None = strawberry.field(
        default=None, description="OPT_OUT: the day the PPC was notified, on or before effectiveFrom (required).")


@strawberry.input(description="The provision to end; it stays for the past.")
class EndProvisionInput:
    id: strawberry.ID
    effective_until: date = strawberry.field(description="Its last day in effect; never before yesterday.")


@strawberry.input(description="A joint use of the business's own items for its own purposes (APPI Art. 27(5)(iii)).")
class CreateJointUseInput:
    business_code: str
    users: str = strawberry.field(description="The scope of the joint users.")
    purpose_codes: list[str]
    data_item_codes: list[str]
    responsible: str = strawberry.field(description="Name, address and representative of the person responsible.")
    users_ja: str | None = strawberry.field(default=None, description=JA)
    responsible_ja: str | None = strawberry.field(default=None, description=JA)
    effective_from: date | None = strawberry.field(default=None, description="Default today; never before today.")


@strawberry.input(description="The joint use to end; it stays for the past.")
class EndJointUseInput:
    id: strawberry.ID
    effective_until: date = strawberry.field(description="Its last day in effect; never before yesterday.")


@strawberry.input(description="Which business's privacy notice to publish.")
class PublishNoticeInput:
    business_code: str


@strawberry.input(description="One member as the member system knows it (see ImportCustomersInput).")
class CustomerRowInput:
    external_ref: str
    registered_on: date
    cancelled_on: date | None = strawberry.field(default=None, description="Null: not cancelled (a cancellation "
                                                 "already in effect is never withdrawn).")
    items: list[str] = strawberry.field(description="The data-item codes held from now on.")
    display_name: str | None = strawberry.field(default=strawberry.UNSET, description="Left out: unchanged; "
                                                "null or empty: cleared.")
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Left out: unchanged; null or "
                                         "empty: cleared.")


@strawberry.input(description="Customers upserted by externalRef, as `pi-gateway customers import` does for a file.")
class ImportCustomersInput:
    business_code: str | None = strawberry.field(default=None, description="Optional when there is one business.")
    rows: list[CustomerRowInput] = strawberry.field(description="At most 1,000; a larger sync goes through the CLI.")
    skip_bad: bool = strawberry.field(default=False, description="Write the good rows and list the bad ones "
                                      "(default: any bad row and nothing is written).")
