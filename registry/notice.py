"""The privacy notice ("Handling of Personal Information"), rendered from the registry alone,
in English or Japanese.

Sections follow the seed notice: 1 business activities, 2 purposes of use, 3 protection,
4 information held, 5 use after cancellation, 6 shared use, 7 third-party provision,
8 requests for suspension of use, 9 entrustment, 10 disclosure and correction,
11 voluntary entries, 12 contact. APPI Art. 32(1) asks for facts, so they are data: the
business's name, address and representative (§1), the purposes (§2), the security measures
with the foreign countries where personal data is handled and the Art. 28 basis of each
transfer there (§3), joint uses (§6, Art. 27(5)(iii)), the provisions in effect with the
details of an opt-out one (§7, Art. 27(2)), the request procedure and fee (§8, §10, Art. 38)
and the desk (§12). Sections 4 and 9 are the business's fixed policy.

The fixed wording is English in this file and Japanese in the message catalog
`registry/locale/ja/LC_MESSAGES/notice.po`, compiled to `notice.mo` at build time (`make
catalogs`; `make messages` extracts new wording into the catalog). The registry's own texts
carry their Japanese versions (`title_ja`, `name_ja`, ...); where one is missing the English
text stands in.
"""

import gettext
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.businesses import get_business
from registry.enums import ContractStatus, ForeignTransferBasis, LegalBasis
from registry.errors import InvalidInput
from registry.models import (
    Business, Contract, DataItem, JointUse, JointUseDataItem, JointUsePurpose, Provision, ProvisionDataItem,
    ProvisionPurpose, Purpose, Subcontractor, ThirdPartyRecipient,
)
from registry.periods import in_effect_or_open

FORMATS = ("markdown", "html")
LANGUAGES = ("en", "ja")  # ISO 639-1; the first is the default
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "notice"
HOME_COUNTRY = "JP"  # APPI's: data handled elsewhere is handled in a foreign country (Art. 28, 32)
CONTACT_SECTION = 12


def N_(message: str) -> str:
    """Marks wording for the catalog that is translated later, where it is used (`t(...)`)."""
    return message


class CatalogsNotCompiled(RuntimeError):
    """The Japanese catalog was not compiled: a build step was skipped (`make catalogs`)."""


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The fixed wording of the notice in `lang`: English is the source text itself."""
    if lang == "en":
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
    except FileNotFoundError:
        raise CatalogsNotCompiled(
            f"No compiled {lang!r} catalog under {LOCALE_DIR}: run `make catalogs` "
            f"(pybabel compile -d {LOCALE_DIR} -D {DOMAIN})") from None


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
    items: list[DataItem]
    purposes: list[Purpose]


@dataclass(frozen=True)
class _JointUseFacts:
    joint_use: JointUse
    items: list[DataItem]
    purposes: list[Purpose]


@dataclass(frozen=True)
class _ForeignParty:
    """A party outside Japan that handles the business's personal data, and its Art. 28 basis."""

    country: str
    recipient: bool  # a recipient of a provision; else a subcontractor under an entrusting contract
    basis: ForeignTransferBasis | None


@dataclass(frozen=True)
class _Facts:
    business: Business
    purposes: list[Purpose]
    voluntary_items: list[DataItem]
    provisions: list[_ProvisionFacts]
    joint_uses: list[_JointUseFacts]
    foreign: list[_ForeignParty]


async def render_notice(session: AsyncSession, business_code: str, *, fmt: str = "markdown",
                        lang: str = "en") -> str:
    """The business's privacy notice as Markdown or as a complete HTML document, in `lang`."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown notice format {fmt!r}: use one of {', '.join(FORMATS)}", field="format")
    if lang not in LANGUAGES:
        raise InvalidInput(f"Unknown notice language {lang[:16]!r}: use one of {', '.join(LANGUAGES)}", field="lang")
    words = _Words(lang)
    facts = await _facts(session, business_code)
    title = words.t("Handling of Personal Information by %(business)s") % {"business": words.own(
        facts.business.name, facts.business.name_ja)}
    render = _markdown if fmt == "markdown" else _html
    return render(lang, title, _intro(words, facts.business), _sections(words, facts))


class _Words:
    """The wording of one language: the catalog's for fixed text, the registry's for its own."""

    def __init__(self, lang: str):
        self.lang = lang
        self.t: Callable[[str], str] = translations(lang).gettext
        self._locale = Locale.parse(lang)

    def own(self, english: str, japanese: str | None) -> str:
        """A registry text: its Japanese version in Japanese when there is one."""
        return japanese if self.lang == "ja" and japanese else english

    def own_list(self, english: list[str], japanese: list[str]) -> list[str]:
        return japanese if self.lang == "ja" and japanese else english

    def country(self, code: str) -> str:
        return self._locale.territories.get(code, code)

    def day(self, day: date) -> str:
        return format_date(day, format="long", locale=self._locale)

    def and_(self, words: list[str]) -> str:
        """`a, b and c` (`a、bおよびc`)."""
        if len(words) == 1:
            return words[0]
        if self.lang == "ja":
            return f"{'、'.join(words[:-1])}および{words[-1]}"
        return f"{', '.join(words[:-1])} and {words[-1]}"


# --- Facts from the registry ------------------------------------------------------------


async def _all(session: AsyncSession, stmt) -> list:
    return list((await session.exec(stmt)).all())


async def _facts(session: AsyncSession, business_code: str) -> _Facts:
    business = await get_business(session, business_code)
    bid = business.id
    return _Facts(
        business=business,
        purposes=await _all(session, select(Purpose).where(  # a retired purpose is no longer stated
            Purpose.business_id == bid, in_effect_or_open(Purpose, None)).order_by(Purpose.ordinal)),
        voluntary_items=await _all(session, select(DataItem).where(
            DataItem.business_id == bid, DataItem.voluntary.is_(True)).order_by(DataItem.id)),
        provisions=await _provisions(session, bid),
        joint_uses=await _joint_uses(session, bid),
        foreign=await _foreign(session, business),
    )


async def _provisions(session: AsyncSession, business_id: int) -> list[_ProvisionFacts]:
    active = (Provision.business_id == business_id, in_effect_or_open(Provision, None))
    rows = await _all(session, select(Provision, ThirdPartyRecipient).join(ThirdPartyRecipient)
                      .where(*active).order_by(Provision.id))
    items = await _all(session, select(ProvisionDataItem.provision_id, DataItem).join(DataItem)
                       .join(Provision).where(*active).order_by(DataItem.id))
    purposes = await _all(session, select(ProvisionPurpose.provision_id, Purpose).join(Purpose)
                          .join(Provision).where(*active).order_by(Purpose.ordinal))
    return [
        _ProvisionFacts(
            recipient=recipient, provision=provision,
            items=[item for pid, item in items if pid == provision.id],
            purposes=[purpose for pid, purpose in purposes if pid == provision.id],
        )
        for provision, recipient in rows
    ]


async def _joint_uses(session: AsyncSession, business_id: int) -> list[_JointUseFacts]:
    active = (JointUse.business_id == business_id, in_effect_or_open(JointUse, None))
    rows = await _all(session, select(JointUse).where(*active).order_by(JointUse.id))
    items = await _all(session, select(JointUseDataItem.joint_use_id, DataItem).join(DataItem)
                       .join(JointUse).where(*active).order_by(DataItem.id))
    purposes = await _all(session, select(JointUsePurpose.joint_use_id, Purpose).join(Purpose)
                          .join(JointUse).where(*active).order_by(Purpose.ordinal))
    return [
        _JointUseFacts(
            joint_use=row,
            items=[item for jid, item in items if jid == row.id],
            purposes=[purpose for jid, purpose in purposes if jid == row.id],
        )
        for row in rows
    ]


async def _foreign(session: AsyncSession, business: Business) -> list[_ForeignParty]:
    """The parties outside Japan that handle the business's personal data (APPI Art. 32's
    "external environment"): subcontractors under a contract that entrusts data (ACTIVE or
    SUSPENDED, expired ones included while they may still hold it: not drafts, reviews or
    terminated ones), and the recipients of its active provisions."""
    entrusting = (ContractStatus.ACTIVE, ContractStatus.SUSPENDED)
    subcontractors = await _all(session, select(Subcontractor.country, Subcontractor.foreign_transfer_basis).join(
        Contract, Contract.subcontractor_id == Subcontractor.id,
    ).where(Contract.business_id == business.id, Contract.status.in_(entrusting),
            Subcontractor.country != HOME_COUNTRY))
    recipients = await _all(session, select(
        ThirdPartyRecipient.country, ThirdPartyRecipient.foreign_transfer_basis,
    ).join(Provision).where(Provision.business_id == business.id, in_effect_or_open(Provision, None),
                            ThirdPartyRecipient.country != HOME_COUNTRY))
    parties = {_ForeignParty(country, False, basis) for country, basis in subcontractors}
    parties |= {_ForeignParty(country, True, basis) for country, basis in recipients}
    return sorted(parties, key=lambda p: (p.country, p.recipient, p.basis or ""))


# --- The sections -------------------------------------------------------------------------


def _intro(words: _Words, business: Business) -> str:
    return words.t(
        '%(operator)s (hereinafter "the Company") handles the personal information of customers as set out '
        "below when acquiring the personal information needed for the business operations carried out in "
        "providing and operating the %(business)s services."
    ) % {"operator": words.own(business.operator_name, business.operator_name_ja),
         "business": words.own(business.name, business.name_ja)}


def _sections(words: _Words, facts: _Facts) -> list[_Section]:
    t = words.t
    return [
        _Section(t("Business activities"), _activities(words, facts.business)),
        _Section(t("Purposes of use"), [_List([words.own(p.title, p.title_ja) for p in facts.purposes],
                                              [p.ordinal for p in facts.purposes])]),
        _Section(t("Protection of personal information"), _protection(words, facts)),
        _Section(t("Information held"), [t(
            "The Company keeps the personal information entrusted to it on an ongoing basis, unless other "
            "terms provide otherwise (for example, the application guidelines of a campaign).")]),
        _Section(t("Personal information after cancellation"), [_after_cancellation(words, facts.purposes)]),
        _Section(t("Shared use"), _shared_use(words, facts.joint_uses)),
        _Section(t("Third party provision of personal information"), _third_party(words, facts.provisions)),
        _Section(t("Requests for suspension of use of personal information"), [t(
            "The customer may ask the Company to stop using or to delete personal information about "
            "himself or herself, or to stop providing it to third parties."),
            *_procedure(words, facts.business)]),
        _Section(t("Entrustment of the handling of personal information"), [
            t("The Company may entrust part of the business to third parties within the scope of the "
              "purposes of use, in order to run the business smoothly."),
            t("It selects only subcontractors that have an appropriate system for managing personal "
              "information in place, and entrusts them under a contract requiring appropriate management.")]),
        _Section(t("Requests for disclosure and correction of personal information"), [t(
            "The customer may ask the Company to disclose his or her personal information. If the "
            "customer's personal information is wrong or has changed, the customer may ask for an item "
            "to be changed, added or deleted."),
            *_procedure(words, facts.business)]),
        _Section(t("Voluntary entries"), _voluntary(words, facts.voluntary_items)),
        _Section(t("Contact"), _contact(words, facts.business)),
    ]


def _activities(words: _Words, business: Business) -> list[str | _List]:
    blocks: list[str | _List] = [_List(words.own_list(list(business.activities), list(business.activities_ja)))]
    facts = [words.t("Name: %(name)s") % {"name": words.own(business.operator_name, business.operator_name_ja)}]
    if business.address:
        facts.append(words.t("Address: %(address)s") % {"address": words.own(business.address, business.address_ja)})
    if business.representative:
        facts.append(words.t("Representative: %(representative)s") % {
            "representative": words.own(business.representative, business.representative_ja)})
    return blocks + [words.t("The business operator:"), _List(facts)]


_BASES = {  # why a transfer to the country is lawful (APPI Art. 28), as the notice states it
    ForeignTransferBasis.CONSENT_WITH_INFORMATION: N_(
        "with the customer's consent, given after being informed of the country and its system for the "
        "protection of personal information"),
    ForeignTransferBasis.EQUIVALENT_MEASURES: N_(
        "the party keeps, under its contract, a system meeting the standards of the Act on the Protection of "
        "Personal Information"),
    ForeignTransferBasis.ADEQUATE_COUNTRY: N_(
        "the country is one the Personal Information Protection Commission recognises as protecting personal "
        "information at a level equivalent to Japan"),
    None: N_("no basis is recorded yet"),
}
_ROLES = {False: N_("a subcontractor entrusted with personal information"),
          True: N_("a third party it is provided to")}


def _protection(words: _Words, facts: _Facts) -> list[str | _List]:
    t = words.t
    blocks: list[str | _List] = [t(
        "The Company takes the necessary and appropriate measures to prevent the leakage, loss or damage of "
        "the personal information entrusted to it.")]
    business = facts.business
    measures = words.own_list(list(business.security_measures), list(business.security_measures_ja))
    if measures:
        blocks += [t("The security control measures it takes are the following:"), _List(measures)]
    if facts.foreign:
        blocks += [t(
            "Personal information is handled in the following foreign countries. The Company takes its "
            "measures knowing the system for the protection of personal information of each country."),
            _List([t("%(country)s (%(code)s): %(role)s; %(basis)s") % {
                "country": words.country(p.country), "code": p.country,
                "role": t(_ROLES[p.recipient]), "basis": t(_BASES[p.basis])} for p in facts.foreign])]
    return blocks


def _purpose_numbers(words: _Words, numbers: list[int], *, title: bool = True) -> str:
    """`Purposes of Use 2 and 3`, as section 5 names them; `purposes of use 2 and 3` in a sentence."""
    t, one = words.t, len(numbers) == 1
    if title:
        label = t("Purpose of Use %(numbers)s") if one else t("Purposes of Use %(numbers)s")
    else:
        label = t("purpose of use %(numbers)s") if one else t("purposes of use %(numbers)s")
    return label % {"numbers": words.and_([str(n) for n in numbers])}


def _after_cancellation(words: _Words, purposes: list[Purpose]) -> str:
    numbers = [p.ordinal for p in purposes if p.usable_after_cancellation]
    if not numbers:
        return words.t("After the customer cancels the Company's services, the Company no longer uses the "
                       "personal information entrusted to it for any purpose of use.")
    return words.t(
        "After the customer cancels the Company's services, the Company uses the personal information "
        "entrusted to it by customers or business partners only within the purposes of use set forth in "
        "%(purposes)s.") % {"purposes": _purpose_numbers(words, numbers)}


def _item_names(words: _Words, items: list[DataItem]) -> str:
    return words.and_([words.own(i.name, i.name_ja) for i in items] or [words.t("no item")])


def _purpose_titles(words: _Words, purposes: list[Purpose]) -> str:
    return words.and_([f"{p.ordinal} ({words.own(p.title, p.title_ja)})" for p in purposes] or [words.t("none")])


def _shared_use(words: _Words, joint_uses: list[_JointUseFacts]) -> list[str | _List]:
    t = words.t
    if not joint_uses:
        return [t("The Company does not jointly use the personal information entrusted to it by customers in "
                  "this business with any person other than the Company.")]
    blocks: list[str | _List] = [t("The Company jointly uses personal information as follows.")]
    for j in joint_uses:
        use = j.joint_use
        blocks.append(_List([
            t("Items jointly used: %(items)s") % {"items": _item_names(words, j.items)},
            t("Scope of the joint users: %(users)s") % {"users": words.own(use.users, use.users_ja)},
            t("Purposes of use of the joint users: %(purposes)s") % {"purposes": _purpose_titles(words, j.purposes)},
            t("Person responsible for its management: %(responsible)s") % {
                "responsible": words.own(use.responsible, use.responsible_ja)},
            t("Since %(day)s") % {"day": words.day(use.effective_from)},
        ]))
    return blocks


_LEGAL_BASIS = {
    LegalBasis.CONSENT: N_("with the customer's consent"),
    LegalBasis.LAW: N_("as required or permitted by law"),
    LegalBasis.OPT_OUT: N_("under the opt-out procedure notified to the Personal Information Protection Commission"),
}


def _third_party(words: _Words, provisions: list[_ProvisionFacts]) -> list[str | _List]:
    if not provisions:
        return [words.t("The Company does not provide personal information to third parties, except where "
                        "permitted by law.")]
    blocks: list[str | _List] = []
    for p in provisions:
        blocks.append(_provision_sentence(words, p))
        if p.provision.legal_basis is LegalBasis.OPT_OUT:
            blocks.append(_List(_opt_out(words, p)))
    return blocks


def _provision_sentence(words: _Words, p: _ProvisionFacts) -> str:
    t = words.t
    numbers = [x.ordinal for x in p.purposes]
    stated = words.own(p.provision.stated_purpose or "", p.provision.stated_purpose_ja)
    if stated:  # the provision's own words, with the purpose numbers it serves
        purpose = t("%(stated)s (%(purposes)s)") % {
            "stated": stated, "purposes": _purpose_numbers(words, numbers, title=False) if numbers else t("none")}
    else:
        purpose = t("the purposes of use %(purposes)s") % {"purposes": _purpose_titles(words, p.purposes)}
    return t("The Company provides personal information composed of %(items)s to %(recipient)s, only for "
             "%(purpose)s, %(basis)s.") % {
        "items": _item_names(words, p.items), "purpose": purpose, "basis": t(_LEGAL_BASIS[p.provision.legal_basis]),
        "recipient": words.own(p.recipient.name, p.recipient.name_ja)}


def _opt_out(words: _Words, p: _ProvisionFacts) -> list[str]:
    """What Art. 27(2) asks the notice to state of an opt-out provision, beyond its items and recipient."""
    t, provision = words.t, p.provision
    lines = []
    if provision.method:
        lines.append(t("Method of provision: %(method)s") % {"method": words.own(provision.method, provision.method_ja)})
    lines.append(t("On the customer's request the Company stops providing the customer's personal information "
                   "to this third party; please ask at the desk in section %(section)d.") % {
        "section": CONTACT_SECTION})
    if provision.ppc_notified_on:
        lines.append(t("Notified to the Personal Information Protection Commission on %(day)s.") % {
            "day": words.day(provision.ppc_notified_on)})
    return lines


def _procedure(words: _Words, business: Business) -> list[str]:
    if not business.request_procedure:
        return [words.t("Please make requests at the desk in section %(section)d.") % {"section": CONTACT_SECTION}]
    return [words.t("How to make a request, and the fee: %(procedure)s") % {
        "procedure": words.own(business.request_procedure, business.request_procedure_ja)}]


def _voluntary(words: _Words, items: list[DataItem]) -> list[str | _List]:
    blocks: list[str | _List] = [words.t(
        "Entering personal information in application forms and the like is voluntary. If the customer does "
        "not provide it, the Company may be unable to provide the products or services appropriately.")]
    if items:
        blocks += [words.t("In particular, the following items are optional:"),
                   _List([words.own(i.name, i.name_ja) for i in items])]
    return blocks


def _contact(words: _Words, business: Business) -> list[str | _List]:
    inquiry = words.t(
        "Please contact us with any other inquiry about requests for the disclosure of personal information, "
        "correction, discontinuance of use or suspension of provision to a third party, or with any other "
        "question.")
    if business.contact:
        return [inquiry, words.own(business.contact, business.contact_ja)]
    return [inquiry, words.t("%(operator)s, %(business)s personal information desk.") % {
        "operator": words.own(business.operator_name, business.operator_name_ja),
        "business": words.own(business.name, business.name_ja)}]


# --- Rendering ----------------------------------------------------------------------------


def _markdown_list(block: _List) -> list[str]:
    if block.numbers is None:
        return [f"- {entry}" for entry in block.entries]
    return [f"{n}. {entry}" for n, entry in zip(block.numbers, block.entries)]


def _markdown(lang: str, title: str, intro: str, sections: list[_Section]) -> str:
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


def _html(lang: str, title: str, intro: str, sections: list[_Section]) -> str:
    parts = [
        "<!doctype html>", f'<html lang="{lang}">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>", "</head>", "<body>",
        f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(intro)}</p>",
    ]
    for n, section in enumerate(sections, start=1):
        parts.append(f"<h2>{n}. {html.escape(section.title)}</h2>")
        parts += [_html_list(b) if isinstance(b, _List) else f"<p>{html.escape(b)}</p>" for b in section.blocks]
    return "\n".join(parts + ["</body>", "</html>"]) + "\n"
