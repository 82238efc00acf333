"""The records of processing (個人情報管理台帳): every data item of a business, with the parties
that handle it on a day, for which purposes and on what footing (issue 14).

Auditors and regulators ask for it as a spreadsheet (registry/ropa_export.py writes it). It
holds no personal data: it is about a business's kinds of data and its parties, never about a
customer.

The rows are handling resolution's own answer (registry/handling.py, DESIGN.md "Handling
resolution") for a hypothetical customer of the business on `as_of`: ACTIVE, registered,
holding every data item, with no completed request. Whatever a real customer's situation
removes (a cancellation, a STOP_USE, an item not given), such a customer has all of it, so
a party that handles anybody's data that day is in the records, and a party that handles
nobody's (its contract not ACTIVE, outside its term, no entrustment in effect, a broken or
unconsented re-entrustment chain, a foreign party with no APPI Art. 28 basis) is not. Joint
uses (APPI Art. 27(5)(iii)) add nobody to handlings but are part of the records, as JOINT_USER.

One row per data item and handling: (item, party, role), and for a party under several
contracts or provisions one row per contract or provision, each with its own reference and
period. The columns (`COLUMNS`, in order):

    Business             the business's code
    Data item code       the item's code (name, credit_card_number...)
    Data item            its name; Data item (ja): its Japanese name
    Category             its fideslang data category key
    Sensitivity          ORDINARY, FINANCIAL or SPECIAL_CARE
    Purpose codes        the purposes (P1...) for which the party handles the item that day
    Purposes             their titles, in the same order
    Role                 CONTROLLER (the business itself), SUBCONTRACTOR (entrusted under a
                         contract), THIRD_PARTY (a recipient of a provision), JOINT_USER
    Party                the business, subcontractor or recipient, or the joint users' scope;
                         Party (ja): its Japanese name where the registry has one
    Party kind           business, subcontractor, the recipient's kind, joint users
    Contract             a subcontractor's contract reference
    Entrusted by         a re-entrusted subcontractor's entrusting parents, nearest first
    Legal basis          OWN_USE, ENTRUSTMENT, the provision's CONSENT / LAW / OPT_OUT, JOINT_USE
    APPI article         the article that basis rests on
    Country              ISO 3166-1 alpha-2, as it stood that day
    Art. 28 basis        outside Japan, the basis of the foreign transfer that day
    Valid from, until    the period of what makes the row hold: the purposes' (the business
                         itself), the entrustments' naming the item within the contract's term,
                         the provision's, the joint use's; until empty while open
    Detail               a provision's stated purpose; a joint use's responsible person

Sorted by data item (the order the business defined them), then role, party and reference.
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from registry import jurisdictions
from registry.businesses import get_business, list_businesses
from registry.enums import ForeignTransferBasis, HandlingRole, LegalBasis
from registry.handling import (
    HOME_COUNTRY,
    BusinessContext,
    Handling,
    customer_state,
    derive_handlings,
    load_business_context,
    party_key,
)
from registry.joint_uses import joint_use_links, joint_uses_of
from registry.models import Business, DataItem, Purpose
from registry.periods import Period

JOINT_USER = "JOINT_USER"  # a role of the records only: joint users are not in handlings
ROLE_ORDER = {role: n for n, role in enumerate([*HandlingRole, JOINT_USER])}
ARTICLES = {  # where each footing rests in APPI
    "OWN_USE": "APPI Art. 17-18 (within the purposes of use)",
    "ENTRUSTMENT": "APPI Art. 27(5)(i)",
    LegalBasis.CONSENT: "APPI Art. 27(1)",
    LegalBasis.LAW: "APPI Art. 27(1)(i)",
    LegalBasis.OPT_OUT: "APPI Art. 27(2)",
    "JOINT_USE": "APPI Art. 27(5)(iii)",
}


@dataclass(frozen=True)
class Row:
    """One data item handled by one party on one footing (see the module docstring)."""

    business: str
    data_item_code: str
    data_item: str
    data_item_ja: str | None
    category: str | None
    sensitivity: str
    purpose_codes: str
    purposes: str
    role: str
    party: str
    party_ja: str | None
    party_kind: str
    contract: str | None
    entrusted_by: str | None
    legal_basis: str
    appi_article: str
    country: str | None
    foreign_transfer_basis: str | None
    valid_from: date | None
    valid_until: date | None
    detail: str | None


HEADERS = {
    "business": "Business", "data_item_code": "Data item code", "data_item": "Data item",
    "data_item_ja": "Data item (ja)", "category": "Category", "sensitivity": "Sensitivity",
    "purpose_codes": "Purpose codes", "purposes": "Purposes", "role": "Role", "party": "Party",
    "party_ja": "Party (ja)", "party_kind": "Party kind", "contract": "Contract", "entrusted_by": "Entrusted by",
    "legal_basis": "Legal basis", "appi_article": "APPI article", "country": "Country",
    "foreign_transfer_basis": "Art. 28 basis", "valid_from": "Valid from", "valid_until": "Valid until",
    "detail": "Detail",
}
COLUMNS = [f.name for f in fields(Row)]


@dataclass(frozen=True)
class ForeignParty:
    """A party outside Japan on the day that handles the business's data, and on what APPI Art.
    28 basis (a foreign party without one handles nothing, so is never here)."""

    business: str
    party: str
    role: str
    country: str
    foreign_transfer_basis: str
    contract: str | None
    entrusted_by: str | None
    data_item_codes: str
    purpose_codes: str
    valid_from: date | None
    valid_until: date | None


FOREIGN_HEADERS = {
    "business": "Business", "party": "Party", "role": "Role", "country": "Country",
    "foreign_transfer_basis": "Art. 28 basis", "contract": "Contract", "entrusted_by": "Entrusted by",
    "data_item_codes": "Data item codes", "purpose_codes": "Purpose codes", "valid_from": "Valid from",
    "valid_until": "Valid until",
}
FOREIGN_COLUMNS = [f.name for f in fields(ForeignParty)]


@dataclass(frozen=True)
class Records:
    """A business's records of processing on `as_of`: its rows and its foreign parties."""

    business: Business
    as_of: date
    rows: list[Row]
    foreign: list[ForeignParty]


async def businesses_of(session: AsyncSession, code: str | None) -> list[Business]:
    """The business named by `code` (NotFound when none has it), or every business."""
    return [await get_business(session, code)] if code is not None else await list_businesses(session)


async def records_of_processing(session: AsyncSession, business: Business, *, as_of: date,
                                today: date) -> Records:
    """The business's records on `as_of`, the facts read as they stood that day; `today` says
    whether the parties' jurisdictions come from their columns (today and on) or their history,
    as handling resolution reads them."""
    ctx = await load_business_context(session, business)
    state = customer_state(ctx, as_of, held=frozenset(ctx.items), cancelled=False)
    on_day = {} if as_of >= today else await jurisdictions.on_day(session, business.id, as_of)
    rows: list[Row] = []
    for handling in derive_handlings(ctx, state, as_of, on_day):
        if not handling.excluded:
            rows.extend(_handling_rows(ctx, handling, as_of, on_day))
    rows.extend(await _joint_use_rows(session, ctx, as_of))
    rows.sort(key=_order(ctx))
    return Records(business, as_of, rows, foreign_parties(rows))


def _order(ctx: BusinessContext):
    item_order = {item.code: (item.id, item.code) for item in ctx.items.values()}
    return lambda row: (item_order[row.data_item_code], ROLE_ORDER[row.role], row.party, row.contract or "")


def _handling_rows(ctx: BusinessContext, handling: Handling, as_of: date,
                   on_day: dict[tuple[str, int], jurisdictions.Jurisdiction]) -> Iterable[Row]:
    party = handling.party
    country, basis = _jurisdiction(party, on_day)
    footing = _footing(handling)
    for item in handling.data_items:
        yield _row(ctx, item, handling.purposes, role=handling.role.value, party=party.name,
                   party_ja=getattr(party, "name_ja", None), country=country, basis=basis,
                   period=_period(ctx, handling, item, as_of), **footing)


def _jurisdiction(party, on_day) -> tuple[str, ForeignTransferBasis | None]:
    """The party's country and Art. 28 basis on the day (the business's own: its country)."""
    if isinstance(party, Business):
        return party.country, None
    found = on_day.get(party_key(party), party)
    return found.country, found.foreign_transfer_basis


def _footing(handling: Handling) -> dict:
    """What puts the data with the party: kind, contract or provision, legal basis, detail."""
    party = handling.party
    if handling.role == HandlingRole.CONTROLLER:
        return dict(party_kind="business", legal_basis="OWN_USE", contract=None, entrusted_by=None, detail=None)
    if handling.role == HandlingRole.SUBCONTRACTOR:
        return dict(party_kind="subcontractor", legal_basis="ENTRUSTMENT", contract=handling.contract.reference,
                    entrusted_by="; ".join(s.name for s in handling.chain) or None, detail=None)
    provision = handling.provision
    return dict(party_kind=party.kind, legal_basis=provision.legal_basis.value, contract=None, entrusted_by=None,
                detail=provision.stated_purpose)


def _period(ctx: BusinessContext, handling: Handling, item: DataItem, as_of: date) -> Period:
    """The period of what makes the row hold on `as_of` (see the module docstring)."""
    if handling.role == HandlingRole.CONTROLLER:
        return _span([Period.of(p) for p in handling.purposes])
    if handling.role == HandlingRole.THIRD_PARTY:
        return Period.of(handling.provision)
    contract = handling.contract
    naming = _span([e.period for e in ctx.entrusted.get(contract.id, ())
                    if e.period.holds_on(as_of) and item.id in e.items])
    end = contract.expires_on if naming.end is None else min(naming.end, contract.expires_on)
    return Period(max(naming.start, contract.effective_from), end)


def _span(periods: list[Period]) -> Period:
    """From the earliest start to the latest end (open when any is open)."""
    ends = [p.end for p in periods]
    return Period(min(p.start for p in periods), None if None in ends else max(ends))


def _row(ctx: BusinessContext, item: DataItem, purposes: list[Purpose], *, legal_basis: str, period: Period,
         basis: ForeignTransferBasis | None, **values) -> Row:
    return Row(
        business=ctx.business.code, data_item_code=item.code, data_item=item.name, data_item_ja=item.name_ja,
        category=item.category, sensitivity=item.sensitivity.value,
        purpose_codes="; ".join(p.code for p in purposes), purposes="; ".join(p.title for p in purposes),
        legal_basis=legal_basis, appi_article=ARTICLES[legal_basis],
        foreign_transfer_basis=None if basis is None else basis.value,
        valid_from=period.start, valid_until=period.end, **values,
    )


async def _joint_use_rows(session: AsyncSession, ctx: BusinessContext, as_of: date) -> list[Row]:
    """A row per item of each joint use in effect on `as_of`, for its purposes in effect then."""
    in_effect = [j for j in (await joint_uses_of(session, [ctx.business.id]))[ctx.business.id]
                 if Period.of(j).holds_on(as_of)]
    purposes, items = await joint_use_links(session, [j.id for j in in_effect])
    permitted = ctx.purposes_on(as_of)
    rows = []
    for joint_use in in_effect:
        used_for = [p for p in purposes[joint_use.id] if p.id in permitted]
        rows.extend(
            _row(ctx, item, used_for, role=JOINT_USER, party=joint_use.users, party_ja=joint_use.users_ja,
                 party_kind="joint users", contract=None, entrusted_by=None, legal_basis="JOINT_USE",
                 country=None, basis=None, period=Period.of(joint_use),
                 detail=f"responsible: {joint_use.responsible}")
            for item in items[joint_use.id] if used_for
        )
    return rows


def foreign_parties(rows: list[Row]) -> list[ForeignParty]:
    """The rows' parties outside Japan, one entry per party and footing, with what they handle."""
    grouped: dict[tuple, list[Row]] = {}
    for row in rows:
        if row.country not in (None, HOME_COUNTRY) and row.role != HandlingRole.CONTROLLER:
            grouped.setdefault((row.party, row.role, row.contract, row.detail), []).append(row)
    return [
        ForeignParty(
            business=first.business, party=first.party, role=first.role, country=first.country,
            foreign_transfer_basis=first.foreign_transfer_basis, contract=first.contract,
            entrusted_by=first.entrusted_by, data_item_codes="; ".join(r.data_item_code for r in same),
            purpose_codes=first.purpose_codes, valid_from=min(r.valid_from for r in same),
            valid_until=None if any(r.valid_until is None for r in same) else max(r.valid_until for r in same),
        )
        for same in grouped.values() for first in same[:1]
    ]

