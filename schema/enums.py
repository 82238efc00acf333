"""The contract's enums: the registry's own classes, registered with Strawberry."""

from collections.abc import Mapping
from enum import StrEnum

import strawberry

from registry import enums


def _described(enum: type[StrEnum], descriptions: Mapping[str, str]) -> type[StrEnum]:
    """The Strawberry enum with a description for each of its values (the registry's classes
    carry none)."""
    for value in enum.__strawberry_definition__.values:
        value.description = descriptions[value.name]
    return enum


Role = strawberry.enum(enums.Role, description="What a token's holder may see and do.")
CustomerStatus = strawberry.enum(enums.CustomerStatus, description="Whether the customer still uses the service.")
Sensitivity = strawberry.enum(
    enums.Sensitivity,
    description="How harmful a leak of the item is: FINANCIAL risks property damage; "
    "SPECIAL_CARE is APPI 'special care-required' information. Both make a leak reportable (APPI Art. 26).",
)
ContractStatus = strawberry.enum(
    enums.ContractStatus,
    description="DRAFT -> UNDER_REVIEW -> ACTIVE <-> SUSPENDED; ACTIVE|SUSPENDED -> TERMINATED; "
    "DRAFT|UNDER_REVIEW -> TERMINATED. EXPIRED is read, never stored: expiresOn has passed.",
)
ContractClause = strawberry.enum(
    enums.ContractClause,
    description="A clause of an entrustment contract. Activation needs CONFIDENTIALITY, PURPOSE_LIMITATION, "
    "SECURITY_MEASURES, BREACH_NOTIFICATION and RETURN_OR_DELETION.",
)
Certification = strawberry.enum(enums.Certification, description="A certification of a management system.")
AssessmentResult = strawberry.enum(
    enums.AssessmentResult,
    description="The outcome of assessing a subcontractor's management system (seed section 9).",
)
AssessmentState = _described(strawberry.enum(
    enums.AssessmentState,
    description="A subcontractor's assessment as `complianceFindings` judges it (a filter of `subcontractors`).",
), {
    "MISSING": "Under contract and never assessed (or the latest is NOT_ASSESSED): the finding ASSESSMENT_MISSING.",
    "OVERDUE": "Under contract and the latest assessment's nextDueOn has passed: the finding ASSESSMENT_OVERDUE.",
    "MISSING_OR_OVERDUE": "Either of the two.",
})
LegalBasis = strawberry.enum(enums.LegalBasis, description="Why a provision to a third party is lawful (APPI Art. 27).")
HandlingRole = strawberry.enum(enums.HandlingRole, description="On what footing a party handles the data.")
ExclusionReason = _described(
    strawberry.enum(enums.ExclusionReason, description="Why a party does not handle a customer's data."),
    {  # the contract's comments, and NO_ENTRUSTMENT_IN_EFFECT, which is ours
        "CONTRACT_NOT_ACTIVE": "The contract's status on asOf is not ACTIVE.",
        "CONTRACT_NOT_IN_EFFECT": "asOf lies outside the contract's effectiveFrom..expiresOn.",
        "NO_HELD_DATA_ITEMS": "None of the items the party would handle on asOf (those entrusted or provided "
        "that day; for the business, any) is held for this customer.",
        "NO_PERMITTED_PURPOSES": "None of the purposes the party would handle on asOf is permitted for this "
        "customer (e.g. after cancellation).",
        "USE_STOPPED": "A completed STOP_USE request stopped the purposes it would handle.",
        "THIRD_PARTY_PROVISION_STOPPED": "A completed STOP_THIRD_PARTY_PROVISION request.",
        "CHAIN_BROKEN": "A re-entrusted subcontractor whose entrusting parent does not handle.",
        "CUSTOMER_NOT_REGISTERED": "asOf lies before the customer's registeredOn.",
        "SUB_ENTRUSTMENT_NOT_PERMITTED": "The parent's contract in effect on asOf lacks SUB_ENTRUSTMENT_CONSENT.",
        "FOREIGN_TRANSFER_WITHOUT_BASIS": "A party outside Japan with no APPI Art. 28 basis recorded "
        "(foreignTransferBasis); those it re-entrusted are then CHAIN_BROKEN.",
        "NO_ENTRUSTMENT_IN_EFFECT": "asOf lies within the contract's term but none of its entrustments is in "
        "effect then (none begun yet, or all ended), so it handles nothing of anyone's; outside the term "
        "CONTRACT_NOT_IN_EFFECT says so instead.",
    },
)
ForeignTransferBasis = _described(
    strawberry.enum(enums.ForeignTransferBasis, description="Why a transfer to a party outside Japan is lawful "
                    "(APPI Art. 28); a party outside Japan without one receives nothing."),
    {
        "CONSENT_WITH_INFORMATION": "Consent after being told the country, its regime and the recipient's measures.",
        "EQUIVALENT_MEASURES": "The recipient keeps a system equivalent to APPI (PPC Rules Art. 16), with the "
        "follow-up of Art. 28(3).",
        "ADEQUATE_COUNTRY": "A country the PPC designates (the EEA, the UK).",
    },
)
RequestKind = strawberry.enum(enums.RequestKind, description="What a data-subject request asks (seed sections 8 and 10).")
RequestStatus = strawberry.enum(
    enums.RequestStatus, description="RECEIVED -> IN_PROGRESS -> COMPLETED | REJECTED."
)
Severity = strawberry.enum(enums.Severity, description="How urgent a finding is; CRITICAL fails `pi-gateway check`.")
BreachCause = strawberry.enum(
    enums.BreachCause, description="What caused a breach; MALICIOUS (unauthorised access, theft) makes it reportable "
    "whatever the items (PPC Rules Art. 7(iii)).",
)
ErrorCode = strawberry.enum(enums.ErrorCode, description="Why a write was refused; nothing was written.")


@strawberry.enum(description="The markup of the rendered privacy notice.")
class NoticeFormat(StrEnum):
    MARKDOWN = "MARKDOWN"
    HTML = "HTML"


@strawberry.enum(description="The language of the privacy notice: its fixed wording from the message catalogs, "
                             "the registry's texts from their Japanese versions (the English one where none).")
class Language(StrEnum):
    EN = "EN"
    JA = "JA"
