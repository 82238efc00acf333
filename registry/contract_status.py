"""The status a contract reads as on a date (DESIGN.md "Domain" and "Time").

A contract's status is a dated history (ContractStatusChange): on a day it is the status of
the last change on or before it, DRAFT before the first; the stored `status` is the latest
change's, which is today's since no change takes effect in the future. EXPIRED is never
stored: a contract reads as EXPIRED once its expiry date has passed. A subcontractor's current contract is the one with the latest
effective_from on or before the day, else the latest effective_from overall. Contracts,
subcontractors and findings all read statuses this way.
"""

from collections.abc import Iterable
from datetime import date

from registry.enums import ContractStatus
from registry.models import Contract, ContractStatusChange


def recorded_status_on(changes: list[ContractStatusChange], day: date) -> ContractStatus:
    """The status the history records on `day` (expiry aside): the last change on or before
    it, DRAFT before the first. `changes` are in the order they were made."""
    status = ContractStatus.DRAFT
    for change in changes:
        if change.effective_on <= day:
            status = ContractStatus(change.status)
    return status


def status_on(contract: Contract, changes: list[ContractStatusChange], day: date) -> ContractStatus:
    """The status the contract reads as on `day`: EXPIRED after `expires_on`, else the history's."""
    return ContractStatus.EXPIRED if contract.expires_on < day else recorded_status_on(changes, day)


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
