"""The registry's closed vocabularies.

Each enum's member names are the enum values of `api/contract.graphql`, so the GraphQL
layer wraps these very classes and nothing is translated twice.
"""

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "VIEWER"
    VENDOR_MANAGER = "VENDOR_MANAGER"
    PRIVACY_OFFICER = "PRIVACY_OFFICER"
    ADMIN = "ADMIN"


class CustomerStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


class Sensitivity(StrEnum):
    ORDINARY = "ORDINARY"
    FINANCIAL = "FINANCIAL"  # payment data: a leak risks property damage (APPI Art. 26)
    SPECIAL_CARE = "SPECIAL_CARE"  # APPI "special care-required" personal information


class ContractStatus(StrEnum):
    DRAFT = "DRAFT"
    UNDER_REVIEW = "UNDER_REVIEW"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"
    EXPIRED = "EXPIRED"  # never stored: read when expiresOn has passed


class ContractClause(StrEnum):
    CONFIDENTIALITY = "CONFIDENTIALITY"
    PURPOSE_LIMITATION = "PURPOSE_LIMITATION"
    SECURITY_MEASURES = "SECURITY_MEASURES"
    SUB_ENTRUSTMENT_CONSENT = "SUB_ENTRUSTMENT_CONSENT"
    AUDIT_RIGHTS = "AUDIT_RIGHTS"
    BREACH_NOTIFICATION = "BREACH_NOTIFICATION"
    RETURN_OR_DELETION = "RETURN_OR_DELETION"


class Certification(StrEnum):
    PRIVACY_MARK = "PRIVACY_MARK"
    ISO_27001 = "ISO_27001"
    ISO_27701 = "ISO_27701"
    SOC2 = "SOC2"


class AssessmentResult(StrEnum):
    NOT_ASSESSED = "NOT_ASSESSED"
    ADEQUATE = "ADEQUATE"
    CONDITIONAL = "CONDITIONAL"
    INADEQUATE = "INADEQUATE"


class AssessmentState(StrEnum):
    """What a subcontractor list may be narrowed to about assessments (registry/findings.py
    ASSESSMENT_MISSING and ASSESSMENT_OVERDUE): under contract and never assessed, under
    contract with the latest assessment's next due date passed, or either."""

    MISSING = "MISSING"
    OVERDUE = "OVERDUE"
    MISSING_OR_OVERDUE = "MISSING_OR_OVERDUE"


class LegalBasis(StrEnum):
    CONSENT = "CONSENT"
    LAW = "LAW"
    OPT_OUT = "OPT_OUT"


class HandlingRole(StrEnum):
    CONTROLLER = "CONTROLLER"
    SUBCONTRACTOR = "SUBCONTRACTOR"
    THIRD_PARTY = "THIRD_PARTY"


class ExclusionReason(StrEnum):
    CONTRACT_NOT_ACTIVE = "CONTRACT_NOT_ACTIVE"
    CONTRACT_NOT_IN_EFFECT = "CONTRACT_NOT_IN_EFFECT"
    NO_HELD_DATA_ITEMS = "NO_HELD_DATA_ITEMS"
    NO_PERMITTED_PURPOSES = "NO_PERMITTED_PURPOSES"
    USE_STOPPED = "USE_STOPPED"
    THIRD_PARTY_PROVISION_STOPPED = "THIRD_PARTY_PROVISION_STOPPED"
    CHAIN_BROKEN = "CHAIN_BROKEN"
    CUSTOMER_NOT_REGISTERED = "CUSTOMER_NOT_REGISTERED"  # the date lies before the customer's registration
    SUB_ENTRUSTMENT_NOT_PERMITTED = "SUB_ENTRUSTMENT_NOT_PERMITTED"  # the parent's contract that day lacks consent
    FOREIGN_TRANSFER_WITHOUT_BASIS = "FOREIGN_TRANSFER_WITHOUT_BASIS"  # outside Japan, no APPI Art. 28 basis
    # beyond the contract: in its term, but none of its entrustments in effect that day
    NO_ENTRUSTMENT_IN_EFFECT = "NO_ENTRUSTMENT_IN_EFFECT"


class ForeignTransferBasis(StrEnum):
    """Why a transfer to a party outside Japan is lawful (APPI Art. 28)."""

    CONSENT_WITH_INFORMATION = "CONSENT_WITH_INFORMATION"  # consent after being told the country and its regime
    EQUIVALENT_MEASURES = "EQUIVALENT_MEASURES"  # a system equivalent to APPI (Rules Art. 16), Art. 28(3) follow-up
    ADEQUATE_COUNTRY = "ADEQUATE_COUNTRY"  # a country the PPC designates (the EEA, the UK)


class RequestKind(StrEnum):
    DISCLOSURE = "DISCLOSURE"
    CORRECTION = "CORRECTION"
    DELETION = "DELETION"
    STOP_USE = "STOP_USE"
    STOP_THIRD_PARTY_PROVISION = "STOP_THIRD_PARTY_PROVISION"


class RequestScope(StrEnum):
    """What a scoped request names (DESIGN.md "Time"): the purposes a STOP_USE stops, the items a
    DELETION deletes, the recipients a STOP_THIRD_PARTY_PROVISION stops, the items a CORRECTION
    adds and removes. A request that names none of its kind covers them all."""

    PURPOSE = "PURPOSE"
    DATA_ITEM = "DATA_ITEM"
    RECIPIENT = "RECIPIENT"
    ADD_DATA_ITEM = "ADD_DATA_ITEM"
    REMOVE_DATA_ITEM = "REMOVE_DATA_ITEM"


class BreachCause(StrEnum):
    UNKNOWN = "UNKNOWN"
    ACCIDENTAL = "ACCIDENTAL"
    MALICIOUS = "MALICIOUS"  # PPC Rules Art. 7(iii): unauthorised access, theft


class RequestStatus(StrEnum):
    RECEIVED = "RECEIVED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"


class Severity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    DUPLICATE = "DUPLICATE"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    PURPOSE_OUT_OF_SCOPE = "PURPOSE_OUT_OF_SCOPE"
    MANAGEMENT_SYSTEM_INADEQUATE = "MANAGEMENT_SYSTEM_INADEQUATE"
    MISSING_CONTRACT_CLAUSES = "MISSING_CONTRACT_CLAUSES"
    SUB_ENTRUSTMENT_NOT_PERMITTED = "SUB_ENTRUSTMENT_NOT_PERMITTED"
    PROVISION_NOT_APPLICABLE = "PROVISION_NOT_APPLICABLE"  # a provision record the handlings that day do not show
    OPT_OUT_NOT_PERMITTED = "OPT_OUT_NOT_PERMITTED"  # Art. 27(2): no PPC notification, or special-care items
