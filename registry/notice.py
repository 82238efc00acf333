"""The privacy notice ("Handling of Personal Information"), rendered from the registry alone.

Sections follow the seed notice: 1 business activities, 2 purposes of use, 3 protection,
4 information held, 5 use after cancellation, 6 shared use, 7 third-party provision,
8 requests for suspension of use, 9 entrustment, 10 disclosure and correction,
11 voluntary entries, 12 contact. The facts (activities, purposes, provisions, countries,
voluntary items, contact) come from the tables; sections 3, 4, 6, 8 and 10 are the
business's fixed policy. Section 9 lists the countries where personal data is handled,
the "external environment" APPI Art. 32 asks the notice to make known.
"""

import html
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.enums import ContractStatus, LegalBasis
from registry.errors import InvalidInput, NotFound
from registry.periods import in_effect_or_open
from registry.models import (
    Business, Contract, DataItem, Provision, ProvisionDataItem, ProvisionPurpose, Purpose, Subcontractor,
    ThirdPartyRecipient,
)

FORMATS = ("markdown", "html")
LANGUAGES = ("en", "ja")  # ISO 639-1; the first is the default

_LEGAL_BASIS = {
    LegalBasis.CONSENT: "with the customer's consent",
    LegalBasis.LAW: "as required or permitted by law",
    LegalBasis.OPT_OUT: "under the opt-out procedure notified to the Personal Information Protection "
                        "Commission (APPI Art. 27(2))",
}


@dataclass(frozen=True)
class _List:
    entries: list[str]
    numbers: list[int] | None = None  # an ordered list carrying these numbers


@dataclass(frozen=True)
class _Section:
    title: str
    blocks: list[str | _List] = field(default_factory=list)


@dataclass(frozen=True)
class _ProvisionFacts:
    recipient: ThirdPartyRecipient
    provision: Provision
    item_names: list[str]
    purposes: list[Purpose]


@dataclass(frozen=True)
class _Facts:
    business: Business
    purposes: list[Purpose]
    voluntary_items: list[str]
    provisions: list[_ProvisionFacts]
    countries: list[str]


async def render_notice(session: AsyncSession, business_code: str, *, fmt: str = "markdown",
                        lang: str = "en") -> str:
    """The business's privacy notice as Markdown or as a complete HTML document, in `lang`."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown notice format {fmt!r}: use one of {', '.join(FORMATS)}", field="format")
    if lang not in LANGUAGES:
        raise InvalidInput(f"Unknown notice language {lang[:16]!r}: use one of {', '.join(LANGUAGES)}", field="lang")
    facts = await _facts(session, business_code)
    title = f"Handling of Personal Information by {facts.business.name}"
    render = _markdown if fmt == "markdown" else _html
    return render(title, _intro(facts.business), _sections(facts))


# --- Facts from the registry ------------------------------------------------------------


async def _all(session: AsyncSession, stmt) -> list:
    return list((await session.exec(stmt)).all())


async def _facts(session: AsyncSession, business_code: str) -> _Facts:
    business = (await session.exec(select(Business).where(Business.code == business_code))).first()
    if business is None:
        raise NotFound(f"No business with code {business_code!r}", field="businessCode")
    bid = business.id
    return _Facts(
        business=business,
        purposes=await _all(session, select(Purpose).where(  # a retired purpose is no longer stated
            Purpose.business_id == bid, in_effect_or_open(Purpose, None)).order_by(Purpose.ordinal)),
        voluntary_items=await _all(session, select(DataItem.name).where(
            DataItem.business_id == bid, DataItem.voluntary.is_(True)).order_by(DataItem.id)),
        provisions=await _provisions(session, bid),
        countries=await _countries(session, business),
    )


async def _provisions(session: AsyncSession, business_id: int) -> list[_ProvisionFacts]:
    active = (Provision.business_id == business_id, in_effect_or_open(Provision, None))
    rows = await _all(session, select(Provision, ThirdPartyRecipient).join(ThirdPartyRecipient)
                      .where(*active).order_by(Provision.id))
    items = await _all(session, select(ProvisionDataItem.provision_id, DataItem.name).join(DataItem)
                       .join(Provision).where(*active).order_by(DataItem.id))
    purposes = await _all(session, select(ProvisionPurpose.provision_id, Purpose).join(Purpose)
                          .join(Provision).where(*active).order_by(Purpose.ordinal))
    return [
        _ProvisionFacts(
            recipient=recipient, provision=provision,
            item_names=[name for pid, name in items if pid == provision.id],
            purposes=[purpose for pid, purpose in purposes if pid == provision.id],
        )
        for provision, recipient in rows
    ]


async def _countries(session: AsyncSession, business: Business) -> list[str]:
    """Where personal data is handled: the business, its subcontractors under a contract that
    entrusts data (ACTIVE or SUSPENDED, expired ones included while they may still hold it:
    not drafts, reviews or terminated ones), and the recipients of its active provisions
    (APPI Art. 32)."""
    entrusting = (ContractStatus.ACTIVE, ContractStatus.SUSPENDED)
    subcontractors = await _all(session, select(Subcontractor.country).join(
        Contract, Contract.subcontractor_id == Subcontractor.id,
    ).where(Contract.business_id == business.id, Contract.status.in_(entrusting)))
    recipients = await _all(session, select(ThirdPartyRecipient.country).join(Provision).where(
        Provision.business_id == business.id, in_effect_or_open(Provision, None)))
    return sorted({business.country, *subcontractors, *recipients})


# --- The sections -------------------------------------------------------------------------


def _intro(business: Business) -> str:
    return (f'{business.operator_name} (hereinafter "the Company") handles the personal information of '
            "customers as set out below when acquiring the personal information needed for the "
            f"business operations carried out in providing and operating the {business.name} services.")


def _sections(facts: _Facts) -> list[_Section]:
    return [
        _Section("Business activities", [_List(list(facts.business.activities))]),
        _Section("Purposes of use", [_List([p.title for p in facts.purposes], [p.ordinal for p in facts.purposes])]),
        _Section("Protection of personal information", [
            "The Company takes the necessary and appropriate measures to prevent the leakage, loss or "
            "damage of the personal information entrusted to it."]),
        _Section("Information held", [
            "The Company keeps the personal information entrusted to it on an ongoing basis, unless "
            "other terms provide otherwise (for example, the application guidelines of a campaign)."]),
        _Section("Personal information after cancellation", [_after_cancellation(facts.purposes)]),
        _Section("Shared use", [
            "The Company does not jointly use the personal information entrusted to it by customers in "
            "this business with any person other than the Company."]),
        _Section("Third party provision of personal information", _third_party(facts.provisions)),
        _Section("Requests for suspension of use of personal information", [
            "The customer may ask the Company to stop using or to delete personal information about "
            "himself or herself, or to stop providing it to third parties."]),
        _Section("Entrustment of the handling of personal information", _entrustment(facts.countries)),
        _Section("Requests for disclosure and correction of personal information", [
            "The customer may ask the Company to disclose his or her personal information. If the "
            "customer's personal information is wrong or has changed, the customer may ask for an item "
            "to be changed, added or deleted."]),
        _Section("Voluntary entries", _voluntary(facts.voluntary_items)),
        _Section("Contact", _contact(facts.business)),
    ]


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _after_cancellation(purposes: list[Purpose]) -> str:
    numbers = [str(p.ordinal) for p in purposes if p.usable_after_cancellation]
    if not numbers:
        return ("After the customer cancels the Company's services, the Company no longer uses the "
                "personal information entrusted to it for any purpose of use.")
    label = "Purpose of Use" if len(numbers) == 1 else "Purposes of Use"
    return ("After the customer cancels the Company's services, the Company uses the personal "
            "information entrusted to it by customers or business partners only within the purposes "
            f"of use set forth in {label} {_and(numbers)}.")


def _third_party(provisions: list[_ProvisionFacts]) -> list[str | _List]:
    if not provisions:
        return ["The Company does not provide personal information to third parties, except where "
                "permitted by law."]
    return [_provision_sentence(p) for p in provisions]


def _provision_sentence(p: _ProvisionFacts) -> str:
    label = "purpose of use" if len(p.purposes) == 1 else "purposes of use"
    purposes = _and([f"{x.ordinal} ({x.title})" for x in p.purposes] or ["none"])
    if p.provision.stated_purpose:  # the provision's own words, with the purpose numbers it serves
        stated = f"{p.provision.stated_purpose} ({label} {_and([str(x.ordinal) for x in p.purposes] or ['none'])})"
    else:
        stated = f"the {label} {purposes}"
    return (f"The Company provides personal information composed of {_and(p.item_names or ['no item'])} "
            f"to {p.recipient.name}, only for {stated}, {_LEGAL_BASIS[p.provision.legal_basis]}.")


def _entrustment(countries: list[str]) -> list[str | _List]:
    return [
        "The Company may entrust part of the business to third parties within the scope of the "
        "purposes of use, in order to run the business smoothly.",
        "It selects only subcontractors that have an appropriate system for managing personal "
        "information in place, and entrusts them under a contract requiring appropriate management.",
        "Personal information is handled in the following countries (ISO 3166-1 codes; APPI Art. 32):",
        _List(countries),
    ]


def _voluntary(item_names: list[str]) -> list[str | _List]:
    blocks: list[str | _List] = [
        "Entering personal information in application forms and the like is voluntary. If the customer "
        "does not provide it, the Company may be unable to provide the products or services appropriately."]
    if item_names:
        blocks += ["In particular, the following items are optional:", _List(item_names)]
    return blocks


def _contact(business: Business) -> list[str | _List]:
    inquiry = ("Please contact us with any other inquiry about requests for the disclosure of personal "
               "information, correction, discontinuance of use or suspension of provision to a third "
               "party, or with any other question.")
    where = business.contact or f"{business.operator_name}, {business.name} personal information desk."
    return [inquiry, where]


# --- Rendering ----------------------------------------------------------------------------


def _markdown_list(block: _List) -> list[str]:
    if block.numbers is None:
        return [f"- {entry}" for entry in block.entries]
    return [f"{n}. {entry}" for n, entry in zip(block.numbers, block.entries)]


def _markdown(title: str, intro: str, sections: list[_Section]) -> str:
    lines = [f"# {title}", "", intro]
    for n, section in enumerate(sections, start=1):
        lines += ["", f"## {n}. {section.title}"]
        for block in section.blocks:
            lines += [""] + (_markdown_list(block) if isinstance(block, _List) else [block])
    return "\n".join(lines) + "\n"


def _html_list(block: _List) -> str:
    if block.numbers is None:
        return "<ul>" + "".join(f"<li>{html.escape(e)}</li>" for e in block.entries) + "</ul>"
    return "<ol>" + "".join(
        f'<li value="{n}">{html.escape(e)}</li>' for n, e in zip(block.numbers, block.entries)
    ) + "</ol>"


def _html(title: str, intro: str, sections: list[_Section]) -> str:
    parts = [
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>", "</head>", "<body>",
        f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(intro)}</p>",
    ]
    for n, section in enumerate(sections, start=1):
        parts.append(f"<h2>{n}. {html.escape(section.title)}</h2>")
        parts += [_html_list(b) if isinstance(b, _List) else f"<p>{html.escape(b)}</p>" for b in section.blocks]
    return "\n".join(parts + ["</body>", "</html>"]) + "\n"
