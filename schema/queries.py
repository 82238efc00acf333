"""The Query root: each field unpacks its arguments, calls one registry read, maps the result."""

from datetime import date

import strawberry
from strawberry.types import Info

from registry import breach, businesses, customers, findings, notice, notice_versions, provisions, subcontractors
from registry.access import Capability
from registry.errors import NotFound, RegistryError
from registry.lookup import rows_by_ids
from schema import ids
from schema.enums import BreachCause, Language, NoticeFormat
from schema.errors import bad_argument
from schema.inputs import CustomerFilter, SubcontractorFilter
from schema.notices import NoticeVersion
from schema.pagination import audit_page, page_args
from schema.records import ProvisionRecordConnection, ProvisionRecordFilter
from schema.permissions import deny
from schema.types import (
    MODELS_BY_NAME,
    AuditEventConnection,
    BreachImpact,
    Business,
    Customer,
    CustomerConnection,
    Finding,
    Node,
    Subcontractor,
    SubcontractorConnection,
    ThirdPartyRecipient,
    Viewer,
    node_of,
)

READ = deny(Capability.READ_REGISTRY)


async def _row(info: Info, global_id: str):
    """The registry row a global ID names, or None (also for IDs that are not ours)."""
    decoded = ids.decode(global_id)
    if decoded is None:
        return None
    type_name, key = decoded
    if type_name == "AuditEvent" and not info.context.caller.can(Capability.READ_AUDIT):
        return None
    found = await info.context.run(rows_by_ids, MODELS_BY_NAME[type_name], [key])
    return found.get(key)


def _refuse(error: RegistryError) -> Exception:
    return bad_argument(error.message, error.field or "")


@strawberry.type(description="Reads of the registry: who handles which personal data of which customer, and why.")
class Query:
    @strawberry.field(description="Any object by its global ID; null when nothing (visible to you) has it.",
                      extensions=READ)
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        row = await _row(info, id)
        return None if row is None else node_of(row, info)

    @strawberry.field(description="Who is calling.")
    def viewer(self, info: Info) -> Viewer:
        caller = info.context.caller
        return Viewer(name=caller.name, role=caller.role)

    @strawberry.field(extensions=READ)
    async def businesses(self, info: Info) -> list[Business]:
        return [Business.from_row(r) for r in await info.context.run(businesses.list_businesses)]

    @strawberry.field(extensions=READ)
    async def business(self, info: Info, code: str) -> Business | None:
        row = await info.context.run(businesses.find_business, code)
        return Business.from_row(row) if row else None

    @strawberry.field(description="Subcontractors by id, filtered; `first` at most the configured page size.",
                      extensions=READ)
    async def subcontractors(
        self, info: Info, first: int | None = 50, after: str | None = None, filter: SubcontractorFilter | None = None
    ) -> SubcontractorConnection:
        size, key = page_args(info, first, after)
        criteria = subcontractors.SubcontractorFilter(**vars(filter)) if filter else None
        page = await info.context.run(
            subcontractors.list_subcontractors, today=info.context.clock.today(), first=size, after_id=key,
            filter=criteria,
        )
        return SubcontractorConnection.from_page(page)

    @strawberry.field(extensions=READ)
    async def subcontractor(self, info: Info, id: strawberry.ID) -> Subcontractor | None:
        key = ids.decode_as(id, "Subcontractor")
        row = key and await info.context.loaders.subcontractor.load(key)
        return Subcontractor.from_row(row) if row else None

    @strawberry.field(extensions=READ)
    async def third_party_recipients(self, info: Info) -> list[ThirdPartyRecipient]:
        return [ThirdPartyRecipient.from_row(r) for r in await info.context.run(provisions.list_recipients)]

    @strawberry.field(extensions=READ)
    async def customers(
        self, info: Info, first: int | None = 50, after: str | None = None, filter: CustomerFilter | None = None
    ) -> CustomerConnection:
        size, key = page_args(info, first, after)
        criteria = filter or CustomerFilter()
        page = await info.context.run(
            customers.list_customers, first=size, after_id=key, business_code=criteria.business_code,
            status=criteria.status, today=info.context.clock.today(),
        )
        return CustomerConnection.from_page(page)

    @strawberry.field(extensions=READ)
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        key = ids.decode_as(id, "Customer")
        row = key and await info.context.loaders.customer.load(key)
        return Customer.from_row(row) if row else None

    @strawberry.field(extensions=READ)
    async def customer_by_ref(self, info: Info, business_code: str, external_ref: str) -> Customer | None:
        row = await info.context.run(customers.find_customer_by_ref, business_code, external_ref)
        return Customer.from_row(row) if row else None

    @strawberry.field(description="APPI Art. 29 records of provisions to third parties, in the order they were "
                                  "written (by id), per customer, recipient and period.", extensions=READ)
    async def provision_records(
        self, info: Info, first: int | None = 50, after: str | None = None,
        filter: ProvisionRecordFilter | None = None,
    ) -> ProvisionRecordConnection:
        size, key = page_args(info, first, after)
        criteria = (filter or ProvisionRecordFilter()).criteria()
        try:
            page = await info.context.run(provisions.list_records, first=size, after_id=key, **criteria)
        except RegistryError as error:
            raise _refuse(error) from error
        return ProvisionRecordConnection.from_page(page)

    @strawberry.field(description="What needs attention on `asOf` (default today), most severe first.",
                      extensions=READ)
    async def compliance_findings(
        self, info: Info, business_code: str | None = None, as_of: date | None = None
    ) -> list[Finding]:
        day = as_of or info.context.clock.today()
        try:
            results = await info.context.run(findings.compliance_findings, today=day, business_code=business_code)
        except NotFound as error:
            raise _refuse(error) from error
        return [
            Finding(code=f.code, severity=f.severity, message=f.message,
                    subject=node_of(f.subject, info) if f.subject is not None else None)
            for f in results
        ]

    @strawberry.field(description="Whose data a breach at this party would touch today, and whether and by when it "
                                  "must be reported (APPI Art. 26, PPC Rules Art. 7 and 8).", extensions=READ)
    async def breach_impact(
        self, info: Info, party_id: strawberry.ID, data_item_codes: list[str] | None = None,
        cause: BreachCause | None = BreachCause.UNKNOWN, discovered_on: date | None = None,
    ) -> BreachImpact:
        row = await _row(info, party_id)
        if row is None or type(row).__name__ not in ("Business", "Subcontractor", "ThirdPartyRecipient"):
            raise bad_argument("partyId is not the ID of a business, subcontractor or third-party recipient", "partyId")
        try:
            impact = await info.context.run(
                breach.breach_impact, party=row, today=info.context.clock.today(), data_item_codes=data_item_codes,
                cause=cause or BreachCause.UNKNOWN, discovered_on=discovered_on,
                contexts=info.context.business_contexts,
            )
        except RegistryError as error:
            raise _refuse(error) from error
        return BreachImpact.from_impact(impact)

    @strawberry.field(description="The privacy notice rendered from the registry alone, in the seed's section order, "
                                  "in English or Japanese (as it reads now; published versions: noticeVersions).",
                      extensions=READ)
    async def privacy_notice(
        self, info: Info, business_code: str, format: NoticeFormat | None = NoticeFormat.MARKDOWN,
        lang: Language | None = Language.EN,
    ) -> str:
        fmt = (format or NoticeFormat.MARKDOWN).value.lower()
        language = (lang or Language.EN).value.lower()
        try:
            return await info.context.run(notice.render_notice, business_code, fmt=fmt, lang=language)
        except NotFound as error:
            raise _refuse(error) from error

    @strawberry.field(description="The business's published notice versions, newest first: what customers were "
                                  "told, and from when. With asOf, only the version in force that day (the latest "
                                  "published on or before it), or none.", extensions=READ)
    async def notice_versions(self, info: Info, business_code: str, as_of: date | None = None) -> list[NoticeVersion]:
        try:
            if as_of is None:
                published = await info.context.run(notice_versions.versions, business_code)
            else:
                published = await info.context.run(notice_versions.version_in_force, business_code, as_of)
        except NotFound as error:
            raise _refuse(error) from error
        return [NoticeVersion.from_publication(business_code, p) for p in published]

    @strawberry.field(description="The audit trail, newest first.", extensions=deny(Capability.READ_AUDIT))
    async def audit_events(self, info: Info, first: int | None = 50, after: str | None = None) -> AuditEventConnection:
        return AuditEventConnection.from_page(await audit_page(info, first=first, after=after), info)
