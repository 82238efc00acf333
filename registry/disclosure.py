"""The answer to a customer's disclosure request (seed §10, APPI Art. 33).

The document states, from the registry alone: the business and the customer's reference;
the personal information held about the customer; who handles it on the given date
(the business itself, subcontractors and third parties, as handling resolution decides:
items, purposes, the contract or provision it rests on, the re-entrustment chain, the
country); the records of every provision of the customer's data to a third party, which
Art. 33(5) adds to the disclosure; and the customer's requests as they stand.

The Markdown form keeps every registry string on one line (a name cannot open a heading
or break a table); the HTML form escapes every registry string.
"""

import html
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from registry import provisions, requests
from registry.customers import get_customer
from registry.enums import ExclusionReason, HandlingRole, LegalBasis
from registry.errors import InvalidInput
from registry.handling import Handling, resolve_handlings
from registry.models import Business, Customer, DataSubjectRequest, ProvisionRecord

FORMATS = ("markdown", "html")
HOME_COUNTRY = "JP"  # a party elsewhere handles the data in a foreign country (APPI Art. 28)

_ROLE = {
    HandlingRole.CONTROLLER: "the business itself",
    HandlingRole.SUBCONTRACTOR: "subcontractor (entrusted with the handling)",
    HandlingRole.THIRD_PARTY: "third party (personal information provided to it)",
}
_LEGAL_BASIS = {
    LegalBasis.CONSENT: "with the customer's consent",
    LegalBasis.LAW: "as required or permitted by law",
    LegalBasis.OPT_OUT: "under the opt-out procedure (APPI Art. 27(2))",
}


# --- The document -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class _Bullets:
    entries: list[str]


@dataclass(frozen=True)
class _Table:
    headers: list[str]
    rows: list[list[str]]


_Block = str | _Heading | _Bullets | _Table


async def render_disclosure(
    session: AsyncSession, customer_id: int, *, as_of: date, fmt: str = "markdown"
) -> str:
    """The disclosure answer for the customer on `as_of`, as Markdown or a complete HTML
    document. Handlings are those of `as_of`; provision records are those provided on or
    before it; requests are listed as they stand."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown disclosure format {fmt!r}: use one of {', '.join(FORMATS)}", field="format")
    customer = await get_customer(session, customer_id, field="customerId")
    business = await session.get(Business, customer.business_id)
    handlings = await resolve_handlings(session, customer.id, as_of=as_of, include_excluded=True)
    records = await _records(session, customer.id, as_of)
    asked = (await requests.requests_of(session, [customer.id]))[customer.id]
    title = f"Disclosure of personal information held by {business.name}"
    blocks = (
        _preamble(business, customer, as_of)
        + _held(customer, handlings[0], as_of)
        + _handlers(handlings, as_of)
        + records
        + _requests(asked)
    )
    return _markdown(title, blocks) if fmt == "markdown" else _html(title, blocks)


# --- Facts from the registry ----------------------------------------------------------------


async def _records(session: AsyncSession, customer_id: int, as_of: date) -> list[_Block]:
    rows = [r for r in (await provisions.records_of_customers(session, [customer_id]))[customer_id]
            if r.provided_on <= as_of]
    items = await provisions.record_items(session, [r.id for r in rows])
    by_id = await provisions.provisions_by_ids(session, {r.provision_id for r in rows})
    recipients = await provisions.recipients_by_ids(session, {p.recipient_id for p in by_id.values()})
    blocks: list[_Block] = [_Heading("3. Provisions to third parties (APPI Art. 29 records, Art. 33(5))")]
    if not rows:
        return blocks + ["No provision of the customer's personal information to a third party is on record."]
    return blocks + [_Table(
        ["Provided on", "Recipient", "Country", "Items provided", "Record kept until"],
        [_record_row(r, recipients[by_id[r.provision_id].recipient_id], items[r.id]) for r in rows],
    )]


def _record_row(record: ProvisionRecord, recipient, items) -> list[str]:
    return [record.provided_on.isoformat(), recipient.name, _country(recipient.country),
            _names(items), record.retain_until.isoformat()]


# --- The sections -----------------------------------------------------------------------------


def _preamble(business: Business, customer: Customer, as_of: date) -> list[_Block]:
    return [
        f"{business.operator_name}, operator of {business.name}, discloses below the personal information "
        "it holds about the customer, who handles it and to whom it was provided (APPI Art. 33).",
        _Bullets([
            f"Business: {business.name} ({business.code}), operated by {business.operator_name}",
            f"Customer reference: {customer.external_ref}",
            f"As of: {as_of.isoformat()}",
        ]),
    ]


def _held(customer: Customer, controller: Handling, as_of: date) -> list[_Block]:
    if customer.cancelled_on is None:
        status = "active"
    elif customer.cancelled_on <= as_of:
        status = f"cancelled on {customer.cancelled_on.isoformat()}"
    else:
        status = f"active; cancels on {customer.cancelled_on.isoformat()}"
    items = _names(controller.data_items) if controller.data_items else "none"
    return [_Heading("1. Personal information held"), _Bullets([
        f"Name: {customer.display_name or 'not held'}",
        f"Email address: {customer.email or 'not held'}",
        f"Registered on: {customer.registered_on.isoformat()}",
        f"Customer status: {status}",
        f"Items held on {as_of.isoformat()}: {items}",
    ])]


def _handlers(handlings: list[Handling], as_of: date) -> list[_Block]:
    blocks: list[_Block] = [_Heading("2. Who handles it"),
                            f"On {as_of.isoformat()}, the customer's personal information is handled by:"]
    handling = [h for h in handlings if not h.excluded]
    if not handling:
        reason = " (use stopped at the customer's request)" if ExclusionReason.USE_STOPPED in \
            handlings[0].exclusion_reasons else ""
        return blocks[:1] + [f"On {as_of.isoformat()}, nobody handles the customer's personal information{reason}."]
    for h in handling:
        blocks += [_Heading(h.party.name, level=3), _Bullets(_handling_facts(h))]
    return blocks


def _handling_facts(h: Handling) -> list[str]:
    facts = [
        f"Role: {_ROLE[h.role]}",
        f"Country: {_country(h.party.country)}",
        f"Items: {_names(h.data_items)}",
        "Purposes of use: " + "; ".join(f"{p.ordinal}. {p.title}" for p in h.purposes),
    ]
    if h.contract is not None:
        facts.append(f"Footing: entrustment under contract {h.contract.reference}")
    if h.provision is not None:
        facts.append(f"Footing: provision {_LEGAL_BASIS[h.provision.legal_basis]}")
    if h.chain:
        facts.append("Re-entrusted by (nearest first): " + ", ".join(s.name for s in h.chain))
    return facts


def _requests(asked: list[DataSubjectRequest]) -> list[_Block]:
    blocks: list[_Block] = [_Heading("4. The customer's requests")]
    if not asked:
        return blocks + ["The customer has made no request."]
    return blocks + [_Table(
        ["Request", "Status", "Due on", "Resolved on", "Note"],
        [[_words(r.kind), _words(r.status), r.due_on.isoformat(),
          r.resolved_on.isoformat() if r.resolved_on else "-", r.note or "-"] for r in asked],
    )]


def _names(items) -> str:
    return ", ".join(i.name for i in items) or "none"


def _country(code: str) -> str:
    return code if code == HOME_COUNTRY else f"{code} (a foreign country, APPI Art. 28)"


def _words(value) -> str:
    return str(value).replace("_", " ").lower().capitalize()


# --- Rendering ----------------------------------------------------------------------------------


def _line(text: str) -> str:
    """A registry string on one line, so it cannot open a Markdown block."""
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _line(text).replace("|", "\\|")


def _markdown_block(block: _Block) -> list[str]:
    if isinstance(block, _Heading):
        return ["#" * block.level + " " + _line(block.text)]
    if isinstance(block, _Bullets):
        return [f"- {_line(entry)}" for entry in block.entries]
    if isinstance(block, _Table):
        return ["| " + " | ".join(block.headers) + " |", "|" + "---|" * len(block.headers)] + [
            "| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows
        ]
    return [_line(block)]


def _markdown(title: str, blocks: list[_Block]) -> str:
    lines = [f"# {_line(title)}"]
    for block in blocks:
        lines += [""] + _markdown_block(block)
    return "\n".join(lines) + "\n"


def _html_block(block: _Block) -> str:
    e = html.escape
    if isinstance(block, _Heading):
        return f"<h{block.level}>{e(block.text)}</h{block.level}>"
    if isinstance(block, _Bullets):
        return "<ul>" + "".join(f"<li>{e(entry)}</li>" for entry in block.entries) + "</ul>"
    if isinstance(block, _Table):
        head = "".join(f"<th>{e(h)}</th>" for h in block.headers)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"<p>{e(block)}</p>"


def _html(title: str, blocks: list[_Block]) -> str:
    parts = ["<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{html.escape(title)}</title>", "</head>", "<body>", f"<h1>{html.escape(title)}</h1>"]
    return "\n".join(parts + [_html_block(b) for b in blocks] + ["</body>", "</html>"]) + "\n"
