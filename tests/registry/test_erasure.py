"""Erasure means erasure (APPI Art. 35, issue 10 findings 8 and 14): a completed DELETION
leaves the customer's name, email and requests' free text nowhere, the audit trail included,
and the trail says that it was redacted."""

import json

from sqlmodel import select

from registry import audit, customers, requests
from registry.enums import RequestKind, RequestStatus
from registry.models import AuditEvent, DataSubjectRequest
from tests import factories
from tests.conftest import TEST_CLOCK
from tests.factories import SINCE

ACTOR = "po"
NAME, EMAIL = "Erase Me", "erase@example.test"
DETAIL, NOTE = "I am Erase Me of 1-2-3 Shibuya", "Identity checked by phone with Erase Me"


async def subject(session, biz, ref="ERASE-1", name=NAME, email=EMAIL):
    return await customers.register_customer(
        session, actor=ACTOR, business_code=biz.code, external_ref=ref, display_name=name, email=email,
        data_item_codes=["name", "email"], registered_on=SINCE, today=TEST_CLOCK.today(),
    )


async def walk(session, clock, customer, kind, *, detail=None, note=None, to=RequestStatus.COMPLETED):
    request = await requests.submit_request(
        session, actor=ACTOR, customer_id=customer.id, kind=kind, clock=clock, detail=detail
    )
    for status in (RequestStatus.IN_PROGRESS, to):
        await requests.transition_request(session, actor=ACTOR, id=request.id, to=status, clock=clock, note=note)
    return request


async def trail(session) -> list[AuditEvent]:
    return list((await session.exec(select(AuditEvent).order_by(AuditEvent.id))).all())


def documents(events: list[AuditEvent]) -> str:
    return "\n".join(f"{e.before}\n{e.after}" for e in events)


async def test_a_completed_deletion_redacts_every_earlier_event_of_the_customer_and_its_requests(session, clock):
    biz = await factories.business(session)
    customer = await subject(session, biz)
    await walk(session, clock, customer, RequestKind.DISCLOSURE, detail=DETAIL, note=NOTE)
    assert NAME in documents(await trail(session)) and DETAIL in documents(await trail(session))
    await walk(session, clock, customer, RequestKind.DELETION, detail=DETAIL, note=NOTE)
    events = await trail(session)
    for secret in (NAME, EMAIL, DETAIL, NOTE):
        assert secret not in documents(events)
    [registered] = [e for e in events if e.action == "customer.register"]
    after = json.loads(registered.after)
    assert (after["display_name"], after["email"], after["external_ref"]) == (audit.REDACTED, audit.REDACTED, "ERASE-1")
    assert (registered.actor, registered.entity_type, registered.entity_id) == (ACTOR, "Customer", customer.id)


async def test_the_redaction_is_itself_an_event_that_counts_without_repeating(session, clock):
    biz = await factories.business(session)
    customer = await subject(session, biz)
    deletion = await walk(session, clock, customer, RequestKind.DELETION, detail=DETAIL, note=NOTE)
    events = await trail(session)
    [redaction] = [e for e in events if e.action == "audit.redact"]
    assert (redaction.entity_type, redaction.entity_id, redaction.actor, redaction.before) == (
        "Customer", customer.id, ACTOR, None)
    after = json.loads(redaction.after)
    redacted = [e for e in events if e.id in after["event_ids"]]
    assert after["redacted_events"] == len(redacted) > 0
    # register, submit, IN_PROGRESS and COMPLETED held personal data; the redaction is the last event
    assert [e.action for e in redacted] == ["customer.register", "request.submit", "request.transition",
                                            "request.transition"]
    assert {e.entity_id for e in redacted if e.entity_type == "DataSubjectRequest"} == {deletion.id}
    assert events[-1].id == redaction.id


async def test_the_erasure_nulls_the_free_text_of_every_request_of_the_customer(session, clock):
    biz = await factories.business(session)
    customer = await subject(session, biz)
    open_one = await requests.submit_request(
        session, actor=ACTOR, customer_id=customer.id, kind=RequestKind.DISCLOSURE, clock=clock, detail=DETAIL
    )
    deletion = await walk(session, clock, customer, RequestKind.DELETION, detail=DETAIL, note=NOTE)
    rows = (await session.exec(select(DataSubjectRequest).where(DataSubjectRequest.customer_id == customer.id))).all()
    assert {(r.id, r.detail, r.note) for r in rows} == {(open_one.id, None, None), (deletion.id, None, None)}
    # the requests stay, as proof of what was asked and when it was done
    await session.refresh(deletion)
    assert (deletion.kind, deletion.status, deletion.resolved_on) == (
        RequestKind.DELETION, RequestStatus.COMPLETED, clock.today())
    erased = [e for e in await trail(session) if e.action == "request.erase"]
    assert {e.entity_id for e in erased} == {open_one.id, deletion.id}
    assert all(json.loads(e.before)["detail"] == audit.REDACTED for e in erased)


async def test_other_customers_and_other_requests_keep_their_trail(session, clock):
    biz = await factories.business(session)
    kept = await subject(session, biz, ref="KEEP-1", name="Keep Me", email="keep@example.test")
    await walk(session, clock, kept, RequestKind.STOP_USE, detail="Keep my detail", note="Keep my note")
    erased = await subject(session, biz)
    before = {e.id: (e.before, e.after) for e in await trail(session) if e.entity_id == kept.id
              or e.entity_type == "DataSubjectRequest"}
    await walk(session, clock, erased, RequestKind.DELETION)
    after = {e.id: (e.before, e.after) for e in await trail(session) if e.id in before}
    assert after == before
    assert "Keep my detail" in documents(await trail(session)) and NAME not in documents(await trail(session))


async def test_a_rejected_deletion_erases_nothing(session, clock):
    biz = await factories.business(session)
    customer = await subject(session, biz)
    await walk(session, clock, customer, RequestKind.DELETION, detail=DETAIL, to=RequestStatus.REJECTED)
    events = await trail(session)
    assert NAME in documents(events) and DETAIL in documents(events)
    assert not [e for e in events if e.action in ("audit.redact", "customer.erase", "request.erase")]


def test_a_requests_free_text_is_personal_data_hidden_from_roles_without_access():
    document = json.dumps({"detail": DETAIL, "note": None, "kind": "DELETION"})
    assert json.loads(audit.redact("DataSubjectRequest", document)) == {
        "detail": audit.REDACTED, "note": None, "kind": "DELETION"}
