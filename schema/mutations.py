"""The Mutation root: unpack the input, call one registry write, map the result.

A refused write comes back in the payload's `errors` (nothing was written); a role that
may not write gets a FORBIDDEN GraphQL error before anything runs.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from registry import contracts, customers, provisions, requests, subcontractors
from registry.access import Capability
from registry.errors import NotFound, RegistryError
from schema import ids
from schema.errors import UserError, user_errors
from schema.inputs import (
    AddEntrustmentInput,
    CancelCustomerInput,
    CreateContractInput,
    CreateSubcontractorInput,
    RecordAssessmentInput,
    RecordProvisionInput,
    RegisterCustomerInput,
    RemoveEntrustmentInput,
    SubmitRequestInput,
    TransitionContractInput,
    TransitionRequestInput,
    UpdateSubcontractorInput,
)
from schema.permissions import deny
from schema.types import Contract, Customer, DataSubjectRequest, Entrustment, ProvisionRecord, Subcontractor

VENDORS = deny(Capability.WRITE_VENDORS)
PRIVACY = deny(Capability.WRITE_PRIVACY)


@strawberry.type(description="The subcontractor written, or why nothing was written.")
class SubcontractorPayload:
    subcontractor: Subcontractor | None
    errors: list[UserError]


@strawberry.type(description="The contract written, or why nothing was written.")
class ContractPayload:
    contract: Contract | None
    errors: list[UserError]


@strawberry.type(description="The entrustment written, or why nothing was written.")
class EntrustmentPayload:
    entrustment: Entrustment | None
    errors: list[UserError]


@strawberry.type(description="The customer written, or why nothing was written.")
class CustomerPayload:
    customer: Customer | None
    errors: list[UserError]


@strawberry.type(description="The request written, or why nothing was written.")
class RequestPayload:
    request: DataSubjectRequest | None
    errors: list[UserError]


@strawberry.type(description="The provisionRecord written, or why nothing was written.")
class ProvisionRecordPayload:
    record: ProvisionRecord | None
    errors: list[UserError]


def key(global_id: str | None, type_name: str, field: str) -> int | None:
    """The key of an input ID; an ID of something else names nothing (NOT_FOUND)."""
    if global_id is None:
        return None
    found = ids.decode_as(global_id, type_name)
    if found is None:
        raise NotFound(f"No {type_name} has the ID {global_id!r}.", field=field)
    return found


async def run_write(
    info: Info, payload: type, name: str, wrap: Callable[[Any], Any], write: Callable[..., Awaitable[Any]], /,
    **arguments: Any,
):
    """Run one registry write as the caller; map a refusal to the payload's errors."""
    try:
        async with info.context.writing() as session:
            row = await write(session, actor=info.context.actor, **arguments)
    except RegistryError as error:
        return payload(**{name: None, "errors": user_errors(error)})
    return payload(**{name: wrap(row), "errors": []})


def _given(input: Any, *names: str) -> dict[str, Any]:
    """The optional fields the client actually sent, by registry name."""
    sent = {n: getattr(input, n) for n in names if getattr(input, n) is not strawberry.UNSET}
    if sent.get("certifications") is not None:
        sent["certifications"] = list(sent["certifications"])
    return sent


@strawberry.type(description="Writes. Each is one transaction, audited, and refused whole when any rule fails.")
class Mutation:
    @strawberry.mutation(extensions=VENDORS, description="Register a subcontractor (seed section 9).")
    async def create_subcontractor(self, info: Info, input: CreateSubcontractorInput) -> SubcontractorPayload:
        try:
            parent = key(input.parent_id, "Subcontractor", "parentId")
        except RegistryError as error:
            return SubcontractorPayload(subcontractor=None, errors=user_errors(error))
        return await run_write(
            info, SubcontractorPayload, "subcontractor", Subcontractor.from_row, subcontractors.create_subcontractor,
            name=input.name, country=input.country, corporate_number=input.corporate_number, parent_id=parent,
            certifications=list(input.certifications or []),
        )

    @strawberry.mutation(extensions=VENDORS, description="Change a subcontractor; expectedVersion must be current.")
    async def update_subcontractor(self, info: Info, input: UpdateSubcontractorInput) -> SubcontractorPayload:
        return await _update_subcontractor(info, input)

    @strawberry.mutation(extensions=VENDORS, description="Record an assessment of a subcontractor's management system.")
    async def record_assessment(self, info: Info, input: RecordAssessmentInput) -> SubcontractorPayload:
        return await _with_key(
            info, SubcontractorPayload, "subcontractor", Subcontractor.from_row, subcontractors.record_assessment,
            ("subcontractor_id", input.subcontractor_id, "Subcontractor", "subcontractorId"),
            result=input.result, assessed_on=input.assessed_on, next_due_on=input.next_due_on, note=input.note,
        )

    @strawberry.mutation(extensions=VENDORS, description="Draft a contract with a subcontractor.")
    async def create_contract(self, info: Info, input: CreateContractInput) -> ContractPayload:
        return await _with_key(
            info, ContractPayload, "contract", Contract.from_row, contracts.create_contract,
            ("subcontractor_id", input.subcontractor_id, "Subcontractor", "subcontractorId"),
            business_code=input.business_code, reference=input.reference, effective_from=input.effective_from,
            expires_on=input.expires_on, signed_on=input.signed_on, clauses=list(input.clauses),
        )

    @strawberry.mutation(extensions=VENDORS, description="Move a contract through its lifecycle.")
    async def transition_contract(self, info: Info, input: TransitionContractInput) -> ContractPayload:
        return await _with_key(
            info, ContractPayload, "contract", Contract.from_row, contracts.transition_contract,
            ("id", input.id, "Contract", "id"),
            expected_version=input.expected_version, to=input.to, reason=input.reason,
            today=info.context.clock.today(),
        )

    @strawberry.mutation(extensions=VENDORS, description="Entrust purposes x items under a contract.")
    async def add_entrustment(self, info: Info, input: AddEntrustmentInput) -> EntrustmentPayload:
        return await _with_key(
            info, EntrustmentPayload, "entrustment", Entrustment.from_row, contracts.add_entrustment,
            ("contract_id", input.contract_id, "Contract", "contractId"),
            purpose_codes=list(input.purpose_codes), data_item_codes=list(input.data_item_codes),
            description=input.description,
        )

    @strawberry.mutation(extensions=VENDORS, description="Withdraw an entrustment from its contract.")
    async def remove_entrustment(self, info: Info, input: RemoveEntrustmentInput) -> EntrustmentPayload:
        return await _with_key(
            info, EntrustmentPayload, "entrustment", Entrustment.from_row, contracts.remove_entrustment,
            ("id", input.id, "Entrustment", "id"),
        )

    @strawberry.mutation(extensions=PRIVACY, description="Register a customer and the items held for them.")
    async def register_customer(self, info: Info, input: RegisterCustomerInput) -> CustomerPayload:
        return await run_write(
            info, CustomerPayload, "customer", Customer.from_row, customers.register_customer,
            business_code=input.business_code, external_ref=input.external_ref, display_name=input.display_name,
            email=input.email, data_item_codes=list(input.data_item_codes),
        )

    @strawberry.mutation(extensions=PRIVACY, description="Record that a customer cancelled (seed section 5).")
    async def cancel_customer(self, info: Info, input: CancelCustomerInput) -> CustomerPayload:
        return await _with_key(
            info, CustomerPayload, "customer", Customer.from_row, customers.cancel_customer,
            ("id", input.id, "Customer", "id"), cancelled_on=input.cancelled_on,
        )

    @strawberry.mutation(extensions=PRIVACY, description="File a data-subject request; its due date is set on receipt.")
    async def submit_request(self, info: Info, input: SubmitRequestInput) -> RequestPayload:
        return await _with_key(
            info, RequestPayload, "request", DataSubjectRequest.from_row, requests.submit_request,
            ("customer_id", input.customer_id, "Customer", "customerId"),
            kind=input.kind, detail=input.detail, clock=info.context.clock,
            due_days=info.context.policy.request_due_days,
        )

    @strawberry.mutation(extensions=PRIVACY, description="Move a request; COMPLETED takes effect from today.")
    async def transition_request(self, info: Info, input: TransitionRequestInput) -> RequestPayload:
        return await _with_key(
            info, RequestPayload, "request", DataSubjectRequest.from_row, requests.transition_request,
            ("id", input.id, "DataSubjectRequest", "id"), to=input.to, note=input.note, clock=info.context.clock,
        )

    @strawberry.mutation(extensions=PRIVACY, description="Keep the APPI Art. 29 record of a provision.")
    async def record_provision(self, info: Info, input: RecordProvisionInput) -> ProvisionRecordPayload:
        try:
            provision_id = key(input.provision_id, "Provision", "provisionId")
        except RegistryError as error:
            return ProvisionRecordPayload(record=None, errors=user_errors(error))
        return await _with_key(
            info, ProvisionRecordPayload, "record", ProvisionRecord.from_row, provisions.record_provision,
            ("customer_id", input.customer_id, "Customer", "customerId"),
            provision_id=provision_id, provided_on=input.provided_on, data_item_codes=list(input.data_item_codes),
        )


async def _with_key(info, payload, name, wrap, write, id_arg: tuple[str, str, str, str], /, **arguments):
    """`run_write` after decoding the one input ID the write takes."""
    argument, global_id, type_name, field = id_arg
    try:
        arguments[argument] = key(global_id, type_name, field)
    except RegistryError as error:
        return payload(**{name: None, "errors": user_errors(error)})
    return await run_write(info, payload, name, wrap, write, **arguments)


async def _update_subcontractor(info: Info, input: UpdateSubcontractorInput) -> SubcontractorPayload:
    changes = _given(input, "name", "country", "corporate_number", "certifications", "parent_id")
    try:
        if "parent_id" in changes:
            changes["parent_id"] = key(changes["parent_id"], "Subcontractor", "parentId")
    except RegistryError as error:
        return SubcontractorPayload(subcontractor=None, errors=user_errors(error))
    return await _with_key(
        info, SubcontractorPayload, "subcontractor", Subcontractor.from_row, subcontractors.update_subcontractor,
        ("id", input.id, "Subcontractor", "id"), expected_version=input.expected_version, changes=changes,
    )
