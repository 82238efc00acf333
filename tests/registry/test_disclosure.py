"""The disclosure answer (seed §10, APPI Art. 33, with the provision records of Art. 33(5))."""

from datetime import date

import pytest

from registry import provisions
from registry.disclosure import render_disclosure
from registry.enums import ContractClause, ContractStatus, ForeignTransferBasis, RequestKind, RequestStatus
from registry.errors import InvalidInput, NotFound
from tests import factories as f

TODAY = date(2026, 11, 25)


async def world(session, *, display_name="Hanako Yamada", recipient_name="Financial institutions",
                sub_name="Sakura Payments", held=("name", "email", "amount")):
    """A customer of a business with a payment subcontractor, a survey company re-entrusting
    to a panel provider in Singapore, a suspended mailer, a provision to a recipient with one
    record, and one open request."""
    biz = await f.business(session, name="Loveinn Japan", operator_name="ALMEX Inc.")
    ps, its = await f.purposes(session, biz), await f.items(session, biz)
    pay = await f.subcontractor(session, name=sub_name)
    await f.entrustment(session, await f.contract(session, biz, pay, reference="PAY-1"),
                        [ps["P1"], ps["P5"]], [its["name"], its["amount"]])
    survey = await f.subcontractor(session, name="Tsubame Research")
    consenting = [str(c) for c in f.REQUIRED_CLAUSES] + [ContractClause.SUB_ENTRUSTMENT_CONSENT]
    await f.entrustment(session, await f.contract(session, biz, survey, reference="SUR-1", clauses=consenting),
                        [ps["P3"]], [its["name"], its["email"]])
    panel = await f.subcontractor(session, name="Panelist Hub", country="SG", parent_id=survey.id,
                                  foreign_transfer_basis=ForeignTransferBasis.EQUIVALENT_MEASURES)
    await f.entrustment(session, await f.contract(session, biz, panel, reference="SUR-2"), [ps["P3"]], [its["email"]])
    mailer = await f.subcontractor(session, name="Nami Mailing")
    await f.entrustment(session, await f.contract(session, biz, mailer, reference="MAIL-1",
                                                  status=ContractStatus.SUSPENDED), [ps["P2"]], [its["email"]])
    bank = await f.recipient(session, name=recipient_name)
    provision = await f.provision(session, biz, bank, [ps["P5"]], [its["name"], its["amount"]])
    customer = await f.customer(session, biz, [its[c] for c in held], display_name=display_name,
                                email="hanako@example.test", external_ref="LIJ-0001")
    await f.request(session, customer, RequestKind.DISCLOSURE, due_on=date(2026, 12, 9))
    await session.commit()
    if "amount" in held:
        await provisions.record_provision(
            session, actor="officer", provision_id=provision.id, customer_id=customer.id,
            provided_on=date(2026, 11, 20), data_item_codes=["name", "amount"], today=date(2026, 11, 25),
        )
    return biz, customer


def section(text: str, title: str) -> str:
    """The body of the Markdown section whose heading contains `title`."""
    parts = text.split("\n## ")
    return next(p for p in parts if p.splitlines()[0].count(title))


async def test_the_answer_names_the_business_and_the_customer(session):
    _, customer = await world(session)
    text = await render_disclosure(session, customer.id, as_of=TODAY)
    assert text.startswith("# Disclosure of personal information held by Loveinn Japan\n")
    head = text.split("\n## ")[0]
    assert "ALMEX Inc." in head and "Customer reference: LIJ-0001" in head and "As of: 2026-11-25" in head


async def test_the_answer_states_the_personal_information_held(session):
    _, customer = await world(session)
    held = section(await render_disclosure(session, customer.id, as_of=TODAY), "Personal information held")
    assert "- Name: Hanako Yamada" in held and "- Email address: hanako@example.test" in held
    assert "Items held on 2026-11-25: name, email, amount" in held
    assert "- Registered on: 2020-01-01" in held and "- Customer status: active" in held


@pytest.mark.parametrize("as_of, status", [
    (TODAY, "active; cancels on 2026-12-25"), (date(2026, 12, 25), "cancelled on 2026-12-25"),
])
async def test_a_scheduled_cancellation_reads_as_such_before_its_day(session, as_of, status):
    _, customer = await world(session)
    customer.cancelled_on = date(2026, 12, 25)
    await session.commit()
    held = section(await render_disclosure(session, customer.id, as_of=as_of), "Personal information held")
    assert f"- Customer status: {status}" in held


async def test_who_handles_it_lists_each_party_with_role_items_purposes_footing_and_country(session):
    _, customer = await world(session)
    who = section(await render_disclosure(session, customer.id, as_of=TODAY), "Who handles it")
    parties = [line[4:] for line in who.splitlines() if line.startswith("### ")]
    assert parties == ["Loveinn Japan", "Sakura Payments", "Tsubame Research", "Panelist Hub",
                       "Financial institutions"]
    pay = who.split("### Sakura Payments")[1].split("###")[0]
    assert "Role: subcontractor" in pay and "Items: name, amount" in pay
    assert "Purposes of use: 1. Purpose 1; 5. Purpose 5" in pay and "contract PAY-1" in pay
    panel = who.split("### Panelist Hub")[1].split("###")[0]
    assert "Country: SG (a foreign country, APPI Art. 28)" in panel
    assert "Items: email" in panel and "Re-entrusted by (nearest first): Tsubame Research" in panel
    bank = who.split("### Financial institutions")[1]
    assert "Role: third party" in bank and "provision with the customer's consent" in bank
    assert "Nami Mailing" not in who  # suspended contract: it does not handle the data


async def test_the_answer_includes_the_customers_provision_records(session):
    _, customer = await world(session)
    records = section(await render_disclosure(session, customer.id, as_of=TODAY), "Provisions to third parties")
    assert "| 2026-11-20 | Financial institutions | JP | name, amount | 2029-11-20 |" in records


async def test_records_provided_after_the_date_asked_are_left_out(session):
    _, customer = await world(session)
    records = section(await render_disclosure(session, customer.id, as_of=date(2026, 11, 19)), "Provisions")
    assert "2026-11-20" not in records and "No provision" in records


async def test_the_answer_lists_the_customers_requests(session):
    _, customer = await world(session)
    asked = section(await render_disclosure(session, customer.id, as_of=TODAY), "requests")
    assert "| Disclosure | Received | 2026-12-09 | - | - |" in asked


async def test_a_cancelled_customer_sees_only_the_purposes_still_in_use(session):
    _, customer = await world(session)
    customer.cancelled_on = date(2026, 10, 1)
    await session.commit()
    who = section(await render_disclosure(session, customer.id, as_of=TODAY), "Who handles it")
    assert "Sakura Payments" not in who and "Financial institutions" not in who
    assert "Purposes of use: 2. Purpose 2; 3. Purpose 3" in who


async def test_after_a_completed_deletion_nothing_is_held_or_handled(session):
    _, customer = await world(session, held=("name", "email"))
    await f.request(session, customer, RequestKind.DELETION, status=RequestStatus.COMPLETED,
                    resolved_on=date(2026, 11, 24))
    await session.commit()
    text = await render_disclosure(session, customer.id, as_of=TODAY)
    assert "Items held on 2026-11-25: none" in section(text, "Personal information held")
    assert "nobody handles" in section(text, "Who handles it")
    assert "| Deletion | Completed |" in section(text, "requests")


async def test_html_escapes_every_registry_string(session):
    _, customer = await world(session, display_name="<script>alert(1)</script>",
                              recipient_name="Banks & <b>Co</b>", sub_name='Pay "K.K." <i>')
    text = await render_disclosure(session, customer.id, as_of=TODAY, fmt="html")
    assert text.startswith("<!doctype html>")
    assert "<script>" not in text and "<b>" not in text and "<i>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Banks &amp; &lt;b&gt;Co&lt;/b&gt;" in text and "Pay &quot;K.K.&quot; &lt;i&gt;" in text


async def test_markdown_keeps_registry_strings_from_opening_blocks_or_breaking_tables(session):
    _, customer = await world(session, display_name="Eve\n\n# Forged heading", recipient_name="Bank | Trust")
    text = await render_disclosure(session, customer.id, as_of=TODAY)
    assert "\n# Forged heading" not in text and "- Name: Eve # Forged heading" in text
    assert "| Bank \\| Trust |" in section(text, "Provisions")


async def test_an_unknown_format_or_customer_is_refused_with_the_field(session):
    _, customer = await world(session)
    with pytest.raises(InvalidInput) as raised:
        await render_disclosure(session, customer.id, as_of=TODAY, fmt="pdf")
    assert raised.value.field == "format"
    with pytest.raises(NotFound) as missing:
        await render_disclosure(session, 404, as_of=TODAY)
    assert missing.value.field == "customerId"
