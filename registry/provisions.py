"""Provision of personal data to third parties (seed §7, APPI Art. 27-29).

A provision says which of a business's items go to which recipient, for which purposes,
on which legal basis. Each actual provision about a customer is recorded (Art. 29) and the
record kept for three years.
"""

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry import jurisdictions
from registry.audit import record, snapshot
from registry.businesses import check_end, get_business, resolve_item_codes, resolve_purposes_and_items
from registry.customers import get_customer
from registry.handling import resolve_handlings
from registry.enums import ForeignTransferBasis, LegalBasis, Sensitivity
from registry.errors import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    OptOutNotPermitted,
    ProvisionNotApplicable,
    RegistryError,
    raise_all,
)
from registry.models import (
    AuditEvent,
    DataItem,
    Provision,
    ProvisionDataItem,
    ProvisionPurpose,
    ProvisionRecord,
    ProvisionRecordDataItem,
    Purpose,
    ThirdPartyRecipient,
    utcnow,
)
from registry.lookup import linked, purposes_and_items, rows_by_ids
from registry.pages import Page, group_by, paginate
from registry.validation import fetch, foreign_basis, optional_text, require_codes, require_country, require_member, require_name

RETENTION_YEARS = 3  # APPI Enforcement Rules Art. 21: records kept for three years
PURGE_BATCH = 500  # records read, deleted and audited per round of a purge


async def create_recipient(
    session: AsyncSession, *, actor: str, name: str, country: str, kind: str,
    foreign_transfer_basis: ForeignTransferBasis | None = None, name_ja: str | None = None,
) -> ThirdPartyRecipient:
    """A third party personal data may be provided to; its country makes a provision a
    foreign one when outside Japan, which needs a `foreign_transfer_basis` (Art. 28): without
    one the recipient is excluded from handlings (registry/handling.py). `name_ja` is the name
    the notice in Japanese states (none: the English one stands in)."""
    recipient = ThirdPartyRecipient(
        name=require_name(name, field="name"),
        name_ja=optional_text(name_ja, field="nameJa", max_length=200),
        country=require_country(country),
        kind=require_name(kind, field="kind", max_length=100),
        foreign_transfer_basis=foreign_basis(foreign_transfer_basis),
    )
    session.add(recipient)
    await session.flush()
    period = await jurisdictions.open_first(session, recipient)
    await record(session, actor=actor, action="recipient.create", entity=recipient, before=None,
                 after=snapshot(recipient, **jurisdictions.audited([period])))
    await session.commit()
    return recipient


RECIPIENT_FIELDS = {
    "name": lambda v: require_name(v, field="name"),
    "name_ja": lambda v: optional_text(v, field="nameJa", max_length=200),
    "country": require_country,
    "kind": lambda v: require_name(v, field="kind", max_length=100),
    "foreign_transfer_basis": foreign_basis,
}


async def update_recipient(session: AsyncSession, *, actor: str, id: int, changes: Mapping[str, Any],
                           today: date, effective_on: date | None = None) -> ThirdPartyRecipient:
    """Change a recipient's name (or its Japanese version), country, kind or Art. 28 basis (null
    clears the basis or the Japanese name); absent keys stay. A new country or basis holds from
    `effective_on` (default today; registry/jurisdictions.py)."""
    unknown = sorted(set(changes) - RECIPIENT_FIELDS.keys())
    if unknown:
        raise InvalidInput(f"cannot change {unknown}", field=unknown[0])
    values = {key: RECIPIENT_FIELDS[key](value) for key, value in changes.items()}
    recipient = await fetch(session, ThirdPartyRecipient, id, lock=True)
    if recipient is None:
        raise NotFound(f"no ThirdPartyRecipient {id}", field="id")
    before = snapshot(recipient)
    periods = await jurisdictions.change(session, recipient, values, effective_on=effective_on, today=today)
    for key, value in values.items():
        setattr(recipient, key, value)
    session.add(recipient)
    await session.flush()
    await record(session, actor=actor, action="recipient.update", entity=recipient, before=before,
                 after=snapshot(recipient, **jurisdictions.audited(periods)))
    await session.commit()
    return recipient


async def create_provision(
    session: AsyncSession,
    *,
    actor: str,
    business_code: str,
    recipient_id: int,
    purpose_codes: Iterable[str],
    data_item_codes: Iterable[str],
    legal_basis: LegalBasis,
    effective_from: date | None = None,
    effective_until: date | None = None,
    stated_purpose: str | None = None,
    ppc_notified_on: date | None = None,
    today: date | None = None,
    stated_purpose_ja: str | None = None,
    method: str | None = None,
    method_ja: str | None = None,
) -> Provision:
    """Which of the business's own purposes and items go to the recipient, and on what
    legal basis (Art. 27: consent, law, or opt-out), from `effective_from`. Given `today` (the
    API's writes), it defaults to today and may not lie before it: the past stays as it was.
    `stated_purpose` is what it is for in the notice's words; `stated_purpose_ja`, in Japanese;
    `method` (and `method_ja`) how the data goes (by file transfer, on paper...), which the notice
    states for an opt-out provision (Art. 27(2)(v)).

    Opt-out provision (Art. 27(2)) is lawful only once the PPC was notified, on or before the
    provision begins (`ppc_notified_on`), and never of special care-required items: otherwise
    OPT_OUT_NOT_PERMITTED, every problem named, and nothing written."""
    business = await get_business(session, business_code)
    recipient = await _get(session, ThirdPartyRecipient, recipient_id, field="recipientId")
    legal_basis = require_member(legal_basis, LegalBasis, field="legalBasis")
    if effective_from is None:
        if today is None:
            raise InvalidInput("effectiveFrom is required", field="effectiveFrom")
        effective_from = today
    if today is not None and effective_from < today:
        raise InvalidInput(f"effectiveFrom {effective_from} lies before today ({today}): a provision from then "
                           "would rewrite what was answered for those days", field="effectiveFrom")
    purposes, items = await resolve_purposes_and_items(session, business.id, purpose_codes, data_item_codes)
    raise_all(_opt_out_problems(legal_basis, items, ppc_notified_on, effective_from))
    provision = Provision(
        business_id=business.id, recipient_id=recipient.id, legal_basis=legal_basis,
        effective_from=effective_from, effective_until=effective_until, ppc_notified_on=ppc_notified_on,
        stated_purpose=optional_text(stated_purpose, field="statedPurpose", max_length=500),
        stated_purpose_ja=optional_text(stated_purpose_ja, field="statedPurposeJa", max_length=500),
        method=optional_text(method, field="method", max_length=500),
        method_ja=optional_text(method_ja, field="methodJa", max_length=500),
    )
    session.add(provision)
    await session.flush()
    session.add_all([ProvisionPurpose(provision_id=provision.id, purpose_id=p.id) for p in purposes])
    session.add_all([ProvisionDataItem(provision_id=provision.id, data_item_id=i.id) for i in items])
    await session.flush()
    after = snapshot(
        provision, purpose_codes=[p.code for p in purposes], data_item_codes=[i.code for i in items]
    )
    await record(session, actor=actor, action="provision.create", entity=provision, before=None, after=after)
    await session.commit()
    return provision


def _opt_out_problems(basis: LegalBasis, items: list[DataItem], notified_on: date | None,
                      starts: date) -> list[RegistryError]:
    if basis is not LegalBasis.OPT_OUT:
        if notified_on is None:
            return []
        return [InvalidInput(f"ppcNotifiedOn is for an OPT_OUT provision, not a {basis} one", field="ppcNotifiedOn")]
    problems: list[RegistryError] = []
    if notified_on is None:
        problems.append(OptOutNotPermitted(
            "an opt-out provision needs the day the PPC was notified (APPI Art. 27(2)): notify it first",
            field="ppcNotifiedOn"))
    elif notified_on > starts:
        problems.append(OptOutNotPermitted(
            f"the PPC was notified on {notified_on}, after the provision begins on {starts}: it must be notified "
            "in advance (APPI Art. 27(2))", field="ppcNotifiedOn"))
    special = [i.code for i in items if i.sensitivity == Sensitivity.SPECIAL_CARE]
    if special:
        problems.append(OptOutNotPermitted(
            f"{', '.join(special)} {'is' if len(special) == 1 else 'are'} special care-required data, which may "
            "not be provided by opt-out (APPI Art. 27(2) proviso): obtain consent instead", field="dataItemCodes"))
    return problems


async def end_provision(session: AsyncSession, *, actor: str, id: int, effective_until: date,
                        today: date) -> Provision:
    """End a provision: `effective_until` is its last day (never before yesterday; a later day
    schedules the end). The row stays, so handlings of earlier days still show it. Ending it
    again is INVALID_TRANSITION."""
    provision = await fetch(session, Provision, id, lock=True)
    if provision is None:
        raise NotFound(f"no Provision {id}", field="id")
    if provision.effective_until is not None:
        raise InvalidTransition(f"provision {id} ends on {provision.effective_until} already", field="id")
    check_end(effective_until, start=provision.effective_from, today=today, field="effectiveUntil")
    purposes, items = await provision_links(session, [id])
    codes = dict(purpose_codes=[p.code for p in purposes[id]], data_item_codes=[i.code for i in items[id]])
    before = snapshot(provision, **codes)
    provision.effective_until = effective_until
    session.add(provision)
    await session.flush()
    await record(session, actor=actor, action="provision.end", entity=provision, before=before,
                 after=snapshot(provision, **codes))
    await session.commit()
    return provision


async def record_provision(
    session: AsyncSession,
    *,
    actor: str,
    provision_id: int,
    customer_id: int,
    provided_on: date,
    data_item_codes: Iterable[str],
    today: date,
) -> ProvisionRecord:
    """The Art. 29 record of providing a customer's items under a provision on `provided_on`
    (not in the future). It records only what the registry says may happen that day: the
    customer's handlings on `provided_on` must show the provision's recipient handling them
    under it (not excluded: in effect, items held, purposes permitted, provision not stopped
    by the customer, Art. 35(5)), and the items must be among those it handles; otherwise
    PROVISION_NOT_APPLICABLE with the reasons, and nothing written."""
    provision = await _get(session, Provision, provision_id, field="provisionId")
    customer = await get_customer(session, customer_id, field="customerId")
    if provided_on > today:  # DESIGN.md "Time": never in the future, else PROVISION_NOT_APPLICABLE
        raise ProvisionNotApplicable(f"providedOn {provided_on} lies in the future: the registry records "
                                     "only what has happened", field="providedOn")
    if customer.business_id != provision.business_id:
        raise InvalidInput("the customer belongs to another business than the provision", field="customerId")
    codes = require_codes(data_item_codes, field="dataItemCodes")
    items = await resolve_item_codes(session, provision.business_id, codes, field="dataItemCodes")
    found = [h for h in await resolve_handlings(session, customer.id, as_of=provided_on, today=today,
                                                include_excluded=True)
             if h.provision is not None and h.provision.id == provision.id]
    if not found:
        raise ProvisionNotApplicable(f"provision {provision_id} is not in effect on {provided_on}",
                                     field="providedOn")
    handling = found[0]
    if handling.excluded:
        reasons = ", ".join(str(r) for r in handling.exclusion_reasons)
        raise ProvisionNotApplicable(f"on {provided_on} the provision does not handle this customer's data: "
                                     f"{reasons}", field="providedOn")
    outside = [i.code for i in items if i.id not in {h.id for h in handling.data_items}]
    if outside:
        raise ProvisionNotApplicable(f"on {provided_on} the provision does not handle {', '.join(outside)} "
                                     "for this customer", field="dataItemCodes")
    row = ProvisionRecord(
        provision_id=provision.id,
        customer_id=customer.id,
        provided_on=provided_on,
        retain_until=_years_after(provided_on, RETENTION_YEARS),
    )
    session.add(row)
    await session.flush()
    session.add_all([ProvisionRecordDataItem(record_id=row.id, data_item_id=i.id) for i in items])
    await session.flush()
    after = snapshot(row, data_item_codes=[i.code for i in items])
    await record(session, actor=actor, action="provision.record", entity=row, before=None, after=after)
    await session.commit()
    return row


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


async def _get(session, model, id: int, *, field: str):
    row = await session.get(model, id)
    if row is None:
        raise NotFound(f"no {model.__name__} {id}", field=field)
    return row


async def list_recipients(session: AsyncSession) -> list[ThirdPartyRecipient]:
    return list((await session.exec(select(ThirdPartyRecipient).order_by(ThirdPartyRecipient.id))).all())


async def recipients_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, ThirdPartyRecipient]:
    """The recipients found among `ids` (an unknown id is simply absent)."""
    return await rows_by_ids(session, ThirdPartyRecipient, ids)


async def provisions_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Provision]:
    return await rows_by_ids(session, Provision, ids)


async def provisions_of_recipients(
    session: AsyncSession, recipient_ids: Iterable[int]
) -> dict[int, list[Provision]]:
    ids = list(recipient_ids)
    stmt = select(Provision).where(Provision.recipient_id.in_(set(ids))).order_by(Provision.id)
    return group_by(ids, await session.exec(stmt), lambda p: p.recipient_id)


async def provision_links(
    session: AsyncSession, provision_ids: Iterable[int]
) -> tuple[dict[int, list[Purpose]], dict[int, list[DataItem]]]:
    """The purposes (by ordinal) and data items (by id) each provision names."""
    return await purposes_and_items(session, ProvisionPurpose, ProvisionDataItem, "provision_id", provision_ids)


async def records_of_customers(
    session: AsyncSession, customer_ids: Iterable[int]
) -> dict[int, list[ProvisionRecord]]:
    """Each customer's provision records, newest provision first (Art. 33(5) disclosure)."""
    ids = list(customer_ids)
    stmt = (
        select(ProvisionRecord)
        .where(ProvisionRecord.customer_id.in_(set(ids)))
        .order_by(ProvisionRecord.provided_on.desc(), ProvisionRecord.id.desc())
    )
    return group_by(ids, await session.exec(stmt), lambda r: r.customer_id)


async def record_items(session: AsyncSession, record_ids: Iterable[int]) -> dict[int, list[DataItem]]:
    return await linked(session, ProvisionRecordDataItem.record_id, ProvisionRecordDataItem.data_item_id,
                        DataItem, record_ids)


# --- Listing and purging the records (APPI Art. 29) ---------------------------------------------


async def list_records(
    session: AsyncSession,
    *,
    first: int,
    after_id: int | None = None,
    customer_id: int | None = None,
    recipient_id: int | None = None,
    provided_from: date | None = None,
    provided_to: date | None = None,
) -> Page[ProvisionRecord]:
    """The Art. 29 records, in the order they were written (by id), per customer, per
    recipient and per period of provision (`provided_from`..`provided_to`, both included),
    as a regulator or the customer (Art. 33(5)) may ask for them. A customer or recipient
    that does not exist is NOT_FOUND, never an empty answer that reads as "no provision"."""
    if customer_id is not None:
        await get_customer(session, customer_id, field="customerId")
    if recipient_id is not None:
        await _get(session, ThirdPartyRecipient, recipient_id, field="recipientId")
    if provided_from is not None and provided_to is not None and provided_to < provided_from:
        raise InvalidInput("providedTo is before providedFrom", field="providedTo")
    stmt = select(ProvisionRecord)
    if customer_id is not None:
        stmt = stmt.where(ProvisionRecord.customer_id == customer_id)
    if recipient_id is not None:
        stmt = stmt.where(ProvisionRecord.provision_id.in_(
            select(Provision.id).where(Provision.recipient_id == recipient_id)))
    if provided_from is not None:
        stmt = stmt.where(ProvisionRecord.provided_on >= provided_from)
    if provided_to is not None:
        stmt = stmt.where(ProvisionRecord.provided_on <= provided_to)
    return await paginate(session, stmt, first=first, after_id=after_id, id_col=ProvisionRecord.id)


async def purge_expired_records(
    session: AsyncSession, *, actor: str, today: date, as_of: date | None = None
) -> int:
    """Delete the records past retention on `as_of` (default today: `retain_until` before
    it), with their item links, in one transaction; each deleted record leaves an audit
    event holding what it said. Returns how many were deleted: running it again the same
    day deletes none. A day after today is refused: it would cut a retention short."""
    if as_of is not None and as_of > today:
        raise InvalidInput(
            f"{as_of} is after today ({today}): records are kept until their retention ends", field="asOf"
        )
    today = as_of or today
    deleted, after_id = 0, 0
    while True:
        batch = list((await session.exec(
            select(ProvisionRecord)
            .where(ProvisionRecord.retain_until < today, ProvisionRecord.id > after_id)
            .order_by(ProvisionRecord.id).limit(PURGE_BATCH)
        )).all())
        if not batch:
            break
        deleted += await _purge(session, actor, batch, today)
        after_id = batch[-1].id
    await session.commit()
    return deleted


async def _purge(session: AsyncSession, actor: str, batch: list[ProvisionRecord], today: date) -> int:
    """Delete one batch; only the records this run really deleted are audited (a run
    racing another one audits nothing twice)."""
    ids = [r.id for r in batch]
    codes_of = {key: [item.code for item in items] for key, items in (await record_items(session, ids)).items()}
    await session.exec(delete(ProvisionRecordDataItem).where(ProvisionRecordDataItem.record_id.in_(ids)))
    gone = set((await session.exec(
        delete(ProvisionRecord)
        .where(ProvisionRecord.id.in_(ids), ProvisionRecord.retain_until < today)
        .returning(ProvisionRecord.id)
        .execution_options(synchronize_session=False)
    )).scalars().all())
    now = utcnow()
    events = [
        dict(at=now, actor=actor, action="provision_record.purge", entity_type="ProvisionRecord",
             entity_id=r.id, before=_document(snapshot(r, data_item_codes=codes_of[r.id])), after=None)
        for r in batch if r.id in gone
    ]
    if events:
        await session.exec(sa.insert(AuditEvent), params=events)
    for row in batch:
        session.expunge(row)
    return len(gone)


def _document(state: dict) -> str:
    """The audit document, in the form registry.audit.record writes."""
    return json.dumps(state, ensure_ascii=False, sort_keys=True)
