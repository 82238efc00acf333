"""Who may do what: the role matrix of DESIGN.md, as data.

Authentication (which token is calling) lives in the gateway; this module only answers
whether a role holds a capability. The GraphQL layer enforces these answers field by
field and never decides them itself.
"""

from enum import StrEnum

from registry.enums import Role


class Capability(StrEnum):
    READ_REGISTRY = "read registry, handlings, findings and the notice"
    READ_PERSONAL_DATA = "read customers' personal data (displayName, email, a request's note)"
    READ_HISTORY = "read a subcontractor's history"
    READ_AUDIT = "read the audit trail"
    WRITE_VENDORS = "write subcontractors, assessments, contracts and entrustments"
    WRITE_PRIVACY = "write customers, requests and provision records"
    WRITE_REGISTRY = "write the business, purposes, data items, recipients, provisions and joint uses"


_ALL = frozenset(Capability)
MATRIX: dict[Role, frozenset[Capability]] = {
    Role.VIEWER: frozenset({Capability.READ_REGISTRY}),
    Role.VENDOR_MANAGER: frozenset(
        {Capability.READ_REGISTRY, Capability.READ_HISTORY, Capability.WRITE_VENDORS}
    ),
    Role.PRIVACY_OFFICER: _ALL,
    Role.ADMIN: _ALL,
}


def can(role: Role, capability: Capability) -> bool:
    return capability in MATRIX[Role(role)]
