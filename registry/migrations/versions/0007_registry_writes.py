"""The registry kept through the API (issue 13): the notice's facts, Japanese texts, joint use,
opt-out provision and foreign transfers.

- business: `address`, `representative`, `request_procedure` and `security_measures` (APPI
  Art. 32(1)(i), (iii), (iv)); purpose `title_ja`, data item `name_ja`.
- subcontractor and third_party_recipient: `foreign_transfer_basis` (Art. 28), none recorded.
- provision: `ppc_notified_on` (Art. 27(2), opt-out provision).
- joint_use with its purposes and items (Art. 27(5)(iii)), each with a period of valid time.

Nothing stored says what the new columns should hold, except the audit trail of a database
that was at this revision before: its writes recorded every column, so upgrading again takes
each row's values, and the joint uses, from the latest event that names them (as 0006 does
for the scope of requests). A database that never was here starts with none: a party outside
Japan is then excluded from handlings until its basis is recorded, which is the rule.

Downgrading drops the new columns and tables.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

from registry.migrations.restore import NewColumns, latest, restore_columns

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (entity type in the audit trail, {column: type}) of the columns this revision adds
NEW_COLUMNS: NewColumns = {
    "business": ("Business", {
        "address": sa.String(length=500), "representative": sa.String(length=200),
        "request_procedure": sa.String(length=4000), "security_measures": sa.JSON(),
    }),
    "purpose": ("Purpose", {"title_ja": sa.String(length=500)}),
    "data_item": ("DataItem", {"name_ja": sa.String(length=200)}),
    "subcontractor": ("Subcontractor", {"foreign_transfer_basis": sa.String(length=32)}),
    "third_party_recipient": ("ThirdPartyRecipient", {"foreign_transfer_basis": sa.String(length=32)}),
    "provision": ("Provision", {"ppc_notified_on": sa.Date()}),
}


def upgrade() -> None:
    for table, (_, columns) in NEW_COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for name, type_ in columns.items():
                if name == "security_measures":
                    batch_op.add_column(sa.Column(name, type_, nullable=False, server_default="[]"))
                else:
                    batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        "joint_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("users", sa.String(length=1000), nullable=False),
        sa.Column("responsible", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], name=op.f("fk_joint_use_business_id_business")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_use")),
    )
    op.create_index(op.f("ix_joint_use_business_id"), "joint_use", ["business_id"])
    for link, target, column in (("joint_use_purpose", "purpose", "purpose_id"),
                                 ("joint_use_data_item", "data_item", "data_item_id")):
        op.create_table(
            link,
            sa.Column("joint_use_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["joint_use_id"], ["joint_use.id"],
                                    name=op.f(f"fk_{link}_joint_use_id_joint_use"), ondelete="CASCADE"),
            sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{link}_{column}_{target}")),
            sa.PrimaryKeyConstraint("joint_use_id", column, name=op.f(f"pk_{link}")),
        )
    bind = op.get_bind()
    restore_columns(bind, NEW_COLUMNS)
    _restore_joint_uses(bind)


def _restore_joint_uses(bind) -> None:
    """Joint uses recorded by this revision before a downgrade, as their latest event left them."""
    existing = {
        table: {row[0] for row in bind.execute(sa.text(f"SELECT id FROM {table}"))}
        for table in ("business", "purpose", "data_item")
    }
    joint_use = sa.table("joint_use", *(sa.column(n) for n in (
        "id", "effective_from", "effective_until", "business_id", "users", "responsible", "created_at")))
    for entity_id, d in latest(bind, "JointUse", "responsible").items():
        if d.get("business_id") not in existing["business"]:
            continue
        until = d.get("effective_until")
        bind.execute(sa.insert(joint_use).values(
            id=entity_id, business_id=d["business_id"], users=d["users"], responsible=d["responsible"],
            effective_from=date.fromisoformat(d["effective_from"]),
            effective_until=None if until is None else date.fromisoformat(until),
            created_at=sa.func.current_timestamp(),
        ))
        for link, column, key, table in (("joint_use_purpose", "purpose_id", "purpose_ids", "purpose"),
                                         ("joint_use_data_item", "data_item_id", "data_item_ids", "data_item")):
            rows = [{"joint_use_id": entity_id, column: target} for target in d.get(key, ())
                    if target in existing[table]]
            if rows:
                bind.execute(sa.insert(sa.table(link, sa.column("joint_use_id"), sa.column(column))), rows)
    if bind.dialect.name == "postgresql":  # ids were given: the sequence goes on after them
        bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('joint_use', 'id'), "
                             "COALESCE((SELECT MAX(id) FROM joint_use), 0) + 1, false)"))


def downgrade() -> None:
    op.drop_table("joint_use_data_item")
    op.drop_table("joint_use_purpose")
    op.drop_index(op.f("ix_joint_use_business_id"), table_name="joint_use")
    op.drop_table("joint_use")
    for table, (_, columns) in NEW_COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for name in columns:
                batch_op.drop_column(name)
