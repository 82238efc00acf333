"""Scale data (issue 7): bulk rows that keep the registry's rules and read back like the
write functions' rows, on a small scale."""

import random
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from registry.audit import list_events
from registry.breach import breach_impact
from registry.contract_status import current_statuses
from registry.customers import status_on as customer_status_on
from registry.db import is_sqlite
from registry.enums import ContractClause, ContractStatus, CustomerStatus, HandlingRole, RequestKind, RequestStatus
from registry.errors import InvalidInput
from registry.handling import resolve_handlings
from registry.models import (
    Assessment,
    Contract,
    Customer,
    CustomerDataItem,
    DataItem,
    DataSubjectRequest,
    Entrustment,
    ProvisionRecord,
    Subcontractor,
)
from registry.scale import seed_scale
from registry.subcontractors import create_subcontractor, management_systems

CUSTOMERS, SUBCONTRACTORS = 500, 50


@pytest.fixture
async def scaled(db, clock):
    summary = await seed_scale(db, customers=CUSTOMERS, subcontractors=SUBCONTRACTORS, clock=clock)
    return summary


async def count(session, model) -> int:
    return (await session.exec(select(func.count()).select_from(model))).one()


async def test_scale_seeding_writes_the_sizes_asked_for(scaled, session):
    assert await count(session, Customer) == CUSTOMERS
    assert await count(session, Subcontractor) == SUBCONTRACTORS
    assert await count(session, Contract) == SUBCONTRACTORS  # one contract each
    entrustments = (await session.exec(
        select(Entrustment.contract_id, func.count()).group_by(Entrustment.contract_id))).all()
    assert len(entrustments) == SUBCONTRACTORS and {n for _, n in entrustments} <= {1, 2, 3}
    assert scaled.counts["customer"] == CUSTOMERS
    assert await count(session, ProvisionRecord) > 0 and await count(session, Assessment) > 0


async def test_every_contract_status_is_present_and_expiring_ones_too(scaled, session, clock):
    contracts = (await session.exec(select(Contract))).all()
    statuses = Counter(current_statuses(contracts, today=clock.today()).values())
    assert set(statuses) == set(ContractStatus)
    today = clock.today()
    assert any(0 <= (c.expires_on - today).days <= 60 and c.status is ContractStatus.ACTIVE for c in contracts)


async def test_contracts_that_were_activated_meet_the_activation_rules(scaled, session, clock):
    contracts = (await session.exec(select(Contract))).all()
    activated = [c for c in contracts if c.status in (
        ContractStatus.ACTIVE, ContractStatus.SUSPENDED, ContractStatus.TERMINATED)]
    systems = await management_systems(session, [c.subcontractor_id for c in activated])
    for contract in activated:
        assert {"ADEQUATE", "CONDITIONAL"} >= {systems[contract.subcontractor_id].assessment_result.value}
        assert {ContractClause.CONFIDENTIALITY, ContractClause.RETURN_OR_DELETION} <= set(contract.clauses)


async def test_re_entrustment_chains_exist_with_a_consenting_active_parent(scaled, session, clock):
    subs = {s.id: s for s in (await session.exec(select(Subcontractor))).all()}
    contracts = {c.subcontractor_id: c for c in (await session.exec(select(Contract))).all()}
    statuses = current_statuses(contracts.values(), today=clock.today())
    children = [s for s in subs.values() if s.parent_id is not None]
    assert children
    for child in children:
        parent_contract = contracts[child.parent_id]
        assert child.parent_id < child.id
        assert statuses[parent_contract.id] is ContractStatus.ACTIVE
        assert ContractClause.SUB_ENTRUSTMENT_CONSENT in parent_contract.clauses
        depth, node = 1, child
        while node.parent_id is not None:
            node, depth = subs[node.parent_id], depth + 1
        assert depth <= 3


async def test_customers_vary_in_held_items_status_and_requests(scaled, session, clock):
    phone = (await session.exec(select(DataItem).where(DataItem.code == "phone"))).one()
    with_phone = (await session.exec(select(func.count()).select_from(CustomerDataItem).where(
        CustomerDataItem.data_item_id == phone.id))).one()
    assert 0.45 * CUSTOMERS < with_phone < 0.75 * CUSTOMERS
    statuses = Counter(customer_status_on(c, clock.today()) for c in (await session.exec(select(Customer))).all())
    assert 0 < statuses[CustomerStatus.CANCELLED] < 0.15 * CUSTOMERS
    requests = (await session.exec(select(DataSubjectRequest))).all()
    assert {r.kind for r in requests if r.status is RequestStatus.COMPLETED} <= {
        RequestKind.DELETION, RequestKind.STOP_USE, RequestKind.STOP_THIRD_PARTY_PROVISION}
    erased = [r.customer_id for r in requests if r.kind is RequestKind.DELETION]
    for customer_id in erased:
        customer = await session.get(Customer, customer_id)
        assert customer.display_name is None and customer.email is None


async def test_handlings_of_a_random_customer_resolve(scaled, session, clock):
    customer_id = random.Random(1).randint(1, CUSTOMERS)
    handlings = await resolve_handlings(session, customer_id, as_of=clock.today(), include_excluded=True)
    roles = Counter(h.role for h in handlings)
    assert roles[HandlingRole.CONTROLLER] == 1 and roles[HandlingRole.THIRD_PARTY] == 1
    assert roles[HandlingRole.SUBCONTRACTOR] == SUBCONTRACTORS
    assert any(not h.excluded for h in handlings if h.role is HandlingRole.SUBCONTRACTOR)


async def test_breach_impact_of_an_active_subcontractor_counts_customers(scaled, session, clock):
    contracts = (await session.exec(select(Contract))).all()
    active = [c for c, s in zip(contracts, current_statuses(contracts, today=clock.today()).values())
              if s is ContractStatus.ACTIVE]
    sub = await session.get(Subcontractor, active[0].subcontractor_id)
    impact = await breach_impact(session, party=sub, today=clock.today())
    assert 0 < impact.affected_customers <= CUSTOMERS


async def test_the_whole_seeding_leaves_one_audit_event(scaled, session):
    page = await list_events(session, first=1000)
    seeding = [e for e in page.items if e.action == "registry.seed_scale"]
    assert len(seeding) == 1 and f'"customers": {CUSTOMERS}' in seeding[0].after


async def test_ids_continue_after_the_bulk_rows(scaled, session):
    sub = await create_subcontractor(session, actor="t", name="After the bulk K.K.", country="JP")
    assert sub.id == SUBCONTRACTORS + 1


async def test_postgresql_has_the_planner_statistics_of_the_bulk_rows(scaled, db, session):
    """The ANALYZE after the bulk load is committed: without statistics, PostgreSQL's planner
    read every item period to find a hundred customers' held items."""
    if is_sqlite(db.url):
        pytest.skip("PostgreSQL's planner statistics; SQLite's planner uses the indexes as they are")
    analysed = (await session.exec(sa.text(
        "SELECT count(*) FROM pg_stats WHERE tablename = 'customer_data_item' AND attname = 'customer_id'"))).one()
    assert analysed[0] == 1


async def test_a_non_empty_database_is_refused(db, session, clock):
    await create_subcontractor(session, actor="t", name="Already here K.K.", country="JP")
    with pytest.raises(InvalidInput, match="empty"):
        await seed_scale(db, customers=10, subcontractors=2, clock=clock)
    assert await count(session, Customer) == 0
