"""The status a contract reads as on a date (DESIGN.md "Domain").

EXPIRED is never stored: a contract reads as EXPIRED once its expiry date has passed,
whatever status was stored. A subcontractor's current contract is the one with the latest
effective_from on or before the day, else the latest effective_from overall. Contracts,
subcontractors and findings all read statuses this way.
"""

from collections.abc import Iterable
from datetime import date

from registry.enums import ContractStatus
from registry.models import Contract


def effective_status(contract: Contract, today: date) -> ContractStatus:
    """The status a contract reads as: EXPIRED once `expires_on` has passed, whatever was stored."""
    return ContractStatus.EXPIRED if contract.expires_on < today else ContractStatus(contract.status)


def current_statuses(contracts: Iterable[Contract], *, today: date) -> dict[int, ContractStatus]:
    """Per subcontractor, the status read on `today` of its current contract."""

    def rank(c: Contract):
        return (c.effective_from <= today, c.effective_from, c.id)

    current: dict[int, Contract] = {}
    for c in contracts:
        if c.subcontractor_id not in current or rank(c) > rank(current[c.subcontractor_id]):
            current[c.subcontractor_id] = c
    return {sid: effective_status(c, today) for sid, c in current.items()}
