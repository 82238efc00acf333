"""The Mutation root: unpack the input, call one registry write, map the result.

A refused write comes back in the payload's `errors` (nothing was written); a role that
may not write gets a FORBIDDEN GraphQL error before anything runs.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from registry import businesses, contracts, customer_sync, customers, joint_uses, notice_versions, provisions, requests, subcontractors
from registry.access import Capability
from registry.errors import NotFound, RegistryError
from schema import ids
from schema.enums import ErrorCode
from schema.errors import UserError, user_errors
from schema.inputs import (
    AddEntrustmentInput,
    CancelCustomerInput,
    ChangeCustomerItemsInput,
    CreateContractInput,
    CreateDataItemInput,
    CreateJointUseInput,
    CreateProvisionInput,
    CreatePurposeInput,
    CreateRecipientInput,
    CreateSubcontractorInput,
    EndJointUseInput,
    EndProvisionInput,
    ImportCustomersInput,
    PublishNoticeInput,
    RecordAssessmentInput,
    RecordDataReturnInput,
    RecordProvisionInput,
    RegisterCustomerInput,
    RemoveEntrustmentInput,
    RetirePurposeInput,
    SubmitRequestInput,
    TransitionContractInput,
    TransitionRequestInput,
    UpdateBusinessInput,
    UpdateDataItemInput,
    UpdatePurposeInput,
    UpdateRecipientInput,
    UpdateSubcontractorInput,
)
from schema.notices import NoticeVersion
from schema.permissions import deny
from schema.types import (
    Business,
    Contract,
    Customer,
    DataItem,
    DataSubjectRequest,
    Entrustment,
    JointUse,
    Provision,
    ProvisionRecord,
    Purpose,
    Subcontractor,
    ThirdPartyRecipient,
)

VENDORS = deny(Capability.WRITE_VENDORS)
PRIVACY = deny(Capability.WRITE_PRIVACY)
REGISTRY = deny(Capability.WRITE_REGISTRY)
Row = TypeVar("Row")


@strawberry.type(description="The subcontractor written, or why nothing was written.")
class SubcontractorPayload:
    subcontractor: Subcontractor | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The contract written, or why nothing was written.")
class ContractPayload:
    contract: Contract | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The entrustment written, or why nothing was written.")
class EntrustmentPayload:
    entrustment: Entrustment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The customer written, or why nothing was written.")
class CustomerPayload:
    customer: Customer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The request written, or why nothing was written.")
class RequestPayload:
    request: DataSubjectRequest | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The provisionRecord written, or why nothing was written.")
class ProvisionRecordPayload:
    record: ProvisionRecord | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The business written, or why nothing was written.")
class BusinessPayload:
    business: Business | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The purpose written, or why nothing was written.")
class PurposePayload:
    purpose: Purpose | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The data item written, or why nothing was written.")
class DataItemPayload:
    data_item: DataItem | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The recipient written, or why nothing was written.")
class RecipientPayload:
    recipient: ThirdPartyRecipient | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The provision written, or why nothing was written.")
class ProvisionPayload:
    provision: Provision | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The joint use written, or why nothing was written.")
class JointUsePayload:
    joint_use: JointUse | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The notice's latest version, or why nothing was published.")
class NoticeVersionPayload:
    notice_version: NoticeVersion | None = None
    created: bool = strawberry.field(default=False, description="Whether this call stored the version; false when "
                                     "the notice read as its latest version, which is returned instead.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A row not imported, and why (never a personal value).")
class ImportBadRow:
    index: int = strawberry.field(description="The row's position in the input, from 1.")
    field: str | None
    code: ErrorCode
    message: str


@strawberry.type(description="What an import did. With bad rows and skipBad false, nothing was written and the "
                             "counts say what the good rows would have done.")
class ImportCustomersPayload:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    erased: int = strawberry.field(default=0, description="Rows of customers erased by a completed DELETION "
                                   "(APPI Art. 35): skipped whole, never re-personalised.")
    bad_rows: list[ImportBadRow] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def import_row(row: Any) -> dict[str, Any]:
    """A CustomerRowInput as the registry reads a JSON line: a field left out is a key left out."""
    fields = {"externalRef": row.external_ref, "registeredOn": row.registered_on.isoformat(),
              "cancelledOn": row.cancelled_on.isoformat() if row.cancelled_on else None, "items": list(row.items)}
    sent = {"displayName": row.display_name, "email": row.email}
    return fields | {name: value for name, value in sent.items() if value is not strawberry.UNSET}


def key(global_id: str | None, type_name: str, field: str) -> int | None:
    """The key of an input ID (None stays None); an ID of something else names nothing:
    NotFound, which the resolver reports like any refusal, before anything is written."""
    if global_id is None:
        return None
    found = ids.decode_as(global_id, type_name)
    if found is None:
        raise NotFound(f"No {type_name} has the ID {global_id!r}.", field=field)
    return found


async def write(info: Info, registry_write: Callable[..., Awaitable[Row]], /, **arguments: Any) -> Row:
    """Run one registry write in its own transaction, as the caller."""
    async with info.context.writing() as session:
        return await registry_write(session, actor=info.context.actor, **arguments)


def _given(input: Any, *names: str) -> dict[str, Any]:
    """The optional fields the client actually sent, by registry name."""
    sent = {n: getattr(input, n) for n in names if getattr(input, n) is not strawberry.UNSET}
    for name in ("certifications", "activities", "security_measures", "activities_ja", "security_measures_ja"):
        if sent.get(name) is not None:
            sent[name] = list(sent[name])
    return sent



@strawberry.type(description="Writes. Each is one transaction, audited, and refused whole when any rule fails.")
class Mutation:
    @strawberry.mutation(extensions=VENDORS, description="Register a subcontractor (seed section 9).")
    async def create_subcontractor(self, info: Info, input: CreateSubcontractorInput) -> SubcontractorPayload:
        try:
            row = await write(
                info, subcontractors.create_subcontractor,
                parent_id=key(input.parent_id, "Subcontractor", "parentId"),
                name=input.name, country=input.country, corporate_number=input.corporate_number,
                certifications=list(input.certifications or []), foreign_transfer_basis=input.foreign_transfer_basis,
            )
        except RegistryError as error:
            return SubcontractorPayload(errors=user_errors(error))
        return SubcontractorPayload(subcontractor=Subcontractor.from_row(row))

    @strawberry.mutation(extensions=VENDORS, description="Change a subcontractor; expectedVersion must be current.")
    async def update_subcontractor(self, info: Info, input: UpdateSubcontractorInput) -> SubcontractorPayload:
        changes = _given(input, "name", "country", "corporate_number", "certifications", "parent_id",
                         "foreign_transfer_basis")
        try:
            if "parent_id" in changes:
                changes["parent_id"] = key(changes["parent_id"], "Subcontractor", "parentId")
            row = await write(
                info, subcontractors.update_subcontractor,
                id=key(input.id, "Subcontractor", "id"), expected_version=input.expected_version, changes=changes,
                today=info.context.clock.today(), effective_on=input.effective_on,
            )
        except RegistryError as error:
            return SubcontractorPayload(errors=user_errors(error))
        return SubcontractorPayload(subcontractor=Subcontractor.from_row(row))

    @strawberry.mutation(extensions=VENDORS, description="Record an assessment of a subcontractor's management system.")
    async def record_assessment(self, info: Info, input: RecordAssessmentInput) -> SubcontractorPayload:
        try:
            row = await write(
                info, subcontractors.record_assessment,
                subcontractor_id=key(input.subcontractor_id, "Subcontractor", "subcontractorId"),
                result=input.result, assessed_on=input.assessed_on, next_due_on=input.next_due_on, note=input.note,
                expected_version=input.expected_version,
            )
        except RegistryError as error:
            return SubcontractorPayload(errors=user_errors(error))
        return SubcontractorPayload(subcontractor=Subcontractor.from_row(row))

    @strawberry.mutation(extensions=VENDORS, description="Draft a contract with a subcontractor.")
    async def create_contract(self, info: Info, input: CreateContractInput) -> ContractPayload:
        try:
            row = await write(
                info, contracts.create_contract,
                subcontractor_id=key(input.subcontractor_id, "Subcontractor", "subcontractorId"),
                business_code=input.business_code, reference=input.reference, effective_from=input.effective_from,
                expires_on=input.expires_on, signed_on=input.signed_on, clauses=list(input.clauses),
            )
        except RegistryError as error:
            return ContractPayload(errors=user_errors(error))
        return ContractPayload(contract=Contract.from_row(row))

    @strawberry.mutation(extensions=VENDORS, description="Move a contract through its lifecycle.")
    async def transition_contract(self, info: Info, input: TransitionContractInput) -> ContractPayload:
        try:
            row = await write(
                info, contracts.transition_contract,
                id=key(input.id, "Contract", "id"), expected_version=input.expected_version, to=input.to,
                reason=input.reason, today=info.context.clock.today(), effective_on=input.effective_on,
            )
        except RegistryError as error:
            return ContractPayload(errors=user_errors(error))
        return ContractPayload(contract=Contract.from_row(row))

    @strawberry.mutation(extensions=VENDORS, description="Record the day the subcontractor confirmed the contract's "
                                                         "data returned or deleted.")
    async def record_data_return(self, info: Info, input: RecordDataReturnInput) -> ContractPayload:
        try:
            row = await write(
                info, contracts.record_data_return,
                id=key(input.contract_id, "Contract", "contractId"), expected_version=input.expected_version,
                returned_on=input.returned_on, today=info.context.clock.today(),
            )
        except RegistryError as error:
            return ContractPayload(errors=user_errors(error))
        return ContractPayload(contract=Contract.from_row(row))

    @strawberry.mutation(extensions=VENDORS, description="Entrust purposes x items under a contract.")
    async def add_entrustment(self, info: Info, input: AddEntrustmentInput) -> EntrustmentPayload:
        try:
            row = await write(
                info, contracts.add_entrustment,
                contract_id=key(input.contract_id, "Contract", "contractId"),
                purpose_codes=list(input.purpose_codes), data_item_codes=list(input.data_item_codes),
                description=input.description, effective_from=input.effective_from, today=info.context.clock.today(),
                expected_version=input.expected_version,
            )
        except RegistryError as error:
            return EntrustmentPayload(errors=user_errors(error))
        return EntrustmentPayload(entrustment=Entrustment.from_row(row))

    @strawberry.mutation(extensions=VENDORS, description="End an entrustment from effectiveOn (default today): its "
                         "period closes the day before and the row stays, so the past still answers. A future "
                         "effectiveOn schedules the end: the entrustment stays in effect until the day before. "
                         "An end before the entrustment began is INVALID_INPUT; ending one already ended or "
                         "scheduled to end is INVALID_TRANSITION.")
    async def remove_entrustment(self, info: Info, input: RemoveEntrustmentInput) -> EntrustmentPayload:
        try:
            row = await write(info, contracts.remove_entrustment, id=key(input.id, "Entrustment", "id"),
                              effective_on=input.effective_on, today=info.context.clock.today(),
                              expected_version=input.expected_version)
        except RegistryError as error:
            return EntrustmentPayload(errors=user_errors(error))
        return EntrustmentPayload(entrustment=Entrustment.from_row(row))

    @strawberry.mutation(extensions=PRIVACY, description="Register a customer and the items held for them.")
    async def register_customer(self, info: Info, input: RegisterCustomerInput) -> CustomerPayload:
        try:
            row = await write(
                info, customers.register_customer,
                business_code=input.business_code, external_ref=input.external_ref, display_name=input.display_name,
                email=input.email, data_item_codes=list(input.data_item_codes),
                registered_on=input.registered_on or info.context.clock.today(), today=info.context.clock.today(),
            )
        except RegistryError as error:
            return CustomerPayload(errors=user_errors(error))
        return CustomerPayload(customer=Customer.from_row(row))

    @strawberry.mutation(extensions=PRIVACY, description="Record that a customer cancelled (seed section 5).")
    async def cancel_customer(self, info: Info, input: CancelCustomerInput) -> CustomerPayload:
        try:
            row = await write(
                info, customers.cancel_customer, id=key(input.id, "Customer", "id"), cancelled_on=input.cancelled_on
            )
        except RegistryError as error:
            return CustomerPayload(errors=user_errors(error))
        return CustomerPayload(customer=Customer.from_row(row))

    @strawberry.mutation(extensions=PRIVACY, description="Record items a customer gives (a voluntary one later) or "
                                                         "withdraws (seed section 11), from effectiveOn.")
    async def change_customer_items(self, info: Info, input: ChangeCustomerItemsInput) -> CustomerPayload:
        today = info.context.clock.today()
        try:
            row = await write(
                info, customers.change_customer_items, id=key(input.id, "Customer", "id"),
                add_codes=list(input.add_data_item_codes or []), remove_codes=list(input.remove_data_item_codes or []),
                effective_on=input.effective_on or today, today=today,
            )
        except RegistryError as error:
            return CustomerPayload(errors=user_errors(error))
        return CustomerPayload(customer=Customer.from_row(row))

    @strawberry.mutation(extensions=PRIVACY, description="File a data-subject request; its due date is set on receipt.")
    async def submit_request(self, info: Info, input: SubmitRequestInput) -> RequestPayload:
        try:
            row = await write(
                info, requests.submit_request,
                customer_id=key(input.customer_id, "Customer", "customerId"), kind=input.kind, detail=input.detail,
                clock=info.context.clock, due_days=info.context.policy.request_due_days,
                purpose_codes=list(input.purpose_codes or []), data_item_codes=list(input.data_item_codes or []),
                recipient_ids=[key(r, "ThirdPartyRecipient", "recipientIds") for r in input.recipient_ids or []],
                add_data_item_codes=list(input.add_data_item_codes or []),
                remove_data_item_codes=list(input.remove_data_item_codes or []),
            )
        except RegistryError as error:
            return RequestPayload(errors=user_errors(error))
        return RequestPayload(request=DataSubjectRequest.from_row(row))

    @strawberry.mutation(extensions=PRIVACY, description="Move a request; COMPLETED takes effect from today.")
    async def transition_request(self, info: Info, input: TransitionRequestInput) -> RequestPayload:
        try:
            row = await write(
                info, requests.transition_request,
                id=key(input.id, "DataSubjectRequest", "id"), to=input.to, note=input.note, clock=info.context.clock,
            )
        except RegistryError as error:
            return RequestPayload(errors=user_errors(error))
        return RequestPayload(request=DataSubjectRequest.from_row(row))

    @strawberry.mutation(extensions=PRIVACY, description="Keep the APPI Art. 29 record of a provision.")
    async def record_provision(self, info: Info, input: RecordProvisionInput) -> ProvisionRecordPayload:
        try:
            row = await write(
                info, provisions.record_provision,
                provision_id=key(input.provision_id, "Provision", "provisionId"),
                customer_id=key(input.customer_id, "Customer", "customerId"),
                provided_on=input.provided_on, data_item_codes=list(input.data_item_codes),
                today=info.context.clock.today(),
            )
        except RegistryError as error:
            return ProvisionRecordPayload(errors=user_errors(error))
        return ProvisionRecordPayload(record=ProvisionRecord.from_row(row))

    # --- the registry itself (issue 13): PRIVACY_OFFICER and ADMIN -------------------------------------

    @strawberry.mutation(extensions=REGISTRY, description="Change the facts the notice states about the business "
                                                          "(APPI Art. 32(1)).")
    async def update_business(self, info: Info, input: UpdateBusinessInput) -> BusinessPayload:
        changes = _given(input, "name", "operator_name", "activities", "address", "representative", "contact",
                         "request_procedure", "security_measures", "name_ja", "operator_name_ja", "activities_ja",
                         "address_ja", "representative_ja", "contact_ja", "request_procedure_ja",
                         "security_measures_ja")
        try:
            row = await write(info, businesses.update_business, code=input.code, changes=changes)
        except RegistryError as error:
            return BusinessPayload(errors=user_errors(error))
        return BusinessPayload(business=Business.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Add a purpose of use (seed section 2), numbered after the "
                         "last, from effectiveFrom (default today, never before). A code the business has is DUPLICATE.")
    async def create_purpose(self, info: Info, input: CreatePurposeInput) -> PurposePayload:
        try:
            row = await write(
                info, businesses.create_purpose, business_code=input.business_code, code=input.code,
                title=input.title, title_ja=input.title_ja, description=input.description,
                usable_after_cancellation=bool(input.usable_after_cancellation), data_use=input.data_use,
                effective_from=input.effective_from, today=info.context.clock.today(),
            )
        except RegistryError as error:
            return PurposePayload(errors=user_errors(error))
        return PurposePayload(purpose=Purpose.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Change a purpose's wording; whether it applies after "
                         "cancellation changes only until it first takes effect (INVALID_INPUT after).")
    async def update_purpose(self, info: Info, input: UpdatePurposeInput) -> PurposePayload:
        changes = _given(input, "title", "title_ja", "description", "usable_after_cancellation", "data_use")
        try:
            row = await write(info, businesses.update_purpose, id=key(input.id, "Purpose", "id"), changes=changes,
                              today=info.context.clock.today())
        except RegistryError as error:
            return PurposePayload(errors=user_errors(error))
        return PurposePayload(purpose=Purpose.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Retire a purpose: it permits nothing after retiredOn (never "
                         "before yesterday) and stays for the past. Retiring it again is INVALID_TRANSITION.")
    async def retire_purpose(self, info: Info, input: RetirePurposeInput) -> PurposePayload:
        try:
            row = await write(info, businesses.retire_purpose, id=key(input.id, "Purpose", "id"),
                              retired_on=input.retired_on, today=info.context.clock.today())
        except RegistryError as error:
            return PurposePayload(errors=user_errors(error))
        return PurposePayload(purpose=Purpose.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Add a kind of personal data; a code the business has is "
                                                          "DUPLICATE.")
    async def create_data_item(self, info: Info, input: CreateDataItemInput) -> DataItemPayload:
        try:
            row = await write(
                info, businesses.create_data_item, business_code=input.business_code, code=input.code,
                name=input.name, name_ja=input.name_ja, category=input.category, sensitivity=input.sensitivity,
                voluntary=bool(input.voluntary), property_damage_risk=bool(input.property_damage_risk),
            )
        except RegistryError as error:
            return DataItemPayload(errors=user_errors(error))
        return DataItemPayload(data_item=DataItem.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Change a data item; it may not become SPECIAL_CARE while an "
                         "opt-out provision provides it (OPT_OUT_NOT_PERMITTED).")
    async def update_data_item(self, info: Info, input: UpdateDataItemInput) -> DataItemPayload:
        changes = _given(input, "name", "name_ja", "category", "sensitivity", "voluntary", "property_damage_risk")
        try:
            row = await write(info, businesses.update_data_item, id=key(input.id, "DataItem", "id"), changes=changes,
                              today=info.context.clock.today())
        except RegistryError as error:
            return DataItemPayload(errors=user_errors(error))
        return DataItemPayload(data_item=DataItem.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Register a third-party recipient (seed section 7); outside "
                                                          "Japan it needs a foreignTransferBasis (APPI Art. 28).")
    async def create_recipient(self, info: Info, input: CreateRecipientInput) -> RecipientPayload:
        try:
            row = await write(info, provisions.create_recipient, name=input.name, name_ja=input.name_ja,
                              country=input.country, kind=input.kind,
                              foreign_transfer_basis=input.foreign_transfer_basis)
        except RegistryError as error:
            return RecipientPayload(errors=user_errors(error))
        return RecipientPayload(recipient=ThirdPartyRecipient.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Change a third-party recipient.")
    async def update_recipient(self, info: Info, input: UpdateRecipientInput) -> RecipientPayload:
        changes = _given(input, "name", "name_ja", "country", "kind", "foreign_transfer_basis")
        try:
            row = await write(info, provisions.update_recipient, id=key(input.id, "ThirdPartyRecipient", "id"),
                              changes=changes, today=info.context.clock.today(), effective_on=input.effective_on)
        except RegistryError as error:
            return RecipientPayload(errors=user_errors(error))
        return RecipientPayload(recipient=ThirdPartyRecipient.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Start a provision to a third party (APPI Art. 27) from "
                         "effectiveFrom (default today, never before). OPT_OUT needs ppcNotifiedOn and no SPECIAL_CARE "
                         "item (OPT_OUT_NOT_PERMITTED).")
    async def create_provision(self, info: Info, input: CreateProvisionInput) -> ProvisionPayload:
        try:
            row = await write(
                info, provisions.create_provision, business_code=input.business_code,
                recipient_id=key(input.recipient_id, "ThirdPartyRecipient", "recipientId"),
                legal_basis=input.legal_basis, purpose_codes=list(input.purpose_codes),
                data_item_codes=list(input.data_item_codes), stated_purpose=input.stated_purpose,
                stated_purpose_ja=input.stated_purpose_ja, method=input.method, method_ja=input.method_ja,
                effective_from=input.effective_from,
                ppc_notified_on=input.ppc_notified_on, today=info.context.clock.today(),
            )
        except RegistryError as error:
            return ProvisionPayload(errors=user_errors(error))
        return ProvisionPayload(provision=Provision.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="End a provision: effectiveUntil is its last day (never before "
                         "yesterday; a later day schedules the end). It stays for the past; ending it again is "
                         "INVALID_TRANSITION.")
    async def end_provision(self, info: Info, input: EndProvisionInput) -> ProvisionPayload:
        try:
            row = await write(info, provisions.end_provision, id=key(input.id, "Provision", "id"),
                              effective_until=input.effective_until, today=info.context.clock.today())
        except RegistryError as error:
            return ProvisionPayload(errors=user_errors(error))
        return ProvisionPayload(provision=Provision.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Record a joint use (APPI Art. 27(5)(iii), seed section 6) "
                                                          "from effectiveFrom (default today, never before).")
    async def create_joint_use(self, info: Info, input: CreateJointUseInput) -> JointUsePayload:
        try:
            row = await write(
                info, joint_uses.create_joint_use, business_code=input.business_code, users=input.users,
                responsible=input.responsible, users_ja=input.users_ja, responsible_ja=input.responsible_ja,
                purpose_codes=list(input.purpose_codes), data_item_codes=list(input.data_item_codes),
                effective_from=input.effective_from, today=info.context.clock.today(),
            )
        except RegistryError as error:
            return JointUsePayload(errors=user_errors(error))
        return JointUsePayload(joint_use=JointUse.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="End a joint use: effectiveUntil is its last day (never before "
                         "yesterday). It stays for the past; ending it again is INVALID_TRANSITION.")
    async def end_joint_use(self, info: Info, input: EndJointUseInput) -> JointUsePayload:
        try:
            row = await write(info, joint_uses.end_joint_use, id=key(input.id, "JointUse", "id"),
                              effective_until=input.effective_until, today=info.context.clock.today())
        except RegistryError as error:
            return JointUsePayload(errors=user_errors(error))
        return JointUsePayload(joint_use=JointUse.from_row(row))

    @strawberry.mutation(extensions=REGISTRY, description="Publish the privacy notice as it reads now, in every "
                         "language, as the business's next version, dated today. When it reads as the latest version "
                         "in every language, nothing is stored and that version is returned (created: false).")
    async def publish_notice(self, info: Info, input: PublishNoticeInput) -> NoticeVersionPayload:
        try:
            published = await write(info, notice_versions.publish, business_code=input.business_code,
                                    today=info.context.clock.today())
        except RegistryError as error:
            return NoticeVersionPayload(errors=user_errors(error))
        return NoticeVersionPayload(
            notice_version=NoticeVersion.from_publication(input.business_code, published.publication),
            created=published.created)

    @strawberry.mutation(extensions=REGISTRY, description="Upsert up to 1,000 customers of the member system by "
                         "externalRef (registrations, cancellations, items given or withdrawn from today), as "
                         "`pi-gateway customers import` does; unchanged rows write nothing.")
    async def import_customers(self, info: Info, input: ImportCustomersInput) -> ImportCustomersPayload:
        try:
            result = await write(info, customer_sync.import_rows, business_code=input.business_code,
                                 rows=[import_row(row) for row in input.rows], today=info.context.clock.today(),
                                 skip_bad=input.skip_bad)
        except RegistryError as error:
            return ImportCustomersPayload(errors=user_errors(error))
        refusal = result.refusal()
        return ImportCustomersPayload(
            created=result.created, changed=result.changed, unchanged=result.unchanged, erased=result.erased,
            bad_rows=[ImportBadRow(index=b.line, field=b.field, code=b.code, message=b.message)
                      for b in result.bad_rows],
            errors=user_errors(refusal) if refusal else [])
