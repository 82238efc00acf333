import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import func, select

from registry import requests
from registry.clock import Clock
from registry.enums import RequestKind, RequestStatus
from registry.errors import InvalidInput, InvalidTransition, NotFound
from registry.models import AuditEvent, DataSubjectRequest
from tests import factories

ACTOR = "privacy-officer"
R = RequestStatus


async def counts(session, *models):
    return [(await session.exec(select(func.count()).select_from(m))).one() for m in models]


async def events(session, action):
    return list((await session.exec(select(AuditEvent).where(AuditEvent.action == action))).all())


async def _customer(session):
    cust = await factories.customer(session, await factories.business(session))
    await session.commit()
    return cust


async def _request(session, status, kind=RequestKind.DELETION):
    cust = await factories.customer(session, await factories.business(session))
    row = await factories.request(session, cust, kind, status=status)
    await session.commit()
    return row


async def test_a_request_is_received_now_and_due_after_the_set_number_of_days(session, clock):
    cust = await _customer(session)
    req = await requests.submit_request(
        session,
        actor=ACTOR,
        customer_id=cust.id,
        kind=RequestKind.DISCLOSURE,
        clock=clock,
        detail="All my data",
    )
    assert (req.status, req.received_at, req.due_on, req.version) == (
        R.RECEIVED,
        clock.now(),
        clock.today() + timedelta(days=14),
        1,
    )
    [event] = await events(session, "request.submit")
    assert (event.entity_type, event.entity_id) == ("DataSubjectRequest", req.id)
    later = await requests.submit_request(
        session, actor=ACTOR, customer_id=cust.id, kind=RequestKind.STOP_USE, clock=clock, due_days=30
    )
    assert later.due_on == date(2026, 12, 25)


async def test_a_request_for_an_unknown_customer_is_not_found(session, clock):
    with pytest.raises(NotFound) as raised:
        await requests.submit_request(
            session, actor=ACTOR, customer_id=404, kind=RequestKind.DELETION, clock=clock
        )
    assert raised.value.field == "customerId"
    assert await counts(session, DataSubjectRequest, AuditEvent) == [0, 0]


@pytest.mark.parametrize(
    "field, overrides", [("kind", {"kind": "FORGET_ME"}), ("detail", {"detail": "x" * 4001})]
)
async def test_a_malformed_request_is_invalid_input(session, clock, field, overrides):
    cust = await _customer(session)
    fields = dict(actor=ACTOR, customer_id=cust.id, kind=RequestKind.DELETION, clock=clock)
    with pytest.raises(InvalidInput) as raised:
        await requests.submit_request(session, **(fields | overrides))
    assert raised.value.field == field
    assert await counts(session, DataSubjectRequest, AuditEvent) == [0, 0]


async def test_a_request_moves_in_progress_then_resolves_on_todays_date(session, clock):
    # not a DELETION: its completion erases the note (tests/registry/test_erasure.py)
    req = await _request(session, R.RECEIVED, RequestKind.STOP_USE)
    started = await requests.transition_request(
        session, actor=ACTOR, id=req.id, to=R.IN_PROGRESS, clock=clock
    )
    assert (started.status, started.resolved_at, started.version) == (R.IN_PROGRESS, None, 2)
    done = await requests.transition_request(
        session, actor=ACTOR, id=req.id, to=R.COMPLETED, clock=clock, note="Stopped"
    )
    assert (done.status, done.resolved_at, done.resolved_on, done.note, done.version) == (
        R.COMPLETED,
        clock.now(),
        date(2026, 11, 25),
        "Stopped",
        3,
    )
    transitions = await events(session, "request.transition")
    assert [json.loads(e.after)["status"] for e in transitions] == ["IN_PROGRESS", "COMPLETED"]


async def test_the_resolution_date_is_the_local_date_in_the_business_time_zone(session):
    late_evening_utc = Clock(fixed=datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc))  # 01:00 in Tokyo
    req = await _request(session, R.IN_PROGRESS)
    done = await requests.transition_request(
        session, actor=ACTOR, id=req.id, to=R.REJECTED, clock=late_evening_utc
    )
    assert done.resolved_on == date(2026, 11, 26)


ALLOWED = {(R.RECEIVED, R.IN_PROGRESS), (R.IN_PROGRESS, R.COMPLETED), (R.IN_PROGRESS, R.REJECTED)}
REFUSED = [(a, b) for a in R for b in R if (a, b) not in ALLOWED]


def test_the_request_lifecycle_is_the_one_of_the_design():
    assert {(a, b) for a, targets in requests.ALLOWED_TRANSITIONS.items() for b in targets} == ALLOWED


@pytest.mark.parametrize("start, to", REFUSED)
async def test_any_other_request_transition_is_invalid_and_writes_nothing(session, clock, start, to):
    req = await _request(session, start)
    with pytest.raises(InvalidTransition) as raised:
        await requests.transition_request(session, actor=ACTOR, id=req.id, to=to, clock=clock)
    assert raised.value.field == "to"
    stored = await session.get(DataSubjectRequest, req.id, populate_existing=True)
    assert (stored.status, stored.version, await counts(session, AuditEvent)) == (start, 1, [0])


async def test_transitioning_an_unknown_request_is_not_found(session, clock):
    with pytest.raises(NotFound) as raised:
        await requests.transition_request(session, actor=ACTOR, id=404, to=R.IN_PROGRESS, clock=clock)
    assert raised.value.field == "id"


async def test_a_customers_requests_come_newest_first(session):
    cust = await _customer(session)
    old = await factories.request(
        session, cust, RequestKind.DISCLOSURE, received_at=datetime(2026, 1, 1, tzinfo=timezone.utc)
    )
    new = await factories.request(
        session, cust, RequestKind.DELETION, received_at=datetime(2026, 6, 1, tzinfo=timezone.utc)
    )
    await session.commit()
    found = await requests.requests_of(session, [cust.id, 404])
    assert [r.id for r in found[cust.id]] == [new.id, old.id] and found[404] == []


async def test_a_completed_deletion_erases_name_and_email_without_repeating_them(session, clock):
    biz = await factories.business(session)
    customer = await factories.customer(session, biz, display_name="Erase Me", email="erase@example.test")
    request = await requests.submit_request(
        session, actor="po", customer_id=customer.id, kind=RequestKind.DELETION, clock=clock
    )
    for status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
        await requests.transition_request(session, actor="po", id=request.id, to=status, clock=clock)
    await session.refresh(customer)
    assert (customer.display_name, customer.email) == (None, None)
    event = (await session.exec(select(AuditEvent).where(AuditEvent.action == "customer.erase"))).one()
    assert "Erase Me" not in event.before and "erase@example.test" not in event.before
    assert json.loads(event.after)["email"] is None


async def test_other_completed_requests_keep_name_and_email(session, clock):
    biz = await factories.business(session)
    customer = await factories.customer(session, biz, display_name="Keep Me")
    request = await requests.submit_request(
        session, actor="po", customer_id=customer.id, kind=RequestKind.STOP_USE, clock=clock
    )
    for status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
        await requests.transition_request(session, actor="po", id=request.id, to=status, clock=clock)
    await session.refresh(customer)
    assert customer.display_name == "Keep Me"
