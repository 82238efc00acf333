"""The registry as code: `pi-gateway export` writes it as a YAML file, `pi-gateway apply` makes
the registry hold what an edited file says (issue 14).

The file (format version 1, schema `registry/manifest.schema.json`, draft 2020-12)::

    version: 1
    businesses:            # by code; what each business owns
      CODE:
        name, nameJa, operatorName(Ja), country, activities(Ja), contact(Ja), address(Ja),
        representative(Ja), requestProcedure(Ja), securityMeasures(Ja)
        purposes:          # by code: ordinal, title(Ja), description, usableAfterCancellation,
                           #          dataUse, effectiveFrom, retiredOn
        dataItems:         # by code: name(Ja), category, sensitivity, voluntary, propertyDamageRisk
        contracts:         # by reference: subcontractor (its name), signedOn, effectiveFrom, expiresOn,
                           #   clauses, dataReturnedOn, statusHistory [{status, effectiveOn, reason}],
                           #   entrustments [{purposes, dataItems, description, effectiveFrom, effectiveUntil}]
        provisions:        # [{recipient (its name), legalBasis, purposes, dataItems, statedPurpose(Ja),
                           #   method(Ja), ppcNotifiedOn, effectiveFrom, effectiveUntil}]
        jointUses:         # [{users(Ja), responsible(Ja), purposes, dataItems, effectiveFrom, effectiveUntil}]
    subcontractors:        # by name: corporateNumber, parent (a name), certifications,
                           #   assessments [{result, assessedOn, nextDueOn, note}],
                           #   jurisdictions [{country, foreignTransferBasis, effectiveFrom, effectiveUntil}]
    recipients:            # by name: nameJa, kind, jurisdictions

Choices, and why:

- **Keys.** Everything is named as a person names it, never by a database id: businesses,
  purposes and data items by code, contracts by reference. Subcontractors and recipients have
  no code in the registry, so their name is their key: a name two of them share in the registry
  cannot be exported (rename one first), and YAML keys are unique in a file (a repeated key is
  refused). A renamed entry is a new party: rename through the API. Facts with no key of their
  own (entrustments, provisions, joint uses, assessments, status changes) are lists in a stable
  order and are matched by everything they say except their end.
- **Stable bytes.** Keys sorted, lists sorted by date then content, codes within a fact sorted,
  dates bare ISO, every key written (null when empty), no timestamp of the export, of a write
  or its actor, no versions: exporting the same registry twice gives the same bytes, and a
  diff of two exports shows only what changed. No customer, no personal data, no token.
- **Absent means untouched at the top level.** A business, subcontractor or recipient the file
  leaves out is left as it is (`export --business CODE` gives a file that applies). Inside a
  business the file says everything: a purpose, data item, contract, entrustment, provision or
  joint use it leaves out would be a deletion, which no write makes, so it is refused with what
  to do instead (retire the purpose, terminate the contract, end the entrustment...). So are the
  other changes no write makes: a new code, a contract's terms, a past transition, a past
  jurisdiction period, an end already recorded.
- **The plan.** The file is diffed against `export_registry` of the registry into one line per
  change (`+` create, `~` change, `-` end) and `Plan: N to create, M to change, K to end.`;
  applying the same file twice plans nothing. The changes are made in a fixed order: what others
  name first (businesses, parties, items, purposes, contracts, entrustments), then the dated
  facts by their day (assessments, transitions, ends), so a rule that reads the registry (an
  activation reads the latest assessment and the parent's contract) sees what held that day.
  One exception: a subcontractor's first assessment comes before every dated change, since an
  activation needed one whatever its date (the demo's are dated after its activations).
- **One transaction.** Every change goes through the registry's own write functions (each
  rule, each audit event), in `Database.one_transaction`: the first refusal rolls all of it back
  (no row, no audit event, no version raised) and is reported as `FILE:LINE: message (CODE)`.
- **Valid time.** In a business the registry already has, every write uses the registry's
  today, so the rules that keep the past as it was hold (a new purpose begins today or later, an
  end is never before yesterday; a transition carries its own `effectiveOn`, never in the
  future). A business the registry does not have yet is recreated with its history (an export
  applied to an empty registry): each dated write is made as of the day of its fact (a purpose
  on its `effectiveFrom`, a transition on its `effectiveOn`, an end the day after its last day),
  never later than today, so every rule is still checked, as it was checked that day. Export,
  apply to an empty registry, export again: the same bytes.
"""

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from registry.db import Database
from registry.manifest.export import FORMAT_VERSION, dump, export_registry
from registry.manifest.files import MAX_BYTES, Document, FileRefused, parse, schema, validate
from registry.manifest.plan import ApplyRefused, Plan, apply_plan, normalized, plan_changes


async def export_text(session: AsyncSession, *, business_code: str | None = None) -> str:
    """The registry (or one business's part of it) as the YAML file `pi-gateway export` writes."""
    return dump(await export_registry(session, business_code=business_code))


def read(data: bytes) -> tuple[Document, dict[str, Any]]:
    """A file's document and what it says in the export's shape; FileRefused, with lines, when it
    is too large, not YAML, hostile or breaks the schema."""
    document = parse(data)
    validate(document)
    return document, normalized(document)


class _NothingToDo(Exception):
    """Raised inside the transaction of an apply that plans nothing, so it commits nothing."""


async def apply_file(database: Database, data: bytes, *, actor: str, today: date, dry_run: bool = False) -> Plan:
    """Plan the file against the registry and, unless `dry_run`, apply the plan in one transaction.
    FileRefused (the file) or ApplyRefused (a rule, during the writes): nothing written."""
    document, wanted = read(data)
    if dry_run:
        async with database.session() as session:
            return await plan_changes(session, document, wanted, today=today)
    try:
        async with database.one_transaction() as session:
            plan = await plan_changes(session, document, wanted, today=today)
            if not plan.changes:
                raise _NothingToDo
            await apply_plan(session, plan, document, actor=actor, today=today)
    except _NothingToDo:
        pass
    return plan


__all__ = ["FORMAT_VERSION", "MAX_BYTES", "ApplyRefused", "FileRefused", "Plan", "apply_file", "export_registry",
           "export_text", "read", "schema"]
