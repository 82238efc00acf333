"""The demo registry: Loveinn Japan's privacy notice (seeds/000) as data, plus a fictional world.

The business, its activities, purposes P1..P5, data items, and the provision to financial
institutions reproduce the seed's facts, every text the notice states with its Japanese version
(issue 13); the facts APPI Art. 32(1) asks for that the seed leaves out (address, representative,
request procedure and fee, security measures) are demo values. The subcontractors and customers
are invented (and plainly so) to show every rule: each contract status, a re-entrustment chain
that crosses a border, a cancelled customer, completed requests. Everything is written through
the registry's own write functions, so the demo obeys the same rules as real data; dates
are relative to the day of seeding, and the registry has a history over them (DESIGN.md
"Time"): contracts moved through their lifecycle on past days, a suspension last month, an
entrustment that ended, a phone number withdrawn, a STOP_USE of marketing mail only.
"""

from datetime import date, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from registry import businesses, contracts, customers, provisions, requests, subcontractors
from registry.clock import Clock
from registry.enums import (
    AssessmentResult,
    Certification,
    ContractClause,
    ContractStatus,
    ForeignTransferBasis,
    LegalBasis,
    RequestKind,
    RequestStatus,
    Sensitivity,
)

ACTOR = "demo-seed"
BUSINESS = "loveinn-japan"

# The business's texts as the notice states them, each with its Japanese version: the seed is the
# translation of a Japanese notice (個人情報の取扱いについて), whose wording the Japanese follows.
BUSINESS_TEXTS = dict(
    name="Loveinn Japan",
    name_ja="ラブインジャパン",
    operator_name="ALMEX Inc.",
    operator_name_ja="株式会社アルメックス",
    activities=[  # seed §1
        "Provision and operation of Loveinn Japan services (Loveinnjapan.com)",
        "Business associated with the above",
    ],
    activities_ja=[
        "ラブインジャパンサービス（Loveinnjapan.com）の提供および運営",
        "上記に付帯する事業",
    ],
    contact="Loveinn Japan personal information desk, ALMEX Inc. (privacy@loveinn.example)",  # seed §12
    contact_ja="株式会社アルメックス ラブインジャパン個人情報お問い合わせ窓口（privacy@loveinn.example）",
)

# What APPI Art. 32(1) asks the notice to state and the seed does not: demo data, plainly fictional
# (the address and the representative are nobody's), for the notice to show every fact it states.
NOTICE_FACTS = dict(
    address="1-2-3 Mihon-cho, Minato-ku, Tokyo (fictional)",
    address_ja="東京都港区見本町一丁目2番3号（架空）",
    representative="Ichiro Mihon, Representative Director and President (fictional)",
    representative_ja="代表取締役社長 見本 一郎（架空）",
    # Art. 32(1)(iii) and Art. 38: the demo charges no fee, a choice a business may make
    request_procedure=(
        "Requests to be notified of the purposes of use, for disclosure (including the records of provision to "
        "third parties), for correction, addition or deletion, and to stop use, erase or stop provision to third "
        "parties are accepted by email or post at the desk below. The Company answers without delay once it has "
        "confirmed that the request comes from the customer or the customer's agent. No fee is charged for a "
        "notification of the purposes of use or a disclosure."
    ),
    request_procedure_ja=(
        "利用目的の通知、開示（第三者提供記録の開示を含みます。）、内容の訂正・追加・削除、利用の停止・消去および"
        "第三者への提供の停止のご請求は、下記のお問い合わせ窓口にて電子メールまたは郵送により受け付けます。"
        "ご本人またはその代理人からのご請求であることを確認したうえで、遅滞なく対応いたします。"
        "利用目的の通知および開示のご請求に手数料はいただきません。"
    ),
    # Art. 32(1)(iv), under the headings of the PPC Guidelines (General Rules), section 10
    security_measures=[
        "Basic policy: the Company has set a basic policy for the proper handling of personal data, covering "
        "compliance with laws and guidelines and the desk for questions and complaints.",
        "Organisational measures: a person responsible for personal data is appointed, the staff who handle it and "
        "the scope of their handling are defined, and breaches or signs of them are reported to the person "
        "responsible.",
        "Human measures: staff are trained regularly in the handling of personal data, and confidentiality is "
        "part of the rules of employment.",
        "Physical measures: entry to the areas where personal data is handled is controlled, and devices, "
        "electronic media and documents holding personal data are protected against theft and loss.",
        "Technical measures: access control limits who may use personal data and which, and the information "
        "systems are protected against unauthorised access from outside and against malicious software.",
        "Understanding the external environment: a subcontractor handles personal data in Singapore; the Company "
        "takes its measures with an understanding of Singapore's system for the protection of personal "
        "information.",
    ],
    security_measures_ja=[
        "（基本方針の策定）個人データの適正な取扱いの確保のため、関係法令・ガイドライン等の遵守、質問および苦情処理の"
        "窓口等について基本方針を策定しています。",
        "（組織的安全管理措置）個人データの取扱いに関する責任者を設置するとともに、個人データを取り扱う従業者および"
        "その取り扱う範囲を明確化し、法令等に違反している事実またはその兆候を把握した場合の責任者への報告連絡体制を"
        "整備しています。",
        "（人的安全管理措置）個人データの取扱いに関する留意事項について従業者に定期的な研修を実施するとともに、"
        "個人データについての秘密保持に関する事項を就業規則に定めています。",
        "（物理的安全管理措置）個人データを取り扱う区域において従業者の入退室管理を行うとともに、個人データを"
        "取り扱う機器、電子媒体および書類等の盗難または紛失等を防止するための措置を講じています。",
        "（技術的安全管理措置）アクセス制御により担当者および取り扱う個人データの範囲を限定するとともに、"
        "個人データを取り扱う情報システムを外部からの不正アクセスまたは不正ソフトウェアから保護する仕組みを"
        "導入しています。",
        "（外的環境の把握）シンガポールにおいて個人データを取り扱う委託先があるため、同国における個人情報の保護に"
        "関する制度を把握したうえで安全管理措置を実施しています。",
    ],
)

PURPOSES = [  # seed §2, word for word, and its Japanese; §5 names purposes 2 and 3 as usable after cancellation
    ("P1", "For the provision of products and services in this business",
     "本事業における商品・サービスの提供のため", False, "essential.service"),
    ("P2", "For the notifications and introductions of products and services in this business",
     "本事業における商品・サービスのご案内およびご紹介のため", True, "marketing.communications.email"),
    ("P3", "For questionnaires and monitoring research, and answers to inquiries from customers",
     "アンケート・モニター調査の実施、およびお客様からのお問い合わせへの回答のため", True,
     "essential.service.operations.support"),
    ("P4", "To further enhance the products and services in this business, and provide them to customers",
     "本事業における商品・サービスのさらなる充実を図り、お客様に提供するため", False, "functional.service.improve"),
    ("P5", "To otherwise properly and smoothly implement the transactions and contracts with customers",
     "その他、お客様との取引および契約を適切かつ円滑に履行するため", False, "essential.service.payment_processing"),
]

DATA_ITEMS = [  # seed §7 names name, amount, credit card number, bank account; §11 voluntary entries
    ("name", "Name", "氏名", "user.name", Sensitivity.ORDINARY, False),
    ("email", "Email address", "メールアドレス", "user.contact.email", Sensitivity.ORDINARY, False),
    ("phone", "Telephone number", "電話番号", "user.contact.phone_number", Sensitivity.ORDINARY, True),
    ("amount", "Amount billed", "請求金額", "user.financial", Sensitivity.FINANCIAL, False),
    ("credit_card_number", "Credit card number", "クレジットカード番号", "user.financial.credit_card",
     Sensitivity.FINANCIAL, False),
    ("bank_account", "Bank account", "銀行口座", "user.financial.bank_account", Sensitivity.FINANCIAL, False),
]

# PPC Rules Art. 7(ii): a leak of these risks property damage; an amount alone does not
PROPERTY_DAMAGE_RISK = frozenset({"credit_card_number", "bank_account"})

REQUIRED = [
    ContractClause.CONFIDENTIALITY, ContractClause.PURPOSE_LIMITATION, ContractClause.SECURITY_MEASURES,
    ContractClause.BREACH_NOTIFICATION, ContractClause.RETURN_OR_DELETION,
]


async def seed_demo(session: AsyncSession, *, clock: Clock) -> bool:
    """Write the demo registry into `session`'s database; False when it is already there."""
    if await businesses.find_business(session, BUSINESS):
        return False
    today = clock.today()
    since = registry_start(today)
    business = await seed_business(session, since=since)
    await seed_financial_institutions(session, since=since)
    await _subcontractors(session, business.code, today)
    await _customers(session, clock)
    return True


def registry_start(today: date) -> date:
    """The day the demo's purposes and provision begin: before every contract of the demo."""
    return today - timedelta(days=4 * 365)


async def seed_business(session, *, since: date):
    """The seed's business: Loveinn Japan, the facts its notice states, purposes P1..P5 (from `since`)
    and data items, every text with its Japanese version."""
    business = await businesses.create_business(
        session, actor=ACTOR, code=BUSINESS, country="JP", **BUSINESS_TEXTS, **NOTICE_FACTS,
    )
    for ordinal, (code, title, title_ja, after_cancellation, data_use) in enumerate(PURPOSES, start=1):
        await businesses.add_purpose(
            session, actor=ACTOR, business_id=business.id, code=code, ordinal=ordinal, title=title,
            title_ja=title_ja, usable_after_cancellation=after_cancellation, data_use=data_use, effective_from=since,
        )
    for code, name, name_ja, category, sensitivity, voluntary in DATA_ITEMS:
        await businesses.add_data_item(
            session, actor=ACTOR, business_id=business.id, code=code, name=name, name_ja=name_ja, category=category,
            sensitivity=sensitivity, voluntary=voluntary, property_damage_risk=code in PROPERTY_DAMAGE_RISK,
        )
    return business


async def seed_financial_institutions(session, *, since: date):
    """Seed §7: name, amount, credit card number and bank account go to financial institutions for billing."""
    recipient = await provisions.create_recipient(
        session, actor=ACTOR, name="Financial institutions", name_ja="金融機関", country="JP",
        kind="financial institution",
    )
    await provisions.create_provision(
        session, actor=ACTOR, business_code=BUSINESS, recipient_id=recipient.id, purpose_codes=["P5"],
        data_item_codes=["name", "amount", "credit_card_number", "bank_account"], legal_basis=LegalBasis.CONSENT,
        effective_from=since,
        stated_purpose="billing purposes or storage of the product or services fees in document form or "
        "electronic data",
        stated_purpose_ja="商品もしくはサービスの料金の請求、または当該料金に関する書面もしくは電子データの保管",
    )


# (name, country, corporate number, certifications, assessment, parent index); the two outside Japan
# each have their APPI Art. 28 basis (FOREIGN_BASES)
VENDORS = [
    ("Sakura Payment Services K.K. (fictional)", "JP", "7000012050002",
     [Certification.PRIVACY_MARK, Certification.ISO_27001], AssessmentResult.ADEQUATE, None),
    ("Hikari Support Center Co., Ltd. (fictional)", "JP", None, [Certification.PRIVACY_MARK],
     AssessmentResult.ADEQUATE, None),
    ("Tsubame Research Inc. (fictional)", "JP", None, [Certification.ISO_27001], AssessmentResult.ADEQUATE, None),
    ("Panelist Hub Pte. Ltd. (fictional)", "SG", None, [Certification.ISO_27701], AssessmentResult.CONDITIONAL, 2),
    ("Kumo Hosting K.K. (fictional)", "JP", None, [Certification.ISO_27001, Certification.SOC2],
     AssessmentResult.ADEQUATE, None),
    ("Nami Mailing Services G.K. (fictional)", "JP", None, [], AssessmentResult.CONDITIONAL, None),
    ("Old Print Works K.K. (fictional)", "JP", None, [], AssessmentResult.ADEQUATE, None),
    ("Legacy Call Center Co., Ltd. (fictional)", "JP", None, [], AssessmentResult.ADEQUATE, None),
    ("Aozora Analytics Inc. (fictional)", "US", None, [Certification.SOC2], AssessmentResult.ADEQUATE, None),
    ("Minato Data Labs K.K. (fictional)", "JP", None, [], None, None),
]


FOREIGN_BASES = {  # the panel provider keeps an APPI-equivalent system (ISO 27701) under its contract
    "SG": ForeignTransferBasis.EQUIVALENT_MEASURES, "US": ForeignTransferBasis.EQUIVALENT_MEASURES,
}


async def _subcontractors(session, business_code: str, today: date) -> None:
    ids: list[int] = []
    for name, country, number, certifications, result, parent in VENDORS:
        sub = await subcontractors.create_subcontractor(
            session, actor=ACTOR, name=name, country=country, corporate_number=number,
            parent_id=None if parent is None else ids[parent], certifications=certifications,
            foreign_transfer_basis=FOREIGN_BASES.get(country),
        )
        if result is not None:
            await subcontractors.record_assessment(
                session, actor=ACTOR, subcontractor_id=sub.id, result=result,
                assessed_on=today - timedelta(days=120), next_due_on=today + timedelta(days=245),
            )
        ids.append(sub.id)
    year = timedelta(days=365)
    plan = [  # (vendor, reference, from, to, extra clauses, entrustments, final status, day it took effect)
        (0, "LIJ-PAY-001", today - year, today + 2 * year, [], [(["P1", "P5"], ["name", "amount",
         "credit_card_number", "bank_account"], "Card and bank payment processing")], ContractStatus.ACTIVE, today),
        (1, "LIJ-SUP-001", today - year, today + year, [], [(["P3"], ["name", "email", "phone"],
         "Answering customers' inquiries"), (["P5"], ["name", "amount"], "Billing inquiries")],
         ContractStatus.ACTIVE, today),
        (2, "LIJ-SUR-001", today - year, today + year, [ContractClause.SUB_ENTRUSTMENT_CONSENT, ContractClause.AUDIT_RIGHTS],
         [(["P3"], ["name", "email"], "Questionnaires and monitoring research")], ContractStatus.ACTIVE, today),
        (3, "LIJ-SUR-002", today - year, today + year, [], [(["P3"], ["email"],
         "Survey panel recruitment, re-entrusted by Tsubame Research")], ContractStatus.ACTIVE, today),
        (4, "LIJ-HOST-001", today - 2 * year, today + timedelta(days=20), [], [(["P1", "P4"], ["name", "email", "phone"],
         "Hosting of the Loveinnjapan.com service")], ContractStatus.ACTIVE, today),
        (5, "LIJ-MAIL-001", today - year, today + year, [], [(["P2"], ["name", "email"],
         "Newsletter delivery")], ContractStatus.SUSPENDED, today - timedelta(days=30)),
        (6, "LIJ-PRN-001", today - 3 * year, today + year, [], [(["P5"], ["name", "amount"],
         "Printing of paper invoices")], ContractStatus.TERMINATED, today - timedelta(days=200)),
        (7, "LIJ-CALL-001", today - 3 * year, today - timedelta(days=60), [], [(["P3"], ["name", "phone"],
         "Former telephone support")], ContractStatus.ACTIVE, today - 2 * year),
        (8, "LIJ-ANA-001", today + timedelta(days=30), today + 2 * year, [], [(["P4"], ["email"],
         "Usage analytics")], ContractStatus.DRAFT, today),
        (9, "LIJ-LAB-001", today + timedelta(days=30), today + 2 * year, [], [], ContractStatus.UNDER_REVIEW, today),
    ]
    for vendor, reference, start, end, extra, entrusted, status, moved_on in plan:
        contract = await contracts.create_contract(
            session, actor=ACTOR, subcontractor_id=ids[vendor], business_code=business_code, reference=reference,
            effective_from=start, expires_on=end, signed_on=start - timedelta(days=14), clauses=REQUIRED + extra,
        )
        for purpose_codes, item_codes, description in entrusted:
            entrustment = await contracts.add_entrustment(
                session, actor=ACTOR, contract_id=contract.id, purpose_codes=purpose_codes,
                data_item_codes=item_codes, description=description, effective_from=start, today=today,
            )
            if description == "Billing inquiries":  # moved to the payment processor's desk 45 days ago
                await contracts.remove_entrustment(session, actor=ACTOR, id=entrustment.id, today=today,
                                                   effective_on=today - timedelta(days=45))
            contract = await contracts.get_contract(session, contract.id)
        await _move(session, contract, status, start, moved_on, today)


_PATHS = {
    ContractStatus.DRAFT: [],
    ContractStatus.UNDER_REVIEW: [ContractStatus.UNDER_REVIEW],
    ContractStatus.ACTIVE: [ContractStatus.UNDER_REVIEW, ContractStatus.ACTIVE],
    ContractStatus.SUSPENDED: [ContractStatus.UNDER_REVIEW, ContractStatus.ACTIVE, ContractStatus.SUSPENDED],
    ContractStatus.TERMINATED: [ContractStatus.UNDER_REVIEW, ContractStatus.ACTIVE, ContractStatus.TERMINATED],
}


async def _move(session, contract, status: ContractStatus, start: date, final_on: date, today: date) -> None:
    """Walk the contract through the lifecycle to `status`, as vendor managers would have: in
    review from two weeks before its start, ACTIVE from its start, the last move on `final_on`
    (each move on the day it took effect, never after today)."""
    days = {ContractStatus.UNDER_REVIEW: start - timedelta(days=14), ContractStatus.ACTIVE: start}
    previous = None
    for step in _PATHS[status]:
        day = min(days.get(step, final_on), today)
        day = day if previous is None else max(previous, day)
        contract = await contracts.transition_contract(
            session, actor=ACTOR, id=contract.id, expected_version=contract.version, to=step, today=day,
            effective_on=day, reason="demo history",
        )
        previous = day


# (reference, display name, item codes, days since cancellation, completed requests), all registered
# REGISTERED_DAYS_AGO days ago
CUSTOMERS = [
    ("LIJ-0001", "Hanako Yamada (fictional)", ["name", "email", "phone", "amount", "credit_card_number"], None, []),
    ("LIJ-0002", "Taro Suzuki (fictional)", ["name", "email", "amount", "bank_account"], None, []),
    ("LIJ-0003", "Yuki Tanaka (fictional)", ["name", "email", "phone", "amount", "credit_card_number"], 60, []),
    ("LIJ-0004", "Kenji Sato (fictional)", ["name", "email", "amount", "credit_card_number"], None,
     [RequestKind.STOP_THIRD_PARTY_PROVISION]),
    ("LIJ-0005", "Aiko Kobayashi (fictional)", ["name", "email", "amount"], None, [RequestKind.STOP_USE]),
    ("LIJ-0006", "Ren Watanabe (fictional)", ["name", "email"], None, [RequestKind.DELETION]),
    ("LIJ-0007", "Mei Ito (fictional)", ["name", "email", "phone", "amount", "credit_card_number"], None, []),
    ("LIJ-0008", "Sora Kato (fictional)", ["name", "email", "amount", "bank_account"], None, []),
]
REGISTERED_DAYS_AGO = 400
PHONE_WITHDRAWN_DAYS_AGO = 20  # LIJ-0007 withdrew the voluntary phone number (seed section 11)


async def _customers(session, clock: Clock) -> None:
    today = clock.today()
    for ref, name, items, cancelled_days_ago, completed in CUSTOMERS:
        customer = await customers.register_customer(
            session, actor=ACTOR, business_code=BUSINESS, external_ref=ref, display_name=name,
            email=f"{ref.lower()}@example.test", data_item_codes=items,
            registered_on=today - timedelta(days=REGISTERED_DAYS_AGO), today=today,
        )
        if cancelled_days_ago is not None:
            await customers.cancel_customer(
                session, actor=ACTOR, id=customer.id, cancelled_on=today - timedelta(days=cancelled_days_ago)
            )
        for kind in completed:
            await _complete_request(session, customer.id, kind, clock)
        if ref in ("LIJ-0001", "LIJ-0002"):
            await _record_billing(session, customer.id, items, today)
        if ref == "LIJ-0007":
            await customers.change_customer_items(
                session, actor=ACTOR, id=customer.id, remove_codes=["phone"], today=today,
                effective_on=today - timedelta(days=PHONE_WITHDRAWN_DAYS_AGO),
            )
        if ref == "LIJ-0008":  # no more marketing mail (purpose P2); billing and the rest go on
            await _complete_request(session, customer.id, RequestKind.STOP_USE, clock, purpose_codes=["P2"])
    first = await customers.find_customer_by_ref(session, BUSINESS, "LIJ-0001")
    await requests.submit_request(
        session, actor=ACTOR, customer_id=first.id, kind=RequestKind.DISCLOSURE, clock=clock,
        detail="Please disclose what you hold about me and who receives it.",
    )


async def _complete_request(session, customer_id: int, kind: RequestKind, clock: Clock, **scope) -> None:
    request = await requests.submit_request(session, actor=ACTOR, customer_id=customer_id, kind=kind, clock=clock,
                                            **scope)
    for status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
        request = await requests.transition_request(
            session, actor=ACTOR, id=request.id, to=status, clock=clock, note="demo: handled",
        )


async def _record_billing(session, customer_id: int, items: list[str], today: date) -> None:
    """APPI Art. 29 records of this month's billing data sent to the financial institutions."""
    recipients = await provisions.list_recipients(session)
    provision = (await provisions.provisions_of_recipients(session, [recipients[0].id]))[recipients[0].id][0]
    provided = [code for code in items if code in ("name", "amount", "credit_card_number", "bank_account")]
    await provisions.record_provision(
        session, actor=ACTOR, provision_id=provision.id, customer_id=customer_id,
        provided_on=today - timedelta(days=5), data_item_codes=provided, today=today,
    )
