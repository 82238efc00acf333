from datetime import date

import pytest
import sqlalchemy as sa

from registry.enums import (
    ContractClause, ContractStatus, CustomerStatus, ExclusionReason as R, HandlingRole, RequestKind, RequestStatus,
)
from registry.errors import NotFound
from registry.handling import resolve_handlings
from registry.models import Subcontractor
from tests import factories as f

TODAY = date(2026, 11, 25)


@pytest.fixture
async def world(session):
    """A business with its purposes and items, keyed by code."""
    biz = await f.business(session)
    return biz, await f.purposes(session, biz), await f.items(session, biz)


async def resolve(session, customer, as_of=TODAY, include_excluded=True):
    await session.commit()
    return await resolve_handlings(session, customer.id, as_of=as_of, include_excluded=include_excluded)


def codes(rows):
    return [r.code for r in rows]


def of(handlings, role):
    return [h for h in handlings if h.role == role]


async def completed(session, customer, kind, on):
    await f.request(session, customer, kind, status=RequestStatus.COMPLETED, resolved_on=on)


# --- held items and permitted purposes ---------------------------------------------------


async def test_controller_handles_held_items_for_all_purposes_while_active(session, world):
    biz, _, items = world
    cust = await f.customer(session, biz, [items["name"], items["email"]])
    [controller] = await resolve(session, cust)
    assert controller.role == HandlingRole.CONTROLLER and controller.party.id == biz.id
    assert codes(controller.data_items) == ["name", "email"]
    assert codes(controller.purposes) == ["P1", "P2", "P3", "P4", "P5"]
    assert not controller.excluded and controller.exclusion_reasons == []


async def test_completed_deletion_leaves_nothing_held(session, world):
    biz, _, items = world
    cust = await f.customer(session, biz, [items["name"]])
    await completed(session, cust, RequestKind.DELETION, date(2026, 11, 20))
    [controller] = await resolve(session, cust)
    assert controller.excluded and controller.exclusion_reasons == [R.NO_HELD_DATA_ITEMS]
    assert controller.data_items == []


async def test_deletion_takes_effect_from_its_resolution_date(session, world):
    biz, _, items = world
    cust = await f.customer(session, biz, [items["name"]])
    await completed(session, cust, RequestKind.DELETION, date(2026, 11, 20))
    [before] = await resolve(session, cust, as_of=date(2026, 11, 19))
    [on_the_day] = await resolve(session, cust, as_of=date(2026, 11, 20))
    assert not before.excluded and codes(before.data_items) == ["name"]
    assert on_the_day.excluded


async def test_deletion_in_progress_changes_nothing(session, world):
    biz, _, items = world
    cust = await f.customer(session, biz, [items["name"]])
    await f.request(session, cust, RequestKind.DELETION, status=RequestStatus.IN_PROGRESS)
    [controller] = await resolve(session, cust)
    assert not controller.excluded


async def test_cancelled_customer_keeps_only_after_cancellation_purposes(session, world):
    biz, _, items = world
    cust = await f.customer(session, biz, [items["name"]], status=CustomerStatus.CANCELLED,
                            cancelled_on=date(2026, 10, 1))
    [controller] = await resolve(session, cust)
    assert codes(controller.purposes) == ["P2", "P3"]


async def test_cancellation_counts_from_its_date(session, world):
    biz, _, items = world
    cust = await f.customer(session, biz, [items["name"]], status=CustomerStatus.CANCELLED,
                            cancelled_on=date(2026, 10, 1))
    [before] = await resolve(session, cust, as_of=date(2026, 9, 30))
    [on_the_day] = await resolve(session, cust, as_of=date(2026, 10, 1))
    assert codes(before.purposes) == ["P1", "P2", "P3", "P4", "P5"]
    assert codes(on_the_day.purposes) == ["P2", "P3"]


async def test_party_without_permitted_purposes_is_excluded_no_permitted_purposes(session, world):
    biz, purposes, items = world
    sub = await f.subcontractor(session)
    contract = await f.contract(session, biz, sub)
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]], status=CustomerStatus.CANCELLED,
                            cancelled_on=date(2026, 10, 1))
    [sub_handling] = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert sub_handling.exclusion_reasons == [R.NO_PERMITTED_PURPOSES]
    assert codes(sub_handling.data_items) == ["name"] and sub_handling.purposes == []


async def test_completed_stop_use_excludes_every_party_with_use_stopped(session, world):
    biz, purposes, items = world
    sub = await f.subcontractor(session)
    contract = await f.contract(session, biz, sub)
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    await completed(session, cust, RequestKind.STOP_USE, date(2026, 11, 10))
    handlings = await resolve(session, cust)
    assert [h.exclusion_reasons for h in handlings] == [[R.USE_STOPPED], [R.USE_STOPPED]]
    assert all(h.purposes == [] for h in handlings)
    [before] = of(await resolve(session, cust, as_of=date(2026, 11, 9)), HandlingRole.CONTROLLER)
    assert not before.excluded


async def test_customer_holding_nothing_leaves_controller_excluded_no_held_items(session, world):
    biz, _, _ = world
    cust = await f.customer(session, biz, [])
    [controller] = await resolve(session, cust)
    assert controller.exclusion_reasons == [R.NO_HELD_DATA_ITEMS]
    assert codes(controller.purposes) == ["P1", "P2", "P3", "P4", "P5"]


# --- subcontractors -----------------------------------------------------------------------


async def test_subcontractor_handles_entrusted_items_held_for_entrusted_purposes(session, world):
    biz, purposes, items = world
    sub = await f.subcontractor(session)
    contract = await f.contract(session, biz, sub)
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"], items["phone"]])
    await f.entrustment(session, contract, [purposes["P4"]], [items["email"]])
    cust = await f.customer(session, biz, [items["name"], items["email"], items["amount"]])
    [handling] = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert handling.party.id == sub.id and handling.contract.id == contract.id
    assert codes(handling.data_items) == ["name", "email"]  # phone (voluntary) not given: not held
    assert codes(handling.purposes) == ["P1", "P4"]
    assert not handling.excluded and handling.chain == []


async def test_contract_not_active_is_excluded_with_every_reason_that_applies(session, world):
    biz, purposes, items = world
    sub = await f.subcontractor(session)
    contract = await f.contract(session, biz, sub, status=ContractStatus.SUSPENDED)
    await f.entrustment(session, contract, [purposes["P1"]], [items["bank_account"]])
    cust = await f.customer(session, biz, [items["name"]])
    [handling] = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert handling.excluded
    assert handling.exclusion_reasons == [R.CONTRACT_NOT_ACTIVE, R.NO_HELD_DATA_ITEMS]
    assert codes(handling.purposes) == ["P1"]


async def test_contract_status_is_the_stored_one(session, world):
    biz, purposes, items = world
    sub = await f.subcontractor(session)
    contract = await f.contract(session, biz, sub, status=ContractStatus.UNDER_REVIEW)
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    [handling] = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert handling.exclusion_reasons == [R.CONTRACT_NOT_ACTIVE]


async def test_contract_outside_its_effective_period_is_not_in_effect(session, world):
    biz, purposes, items = world
    sub = await f.subcontractor(session)
    contract = await f.contract(session, biz, sub, effective_from=date(2026, 6, 1), expires_on=date(2026, 12, 31))
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    for as_of, reasons in [
        # before its start: not yet ACTIVE (its history begins then) nor in effect; nothing is
        # entrusted yet, so the customer's items and purposes are not in question
        (date(2026, 5, 31), [R.CONTRACT_NOT_ACTIVE, R.CONTRACT_NOT_IN_EFFECT]),
        (date(2026, 6, 1), []),
        (date(2026, 12, 31), []),
        (date(2027, 1, 1), [R.CONTRACT_NOT_IN_EFFECT]),
    ]:
        [handling] = of(await resolve(session, cust, as_of=as_of), HandlingRole.SUBCONTRACTOR)
        assert handling.exclusion_reasons == reasons, as_of


async def test_a_contract_in_its_term_with_no_entrustment_in_effect_is_excluded_for_that_not_for_the_customer(
        session, world):
    biz, purposes, items = world
    sub = await f.subcontractor(session)
    contract = await f.contract(session, biz, sub)  # ACTIVE 2026-01-01..2027-12-31
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"]], effective_from=date(2026, 6, 1),
                        effective_until=date(2026, 9, 30))
    holds = await f.customer(session, biz, [items["name"]])
    holds_other = await f.customer(session, biz, [items["email"]])
    for cust, as_of, reasons in [
        (holds, date(2026, 5, 31), [R.NO_ENTRUSTMENT_IN_EFFECT]),  # not begun yet
        (holds, date(2026, 6, 1), []),
        (holds, date(2026, 10, 1), [R.NO_ENTRUSTMENT_IN_EFFECT]),  # ended
        (holds_other, date(2026, 6, 1), [R.NO_HELD_DATA_ITEMS]),  # entrusted, but not held for this customer
        (holds_other, date(2026, 10, 1), [R.NO_ENTRUSTMENT_IN_EFFECT]),
        (holds, date(2019, 12, 31), [R.CONTRACT_NOT_ACTIVE, R.CONTRACT_NOT_IN_EFFECT, R.CUSTOMER_NOT_REGISTERED]),
    ]:
        [handling] = of(await resolve(session, cust, as_of=as_of), HandlingRole.SUBCONTRACTOR)
        assert (handling.excluded, handling.exclusion_reasons) == (bool(reasons), reasons), (cust.id, as_of)


async def test_a_draft_contract_in_its_term_with_nothing_entrusted_gives_both_reasons(session, world):
    biz, _, items = world
    contract = await f.contract(session, biz, await f.subcontractor(session), status=ContractStatus.DRAFT)
    cust = await f.customer(session, biz, [items["name"]])
    [handling] = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert handling.contract.id == contract.id
    assert handling.exclusion_reasons == [R.CONTRACT_NOT_ACTIVE, R.NO_ENTRUSTMENT_IN_EFFECT]
    assert (handling.data_items, handling.purposes) == ([], [])


async def test_one_handling_per_contract_of_the_same_subcontractor(session, world):
    biz, purposes, items = world
    sub = await f.subcontractor(session)
    first = await f.contract(session, biz, sub)
    second = await f.contract(session, biz, sub)
    await f.entrustment(session, first, [purposes["P1"]], [items["name"]])
    await f.entrustment(session, second, [purposes["P4"]], [items["email"]])
    cust = await f.customer(session, biz, [items["name"], items["email"]])
    handlings = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert [(h.contract.id, codes(h.data_items), codes(h.purposes)) for h in handlings] == [
        (first.id, ["name"], ["P1"]), (second.id, ["email"], ["P4"]),
    ]


async def test_contract_of_another_business_is_not_this_customers_handling(session, world):
    biz, purposes, items = world
    other = await f.business(session)
    other_items, other_purposes = await f.items(session, other), await f.purposes(session, other)
    sub = await f.subcontractor(session)
    contract = await f.contract(session, other, sub)
    await f.entrustment(session, contract, [other_purposes["P1"]], [other_items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    assert of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR) == []


# --- re-entrustment chains ------------------------------------------------------------------


CONSENT = [str(c) for c in f.REQUIRED_CLAUSES] + [ContractClause.SUB_ENTRUSTMENT_CONSENT]


async def _chain(session, world, child_items=("name", "email"), parent_status=ContractStatus.ACTIVE,
                 parent_clauses=CONSENT):
    """A parent subcontractor entrusted with name for P3, which (with its contract's consent)
    re-entrusts a child with `child_items` for P3 and P4."""
    biz, purposes, items = world
    parent = await f.subcontractor(session, name="Survey Co")
    child = await f.subcontractor(session, name="Panel Co", parent_id=parent.id)
    parent_contract = await f.contract(session, biz, parent, status=parent_status, clauses=parent_clauses)
    await f.entrustment(session, parent_contract, [purposes["P3"]], [items["name"]])
    child_contract = await f.contract(session, biz, child)
    await f.entrustment(session, child_contract, [purposes["P3"], purposes["P4"]],
                        [items[c] for c in child_items])
    return parent, child


async def test_re_entrusted_subcontractor_handles_at_most_what_its_parent_handles(session, world):
    biz, _, items = world
    parent, child = await _chain(session, world)
    cust = await f.customer(session, biz, [items["name"], items["email"]])
    parent_h, child_h = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert codes(parent_h.data_items) == ["name"] and codes(parent_h.purposes) == ["P3"]
    assert codes(child_h.data_items) == ["name"] and codes(child_h.purposes) == ["P3"]
    assert [s.id for s in child_h.chain] == [parent.id]
    assert not child_h.excluded


async def test_parents_suspended_contract_breaks_the_chain(session, world):
    biz, _, items = world
    await _chain(session, world, parent_status=ContractStatus.SUSPENDED)
    cust = await f.customer(session, biz, [items["name"], items["email"]])
    parent_h, child_h = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert parent_h.exclusion_reasons == [R.CONTRACT_NOT_ACTIVE]
    assert child_h.exclusion_reasons == [R.CHAIN_BROKEN]
    assert codes(child_h.data_items) == ["name"]  # what it would handle under its parent


async def test_parent_without_a_contract_with_the_business_breaks_the_chain(session, world):
    biz, purposes, items = world
    parent = await f.subcontractor(session)
    child = await f.subcontractor(session, parent_id=parent.id)
    contract = await f.contract(session, biz, child)
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    [child_h] = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert R.CHAIN_BROKEN in child_h.exclusion_reasons
    assert [s.id for s in child_h.chain] == [parent.id]


async def test_chain_lists_parents_nearest_first_at_depth_two(session, world):
    biz, purposes, items = world
    top = await f.subcontractor(session, name="Top")
    middle = await f.subcontractor(session, name="Middle", parent_id=top.id)
    bottom = await f.subcontractor(session, name="Bottom", parent_id=middle.id)
    for sub in (top, middle, bottom):
        contract = await f.contract(session, biz, sub, clauses=CONSENT)
        await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    handlings = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert [[s.name for s in h.chain] for h in handlings] == [[], ["Top"], ["Middle", "Top"]]
    assert not any(h.excluded for h in handlings)


async def test_broken_link_breaks_everything_below_it(session, world):
    biz, purposes, items = world
    top = await f.subcontractor(session)
    middle = await f.subcontractor(session, parent_id=top.id)
    bottom = await f.subcontractor(session, parent_id=middle.id)
    for sub in (top, middle, bottom):
        status = ContractStatus.TERMINATED if sub is top else ContractStatus.ACTIVE
        contract = await f.contract(session, biz, sub, status=status)
        await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    handlings = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert [h.exclusion_reasons for h in handlings] == [
        [R.CONTRACT_NOT_ACTIVE], [R.CHAIN_BROKEN], [R.CHAIN_BROKEN],
    ]


async def test_parent_cycle_terminates_and_breaks_the_chain(session, world):
    biz, purposes, items = world
    a = await f.subcontractor(session)
    b = await f.subcontractor(session, parent_id=a.id)
    await session.exec(sa.update(Subcontractor).where(Subcontractor.id == a.id).values(parent_id=b.id))
    contract = await f.contract(session, biz, b)
    await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    await session.commit()
    session.expunge_all()
    [handling] = of(await resolve(session, cust), HandlingRole.SUBCONTRACTOR)
    assert R.CHAIN_BROKEN in handling.exclusion_reasons
    assert [s.id for s in handling.chain] == [a.id]


# --- third parties ------------------------------------------------------------------------


async def test_third_party_handles_provided_items_held_for_provided_purposes(session, world):
    biz, purposes, items = world
    recipient = await f.recipient(session)
    provision = await f.provision(session, biz, recipient, [purposes["P5"]],
                                  [items["name"], items["amount"], items["bank_account"]])
    cust = await f.customer(session, biz, [items["name"], items["amount"]])
    [handling] = of(await resolve(session, cust), HandlingRole.THIRD_PARTY)
    assert handling.party.id == recipient.id and handling.provision.id == provision.id
    assert codes(handling.data_items) == ["name", "amount"] and codes(handling.purposes) == ["P5"]
    assert not handling.excluded


async def test_completed_stop_third_party_provision_excludes_only_third_parties(session, world):
    biz, purposes, items = world
    await f.provision(session, biz, await f.recipient(session), [purposes["P5"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    await completed(session, cust, RequestKind.STOP_THIRD_PARTY_PROVISION, date(2026, 11, 1))
    controller, third = await resolve(session, cust)
    assert not controller.excluded
    assert third.exclusion_reasons == [R.THIRD_PARTY_PROVISION_STOPPED]
    assert codes(third.data_items) == ["name"]
    _, before = await resolve(session, cust, as_of=date(2026, 10, 31))
    assert not before.excluded


async def test_inactive_provision_is_no_handling(session, world):
    biz, purposes, items = world
    await f.provision(session, biz, await f.recipient(session), [purposes["P5"]], [items["name"]], active=False)
    cust = await f.customer(session, biz, [items["name"]])
    assert of(await resolve(session, cust), HandlingRole.THIRD_PARTY) == []


# --- listing -----------------------------------------------------------------------------


async def test_include_excluded_false_lists_only_parties_that_handle(session, world):
    biz, purposes, items = world
    handling_sub, idle_sub = await f.subcontractor(session), await f.subcontractor(session)
    c1 = await f.contract(session, biz, handling_sub)
    await f.entrustment(session, c1, [purposes["P1"]], [items["name"]])
    c2 = await f.contract(session, biz, idle_sub, status=ContractStatus.DRAFT)
    await f.entrustment(session, c2, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    shown = await resolve(session, cust, include_excluded=False)
    everything = await resolve(session, cust, include_excluded=True)
    assert [h.party.id for h in shown] == [biz.id, handling_sub.id]
    assert [h.party.id for h in everything] == [biz.id, handling_sub.id, idle_sub.id]


async def test_order_is_controller_then_contracts_then_provisions(session, world):
    biz, purposes, items = world
    r1, r2 = await f.recipient(session, name="R1"), await f.recipient(session, name="R2")
    await f.provision(session, biz, r2, [purposes["P5"]], [items["name"]])
    await f.provision(session, biz, r1, [purposes["P5"]], [items["name"]])
    s1, s2 = await f.subcontractor(session, name="S1"), await f.subcontractor(session, name="S2")
    for sub in (s2, s1):
        contract = await f.contract(session, biz, sub)
        await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
    cust = await f.customer(session, biz, [items["name"]])
    handlings = await resolve(session, cust)
    assert [h.party.name for h in handlings] == [biz.name, "S2", "S1", "R2", "R1"]


async def test_unknown_customer_is_not_found(session):
    with pytest.raises(NotFound) as err:
        await resolve_handlings(session, 424242, as_of=TODAY)
    assert err.value.field == "id"


async def test_number_of_queries_does_not_grow_with_contracts(db, session, world):
    biz, purposes, items = world
    cust = await f.customer(session, biz, [items["name"]])
    statements, contracts = [], []

    def count(*_args):
        statements.append(1)

    async def queries_for_contracts(total):
        for _ in range(total - len(contracts)):
            contracts.append(await f.contract(session, biz, await f.subcontractor(session)))
            await f.entrustment(session, contracts[-1], [purposes["P1"]], [items["name"]])
        await session.commit()
        session.expunge_all()
        statements.clear()
        sa.event.listen(db.writer.sync_engine, "before_cursor_execute", count)
        try:
            # as the gateway asks: knowing today, a party's jurisdiction today needs no query
            handlings = await resolve_handlings(session, cust.id, as_of=TODAY, today=TODAY)
        finally:
            sa.event.remove(db.writer.sync_engine, "before_cursor_execute", count)
        assert len(handlings) == total + 1
        return len(statements)

    one = await queries_for_contracts(1)
    ten = await queries_for_contracts(10)
    assert one == ten
    assert 10 <= one <= 16, one
