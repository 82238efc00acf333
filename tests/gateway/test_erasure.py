"""Erasure through HTTP on a migrated database (issue 10 finding 8; APPI Art. 35): after a
completed DELETION even an ADMIN reading `auditEvents` finds neither the customer's name and
email nor a request's free text, and finds the redaction itself; the append-only triggers of
the migrated database let exactly that redaction through."""

import json

from registry.enums import Role

CUSTOMER = 'query ($ref: String!) { customerByRef(businessCode: "loveinn-japan", externalRef: $ref) { id } }'
SUBMIT = """mutation ($c: ID!, $detail: String) { submitRequest(input: {customerId: $c, kind: DELETION, detail: $detail})
  { request { id } errors { code field message } } }"""
MOVE = """mutation ($id: ID!, $to: RequestStatus!, $note: String) { transitionRequest(input: {id: $id, to: $to, note: $note})
  { request { status } errors { code field message } } }"""
TRAIL = "{ auditEvents(first: 1000) { totalCount edges { node { action entityType entityId before after } } } }"

# LIJ-0001 as seeded by the demo: a pending DISCLOSURE request with its own free text.
NAME, EMAIL = "Hanako Yamada (fictional)", "lij-0001@example.test"
DEMO_DETAIL = "Please disclose what you hold about me and who receives it."
DETAIL, NOTE = "Delete everything about Hanako Yamada", "Identity of Hanako Yamada checked by phone"


async def trail(api) -> list[dict]:
    data = (await api.data(TRAIL))["auditEvents"]
    assert data["totalCount"] == len(data["edges"])
    return [edge["node"] for edge in data["edges"]]


def text(events: list[dict]) -> str:
    return "\n".join(f"{e['before']}\n{e['after']}" for e in events)


async def delete(api, ref: str) -> str:
    """File a DELETION with free text and complete it with a note, as a privacy officer."""
    customer = (await api.data(CUSTOMER, {"ref": ref}))["customerByRef"]["id"]
    submitted = await api.data(SUBMIT, {"c": customer, "detail": DETAIL}, role=Role.PRIVACY_OFFICER)
    request = submitted["submitRequest"]["request"]["id"]
    for status in ("IN_PROGRESS", "COMPLETED"):
        moved = await api.data(MOVE, {"id": request, "to": status, "note": NOTE}, role=Role.PRIVACY_OFFICER)
        assert moved["transitionRequest"] == {"request": {"status": status}, "errors": []}
    return customer


async def test_after_a_completed_deletion_the_admin_finds_no_personal_data_of_the_customer_in_the_trail(api):
    seeded = text(await trail(api))
    assert all(secret in seeded for secret in (NAME, EMAIL, DEMO_DETAIL))
    customer = await delete(api, "LIJ-0001")
    events = await trail(api)
    for secret in (NAME, EMAIL, DEMO_DETAIL, DETAIL, NOTE):
        assert secret not in text(events), secret
    [registered] = [e for e in events if e["action"] == "customer.register" and e["entityId"] == customer]
    assert json.loads(registered["after"])["external_ref"] == "LIJ-0001"
    assert "Taro Suzuki (fictional)" in text(events)  # another customer's trail is untouched


async def test_the_admin_finds_the_redaction_event_naming_how_many_events_were_redacted(api):
    customer = await delete(api, "LIJ-0001")
    events = await trail(api)
    [redaction] = [e for e in events if e["action"] == "audit.redact" and e["entityId"] == customer]
    assert (redaction["entityType"], redaction["before"]) == ("Customer", None)
    after = json.loads(redaction["after"])
    # register, the demo's disclosure request, and the deletion's submit and two transitions
    assert after["redacted_events"] == len(after["event_ids"]) == 5
    assert events[0] == redaction  # newest first: the redaction is the last write
