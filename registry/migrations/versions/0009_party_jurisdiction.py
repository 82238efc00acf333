"""A dated history of each party's jurisdiction: party_jurisdiction holds, for a period, the
country of a subcontractor or third-party recipient and its APPI Art. 28 basis, which decide
whether it may handle the data (registry/jurisdictions.py). The parties' own `country` and
`foreign_transfer_basis` stay, as the values that hold today and on.

Existing data: every subcontractor and recipient gets one open period with its current values,
from 1900-01-01. Until now every answer, for any day, read those values, so a period covering
every day keeps every past answer as it was; the earliest date stored would not do, since a
contract or its transitions may later be dated before it (the registry accepts past dates
there), and on such a day the party's values must still be known. A party that has its
history in the audit trail (a database that was at this revision, downgraded and upgraded
again: each write recorded the periods it wrote) gets that history back, with the answers it
gave for past days, as long as its latest period still has the party's current values;
otherwise (changed while downgraded) it gets the single period, as a database that never was
here does.

Downgrading drops the table: the parties keep their current values, and every answer about a
past day reads those again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

from registry.migrations.restore import document

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEGINNING = date(1900, 1, 1)  # as registry/jurisdictions.py: before any day the registry is asked about
PARTIES = (("subcontractor", "Subcontractor", "subcontractor_id"),
           ("third_party_recipient", "ThirdPartyRecipient", "recipient_id"))
COLUMNS = ("id", "subcontractor_id", "recipient_id", "country", "foreign_transfer_basis",
           "effective_from", "effective_until")


def upgrade() -> None:
    op.create_table(
        "party_jurisdiction",
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subcontractor_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("foreign_transfer_basis", sa.String(length=32), nullable=True),
        sa.CheckConstraint("(subcontractor_id IS NULL) <> (recipient_id IS NULL)",
                           name=op.f("ck_party_jurisdiction_one_party")),
        sa.ForeignKeyConstraint(["subcontractor_id"], ["subcontractor.id"],
                                name=op.f("fk_party_jurisdiction_subcontractor_id_subcontractor"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recipient_id"], ["third_party_recipient.id"],
                                name=op.f("fk_party_jurisdiction_recipient_id_third_party_recipient"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_jurisdiction")),
    )
    op.create_index("ix_party_jurisdiction_subcontractor", "party_jurisdiction", ["subcontractor_id", "effective_from"])
    op.create_index("ix_party_jurisdiction_recipient", "party_jurisdiction", ["recipient_id", "effective_from"])
    _fill(op.get_bind())


def _fill(bind) -> None:
    table = sa.table("party_jurisdiction", *(sa.column(name) for name in COLUMNS))
    restored, fresh = [], []
    for party_table, entity_type, key in PARTIES:
        recorded = _recorded(bind, entity_type, key)
        for party_id, country, basis in bind.execute(sa.text(
                f"SELECT id, country, foreign_transfer_basis FROM {party_table} ORDER BY id")):
            periods = recorded.get(party_id, [])
            still = [(p["country"], p["foreign_transfer_basis"]) for p in periods if p["effective_until"] is None]
            if still == [(country, basis)]:
                restored += periods
            else:
                fresh.append({"subcontractor_id": None, "recipient_id": None, key: party_id, "country": country,
                              "foreign_transfer_basis": basis, "effective_from": BEGINNING, "effective_until": None})
    if restored:
        bind.execute(sa.insert(table), restored)
        if bind.dialect.name == "postgresql":  # ids were given: the sequence goes on after them
            bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('party_jurisdiction', 'id'), "
                                 "COALESCE((SELECT MAX(id) FROM party_jurisdiction), 0) + 1, false)"))
    if fresh:
        bind.execute(sa.insert(table), fresh)


def _recorded(bind, entity_type: str, key: str) -> dict[int, list[dict]]:
    """Per party, its periods as the latest audit event that wrote each left it."""
    periods: dict[int, dict] = {}
    for (after,) in bind.execute(sa.text(
            "SELECT after FROM audit_event WHERE entity_type = :t AND after IS NOT NULL ORDER BY id"),
            {"t": entity_type}):
        for period in document(after).get("jurisdictions", ()):
            periods[period["id"]] = period
    found: dict[int, list[dict]] = {}
    for period in periods.values():
        until = period.get("effective_until")
        found.setdefault(period[key], []).append({
            **{name: period.get(name) for name in COLUMNS},
            "effective_from": date.fromisoformat(period["effective_from"]),
            "effective_until": None if until is None else date.fromisoformat(until),
        })
    return found


def downgrade() -> None:
    op.drop_index("ix_party_jurisdiction_recipient", table_name="party_jurisdiction")
    op.drop_index("ix_party_jurisdiction_subcontractor", table_name="party_jurisdiction")
    op.drop_table("party_jurisdiction")
