import re
from datetime import date

import pytest

from registry.enums import ContractStatus, ForeignTransferBasis, LegalBasis, Sensitivity
from registry.errors import InvalidInput, NotFound
from registry.models import Business, DataItem, JointUse, JointUseDataItem, JointUsePurpose, Purpose
from registry.notice import render_notice
from tests import factories as f

SEED_PURPOSES = [
    "For the provision of products and services in this business",
    "For the notifications and introductions of products and services in this business",
    "For questionnaires and monitoring research, and answers to inquiries from customers",
    "To further enhance the products and services in this business, and provide them to customers",
    "To otherwise properly and smoothly implement the transactions and contracts with customers",
]
SECTIONS = [
    "Business activities", "Purposes of use", "Protection of personal information", "Information held",
    "Personal information after cancellation", "Shared use", "Third party provision of personal information",
    "Requests for suspension of use of personal information",
    "Entrustment of the handling of personal information",
    "Requests for disclosure and correction of personal information", "Voluntary entries", "Contact",
]


async def _add(session, *rows):
    session.add_all(rows)
    await session.flush()
    return rows


async def loveinn(session, contact=None):
    """The seed's business: activities, five purposes, items, a provision to financial institutions."""
    [biz] = await _add(session, Business(
        code="loveinn-japan", name="Loveinn Japan", operator_name="ALMEX Inc.", country="JP", contact=contact,
        activities=["Provision and operation of Loveinn Japan services (Loveinnjapan.com)",
                    "Business associated with the above"]))
    purposes = await _add(session, *[
        Purpose(business_id=biz.id, code=f"P{n}", ordinal=n, title=title, usable_after_cancellation=n in (2, 3),
                effective_from=f.SINCE)
        for n, title in enumerate(SEED_PURPOSES, start=1)
    ])
    items = {i.code: i for i in await _add(session, *[
        DataItem(business_id=biz.id, code=code, name=name, sensitivity=sensitivity, voluntary=code == "phone")
        for code, name, sensitivity in [
            ("name", "name", Sensitivity.ORDINARY), ("phone", "phone number", Sensitivity.ORDINARY),
            ("amount", "amount", Sensitivity.FINANCIAL),
            ("credit_card_number", "credit card number", Sensitivity.FINANCIAL),
            ("bank_account", "bank account", Sensitivity.FINANCIAL),
        ]
    ])}
    bank = await f.recipient(session, name="Financial institutions", country="JP")
    await f.provision(session, biz, bank, [purposes[4]], [items[c] for c in (
        "name", "amount", "credit_card_number", "bank_account")], legal_basis=LegalBasis.CONSENT)
    await session.commit()
    return biz, purposes, items


def section(text, n):
    """The body of section `n` of a Markdown notice."""
    return re.split(r"^## \d+\. .*$", text, flags=re.M)[n]


async def test_sections_come_in_the_seed_order(session):
    await loveinn(session)
    text = await render_notice(session, "loveinn-japan")
    assert re.findall(r"^## (\d+)\. (.*)$", text, flags=re.M) == [(str(n), t) for n, t in enumerate(SECTIONS, 1)]
    assert text.startswith("# Handling of Personal Information by Loveinn Japan\n\nALMEX Inc. (hereinafter")


async def test_activities_and_purposes_come_from_the_registry(session):
    await loveinn(session)
    text = await render_notice(session, "loveinn-japan")
    assert section(text, 1).split() == ("- Provision and operation of Loveinn Japan services "
                                        "(Loveinnjapan.com) - Business associated with the above "
                                        "The business operator: - Name: ALMEX Inc.").split()
    assert [line for line in section(text, 2).splitlines() if line] == [
        f"{n}. {title}" for n, title in enumerate(SEED_PURPOSES, 1)
    ]


async def test_after_cancellation_names_the_usable_purposes_by_number(session):
    await loveinn(session)
    text = await render_notice(session, "loveinn-japan")
    assert "set forth in Purposes of Use 2 and 3." in section(text, 5)
    assert "not jointly use" in section(text, 6)


async def test_third_party_provision_lists_items_recipient_purposes_and_basis(session):
    await loveinn(session)
    body = section(await render_notice(session, "loveinn-japan"), 7)
    assert "name, amount, credit card number and bank account to Financial institutions" in body
    assert f"5 ({SEED_PURPOSES[4]})" in body and "with the customer's consent" in body


async def test_inactive_provision_is_not_published(session):
    biz = await f.business(session, code="quiet")
    purposes, items = await f.purposes(session, biz), await f.items(session, biz)
    await f.provision(session, biz, await f.recipient(session, name="Brokers"), [purposes["P1"]],
                      [items["name"]], active=False)
    await session.commit()
    body = section(await render_notice(session, "quiet"), 7)
    assert "Brokers" not in body and "does not provide personal information to third parties" in body


async def test_protection_names_the_foreign_countries_where_data_is_handled_with_their_basis(session):
    biz, _, _ = await loveinn(session)
    await f.contract(session, biz, await f.subcontractor(
        session, country="US", foreign_transfer_basis=ForeignTransferBasis.CONSENT_WITH_INFORMATION))
    await f.contract(session, biz, await f.subcontractor(session, country="SG"), status=ContractStatus.TERMINATED)
    await f.contract(session, biz, await f.subcontractor(session, country="JP"))
    await f.provision(session, biz, await f.recipient(session, country="DE"), [], [])
    await session.commit()
    text = await render_notice(session, "loveinn-japan")
    assert re.findall(r"^- (.*?):", section(text, 3), flags=re.M) == ["Germany (DE)", "United States (US)"]
    assert ("- Germany (DE): a third party it is provided to; no basis is recorded yet" in section(text, 3))
    assert ("- United States (US): a subcontractor entrusted with personal information; with the customer's "
            "consent, given after being informed of the country") in section(text, 3)
    body = section(text, 9)  # entrustment: the policy, the countries are in section 3
    assert "within the scope of the purposes of use" in body and "appropriate system" in body


async def test_protection_without_foreign_parties_names_no_country(session):
    await loveinn(session)
    body = section(await render_notice(session, "loveinn-japan"), 3)
    assert "foreign" not in body and "- " not in body


async def test_the_business_facts_of_art_32_are_stated(session):
    biz, _, _ = await loveinn(session)
    biz.address, biz.representative = "1-2-3 Example, Minato-ku, Tokyo", "Taro Example"
    biz.security_measures = ["Access to customer data is logged", "Staff are trained every year"]
    biz.request_procedure = "Send the request form by post; disclosure costs 1,000 yen."
    session.add(biz)
    await session.commit()
    text = await render_notice(session, "loveinn-japan")
    assert section(text, 1).split("The business operator:")[1].split() == (
        "- Name: ALMEX Inc. - Address: 1-2-3 Example, Minato-ku, Tokyo - Representative: Taro Example").split()
    assert ("The security control measures it takes are the following:\n\n- Access to customer data is logged\n"
            "- Staff are trained every year") in section(text, 3)
    for n in (8, 10):
        assert ("How to make a request, and the fee: Send the request form by post; disclosure costs 1,000 yen."
                in section(text, n))


async def test_without_a_request_procedure_requests_go_to_the_desk(session):
    await loveinn(session)
    text = await render_notice(session, "loveinn-japan")
    for n in (8, 10):
        assert "Please make requests at the desk in section 12." in section(text, n)


async def _joint_use(session, biz, purposes, items, **overrides) -> JointUse:
    [use] = await _add(session, JointUse(**{
        "business_id": biz.id, "users": "ALMEX group companies", "responsible": "ALMEX Inc., Tokyo, Taro Example",
        "effective_from": date(2026, 4, 1), **overrides}))
    await _add(session, *[JointUsePurpose(joint_use_id=use.id, purpose_id=p.id) for p in purposes],
               *[JointUseDataItem(joint_use_id=use.id, data_item_id=i.id) for i in items])
    return use


async def test_shared_use_states_each_joint_use_in_effect(session):
    biz, purposes, items = await loveinn(session)
    await _joint_use(session, biz, [purposes[1]], [items["name"], items["phone"]])
    await _joint_use(session, biz, [purposes[0]], [items["amount"]], users="Ended partners",
                     effective_until=date(2026, 6, 30))
    await session.commit()
    body = section(await render_notice(session, "loveinn-japan"), 6)
    assert [line for line in body.splitlines() if line] == [
        "The Company jointly uses personal information as follows.",
        "- Items jointly used: name and phone number",
        "- Scope of the joint users: ALMEX group companies",
        f"- Purposes of use of the joint users: 2 ({SEED_PURPOSES[1]})",
        "- Person responsible for its management: ALMEX Inc., Tokyo, Taro Example",
        "- Since April 1, 2026",
    ]


async def test_an_opt_out_provision_states_the_method_how_to_object_and_the_ppc_notification(session):
    biz, purposes, items = await loveinn(session)
    await f.provision(session, biz, await f.recipient(session, name="List brokers"), [purposes[1]], [items["name"]],
                      legal_basis=LegalBasis.OPT_OUT, ppc_notified_on=date(2026, 3, 2), method="By file transfer")
    await session.commit()
    body = section(await render_notice(session, "loveinn-japan"), 7)
    assert ("The Company provides personal information composed of name to List brokers, only for the purposes of use "
            f"2 ({SEED_PURPOSES[1]}), under the opt-out procedure notified to the Personal Information Protection "
            "Commission.\n\n- Method of provision: By file transfer\n- On the customer's request the Company stops "
            "providing the customer's personal information to this third party; please ask at the desk in section 12."
            "\n- Notified to the Personal Information Protection Commission on March 2, 2026.") in body
    assert body.count("opt-out") == 1  # the consent provision states no opt-out details


async def test_voluntary_entries_list_the_voluntary_items(session):
    await loveinn(session)
    body = section(await render_notice(session, "loveinn-japan"), 11)
    assert "- phone number" in body and "- name" not in body


async def test_contact_is_the_business_contact_or_a_generic_line(session):
    await loveinn(session, contact="privacy@loveinn.example, 03-0000-0000")
    await f.business(session, code="plain", operator_name="Plain Ops", name="Plain")
    await session.commit()
    assert "privacy@loveinn.example, 03-0000-0000" in section(await render_notice(session, "loveinn-japan"), 12)
    assert "Plain Ops, Plain personal information desk." in section(await render_notice(session, "plain"), 12)


async def test_a_new_purpose_changes_the_notice(session):
    biz, _, _ = await loveinn(session)
    before = await render_notice(session, "loveinn-japan")
    await _add(session, Purpose(business_id=biz.id, code="P6", ordinal=6, title="For fraud prevention",
                                usable_after_cancellation=True, effective_from=f.SINCE))
    await session.commit()
    after = await render_notice(session, "loveinn-japan")
    assert "6. For fraud prevention" in section(after, 2) and "For fraud prevention" not in before
    assert "Purposes of Use 2, 3 and 6." in section(after, 5)


async def test_a_retired_purpose_leaves_the_notice(session):
    biz, purposes, _ = await loveinn(session)
    purposes[3].effective_until = date(2026, 6, 30)
    session.add(purposes[3])
    await session.commit()
    listed = [line for line in section(await render_notice(session, "loveinn-japan"), 2).splitlines() if line]
    assert listed == [f"{n}. {title}" for n, title in enumerate(SEED_PURPOSES, 1) if n != 4]


async def test_html_is_a_complete_document_in_the_same_order(session):
    await loveinn(session)
    page = await render_notice(session, "loveinn-japan", fmt="html")
    assert page.startswith("<!doctype html>\n<html lang=\"en\">")
    assert "<title>Handling of Personal Information by Loveinn Japan</title>" in page
    assert re.findall(r"<h2>\d+\. (.*?)</h2>", page) == SECTIONS
    assert '<li value="5">' in page and page.rstrip().endswith("</html>")


async def test_html_escapes_every_registry_string(session):
    biz, _, _ = await loveinn(session, contact="<b>desk</b>")
    await _add(session, Purpose(business_id=biz.id, code="P9", ordinal=9, title="<script>alert(1)</script>",
                                effective_from=f.SINCE))
    await session.commit()
    page = await render_notice(session, "loveinn-japan", fmt="html")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>" not in page and "&lt;b&gt;desk&lt;/b&gt;" in page


async def test_unknown_business_is_not_found(session):
    with pytest.raises(NotFound) as err:
        await render_notice(session, "nope")
    assert err.value.field == "businessCode"


async def test_unknown_format_is_invalid_input(session):
    await loveinn(session)
    with pytest.raises(InvalidInput) as err:
        await render_notice(session, "loveinn-japan", fmt="pdf")
    assert err.value.field == "format"


async def test_demo_notice_states_the_seeds_billing_wording_and_only_countries_that_handle_data(session, clock):
    from registry.demo import seed_demo

    await seed_demo(session, clock=clock)
    text = await render_notice(session, "loveinn-japan")
    assert ("to Financial institutions, only for billing purposes or storage of the product or services fees "
            "in document form or electronic data (purpose of use 5), with the customer's consent.") in text
    assert re.findall(r"^- (.*?) \(\w\w\):", section(text, 3), flags=re.M) == ["Singapore"]  # no draft's US
    assert ("Singapore (SG): a subcontractor entrusted with personal information; the party keeps, under its "
            "contract, a system meeting the standards of the Act") in section(text, 3)
