"""The registry as a document: what `pi-gateway export` writes and what `apply` compares a file to.

Read through the registry's own reads and models; ids, versions, write timestamps, actors and
customers never enter it. Every list is in a stable order and `dump` sorts keys, so the same
registry always gives the same bytes.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

import yaml
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry import contracts, joint_uses, provisions
from registry.businesses import data_items_of, get_business, list_businesses, purposes_of
from registry.errors import InvalidInput
from registry.models import (
    Assessment,
    Business,
    Contract,
    PartyJurisdiction,
    Provision,
    Subcontractor,
    ThirdPartyRecipient,
)

FORMAT_VERSION = 1
HEADER = f"""\
# pi-gateway registry, format version {FORMAT_VERSION} (pi-gateway export; schema: registry/manifest.schema.json).
# Businesses with their purposes, data items, contracts, provisions and joint uses; subcontractors;
# third-party recipients. No customers and no personal data. Edit it, then run
# `pi-gateway apply FILE --dry-run` to see the plan and `pi-gateway apply FILE` to make it so.
"""
BUSINESS_TEXTS = {  # file key -> Business attribute, for the facts update_business changes
    "name": "name", "nameJa": "name_ja", "operatorName": "operator_name", "operatorNameJa": "operator_name_ja",
    "activities": "activities", "activitiesJa": "activities_ja", "contact": "contact", "contactJa": "contact_ja",
    "address": "address", "addressJa": "address_ja", "representative": "representative",
    "representativeJa": "representative_ja", "requestProcedure": "request_procedure",
    "requestProcedureJa": "request_procedure_ja", "securityMeasures": "security_measures",
    "securityMeasuresJa": "security_measures_ja",
}
PURPOSE_TEXTS = {"title": "title", "titleJa": "title_ja", "description": "description",
                 "usableAfterCancellation": "usable_after_cancellation", "dataUse": "data_use"}
DATA_ITEM_FIELDS = {"name": "name", "nameJa": "name_ja", "category": "category", "sensitivity": "sensitivity",
                    "voluntary": "voluntary", "propertyDamageRisk": "property_damage_risk"}


def dump(document: dict[str, Any]) -> str:
    """The document as YAML: the header, then keys sorted, one value per line, dates bare."""
    body = yaml.safe_dump(document, sort_keys=True, allow_unicode=True, default_flow_style=False, width=1 << 20)
    return HEADER + body


async def export_registry(session: AsyncSession, *, business_code: str | None = None) -> dict[str, Any]:
    """The registry as a document: every business (or the one named, NOT_FOUND otherwise) with what it
    owns, and every subcontractor and recipient (with one business: those its contracts and provisions
    name, and the parents of those subcontractors). A name two subcontractors (or two recipients)
    share cannot key the file: INVALID_INPUT, naming it."""
    if business_code is None:
        owners = await list_businesses(session)
    else:
        owners = [await get_business(session, business_code, field="business")]
    subs = await _subcontractors(session)
    recipients = {r.id: r for r in await provisions.list_recipients(session)}
    done = {b.code: await _business(session, b, subs, recipients) for b in owners}
    if business_code is not None:
        named = {c["subcontractor"] for c in done[business_code]["contracts"].values()}
        subs_used = _with_parents(subs, named)
        recipients_used = {p["recipient"] for p in done[business_code]["provisions"]}
    else:
        subs_used = {s.name for s in subs.values()}
        recipients_used = {r.name for r in recipients.values()}
    return {
        "version": FORMAT_VERSION,
        "businesses": done,
        "subcontractors": await _subcontractor_entries(session, subs, subs_used),
        "recipients": await _recipient_entries(session, recipients, recipients_used),
    }


async def _business(session: AsyncSession, business: Business, subs: dict[int, Subcontractor],
                    recipients: dict[int, ThirdPartyRecipient]) -> dict[str, Any]:
    entry: dict[str, Any] = {key: _value(getattr(business, attr)) for key, attr in BUSINESS_TEXTS.items()}
    entry["country"] = business.country
    purposes = (await purposes_of(session, [business.id]))[business.id]
    entry["purposes"] = {p.code: {**{k: getattr(p, a) for k, a in PURPOSE_TEXTS.items()}, "ordinal": p.ordinal,
                                  "effectiveFrom": p.effective_from, "retiredOn": p.effective_until}
                         for p in purposes}
    items = (await data_items_of(session, [business.id]))[business.id]
    entry["dataItems"] = {i.code: {k: _value(getattr(i, a)) for k, a in DATA_ITEM_FIELDS.items()} for i in items}
    entry["contracts"] = await _contracts(session, business, subs)
    entry["provisions"] = await _provisions(session, business, recipients)
    entry["jointUses"] = await _joint_uses(session, business)
    return entry


async def _contracts(session: AsyncSession, business: Business, subs: dict[int, Subcontractor]) -> dict[str, Any]:
    rows = (await session.exec(select(Contract).where(Contract.business_id == business.id))).all()
    ids = [c.id for c in rows]
    histories = await contracts.status_histories(session, ids)
    entrusted = await contracts.entrustments_of(session, ids)
    links = await contracts.entrustment_links(session, [e.id for found in entrusted.values() for e in found])
    return {c.reference: {
        "subcontractor": subs[c.subcontractor_id].name,
        "signedOn": c.signed_on, "effectiveFrom": c.effective_from, "expiresOn": c.expires_on,
        "clauses": sorted(c.clauses), "dataReturnedOn": c.data_returned_on,
        "statusHistory": [{"status": str(h.status), "effectiveOn": h.effective_on, "reason": h.reason}
                          for h in histories[c.id]],
        "entrustments": sort_periods([_scoped(e, links, description=e.description) for e in entrusted[c.id]]),
    } for c in rows}


async def _provisions(session: AsyncSession, business: Business, recipients: dict[int, ThirdPartyRecipient]
                      ) -> list[dict[str, Any]]:
    rows = (await session.exec(select(Provision).where(Provision.business_id == business.id))).all()
    links = await provisions.provision_links(session, [p.id for p in rows])
    return sort_periods([_scoped(
        p, links, recipient=recipients[p.recipient_id].name, legalBasis=str(p.legal_basis),
        statedPurpose=p.stated_purpose, statedPurposeJa=p.stated_purpose_ja, method=p.method, methodJa=p.method_ja,
        ppcNotifiedOn=p.ppc_notified_on) for p in rows])


async def _joint_uses(session: AsyncSession, business: Business) -> list[dict[str, Any]]:
    rows = (await joint_uses.joint_uses_of(session, [business.id]))[business.id]
    links = await joint_uses.joint_use_links(session, [j.id for j in rows])
    return sort_periods([_scoped(j, links, users=j.users, usersJa=j.users_ja, responsible=j.responsible,
                                 responsibleJa=j.responsible_ja) for j in rows])


def _scoped(row, links, **fields: Any) -> dict[str, Any]:
    """A fact that names purposes and items for a period (entrustment, provision, joint use)."""
    purposes, items = links
    return {**fields, "purposes": sorted(p.code for p in purposes[row.id]),
            "dataItems": sorted(i.code for i in items[row.id]),
            "effectiveFrom": row.effective_from, "effectiveUntil": row.effective_until}


def sort_periods(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Facts without a key of their own, in a stable order: by start, then by every other value."""
    return sorted(entries, key=lambda e: (e["effectiveFrom"], repr(sorted(e.items(), key=lambda kv: kv[0]))))


async def _subcontractors(session: AsyncSession) -> dict[int, Subcontractor]:
    rows = (await session.exec(select(Subcontractor).order_by(Subcontractor.id))).all()
    _require_unique_names(rows, "subcontractors")
    return {s.id: s for s in rows}


def _require_unique_names(rows: Iterable, kind: str) -> None:
    seen: set[str] = set()
    for row in rows:
        if row.name in seen:
            raise InvalidInput(f"two {kind} are named {row.name[:200]!r}: a registry file keys {kind} by name; "
                               "rename one (through the API) before exporting", field="name")
        seen.add(row.name)


def _with_parents(subs: dict[int, Subcontractor], names: set[str]) -> set[str]:
    by_name = {s.name: s for s in subs.values()}
    wanted, queue = set(), list(names)
    while queue:
        name = queue.pop()
        if name in wanted:
            continue
        wanted.add(name)
        parent = by_name[name].parent_id
        if parent is not None:
            queue.append(subs[parent].name)
    return wanted


async def _subcontractor_entries(session: AsyncSession, subs: dict[int, Subcontractor], names: set[str]
                                 ) -> dict[str, Any]:
    chosen = [s for s in subs.values() if s.name in names]
    ids = [s.id for s in chosen]
    assessments: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for a in (await session.exec(select(Assessment).where(Assessment.subcontractor_id.in_(ids)))).all():
        assessments[a.subcontractor_id].append({"result": str(a.result), "assessedOn": a.assessed_on,
                                                "nextDueOn": a.next_due_on, "note": a.note})
    periods = await _periods(session, PartyJurisdiction.subcontractor_id, chosen)
    return {s.name: {
        "corporateNumber": s.corporate_number,
        "parent": None if s.parent_id is None else subs[s.parent_id].name,
        "certifications": sorted(s.certifications),
        "assessments": sorted(assessments[s.id], key=lambda a: (a["assessedOn"], repr(sorted(a.items())))),
        "jurisdictions": periods[s.id],
    } for s in chosen}


async def _recipient_entries(session: AsyncSession, recipients: dict[int, ThirdPartyRecipient], names: set[str]
                             ) -> dict[str, Any]:
    chosen = [r for r in recipients.values() if r.name in names]
    _require_unique_names(chosen, "recipients")
    periods = await _periods(session, PartyJurisdiction.recipient_id, chosen)
    return {r.name: {"nameJa": r.name_ja, "kind": r.kind, "jurisdictions": periods[r.id]} for r in chosen}


async def _periods(session: AsyncSession, owner_column, parties: list) -> dict[int, list[dict[str, Any]]]:
    """Each party's jurisdiction periods by start; a party with none (loaded in bulk) has held its
    columns' values since the beginning (registry/jurisdictions.py)."""
    from registry.jurisdictions import BEGINNING

    ids = [p.id for p in parties]
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    rows = await session.exec(select(PartyJurisdiction).where(owner_column.in_(ids))
                              .order_by(PartyJurisdiction.effective_from, PartyJurisdiction.id))
    for row in rows.all():
        found[getattr(row, owner_column.key)].append(_period(row.country, row.foreign_transfer_basis,
                                                             row.effective_from, row.effective_until))
    for party in parties:
        if not found[party.id]:
            found[party.id].append(_period(party.country, party.foreign_transfer_basis, BEGINNING, None))
    return found


def _period(country: str, basis, start: date, end: date | None) -> dict[str, Any]:
    return {"country": country, "foreignTransferBasis": None if basis is None else str(basis),
            "effectiveFrom": start, "effectiveUntil": end}


def _value(value: Any) -> Any:
    """Enums as their names, lists copied: plain YAML values."""
    if isinstance(value, list):
        return list(value)
    if hasattr(value, "value") and isinstance(value, str):
        return str(value)
    return value
