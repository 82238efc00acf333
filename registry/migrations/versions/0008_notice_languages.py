"""The notice in Japanese and its published versions (issue 13).

- The registry's own texts that the notice states get a Japanese version: the business's name,
  operator, activities, contact, address, representative, request procedure and security
  measures; a recipient's name; a provision's stated purpose; a joint use's users and
  responsible person. NULL (or an empty list) means none was given: the English one stands in.
- provision: `method` (and `method_ja`), how the data is provided, which the notice states for an
  opt-out provision (Art. 27(2)(v)).
- notice_version: a published notice, the text rendered on the day per language, with a
  content hash.

As 0007 does, upgrading again after a downgrade takes the Japanese texts back from the audit
trail. Published versions are not in the audit trail (their events hold the hash only):
downgrading drops them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.migrations.restore import NewColumns, restore_columns

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS: NewColumns = {
    "business": ("Business", {
        "name_ja": sa.String(length=200), "operator_name_ja": sa.String(length=200), "activities_ja": sa.JSON(),
        "contact_ja": sa.String(length=500), "address_ja": sa.String(length=500),
        "representative_ja": sa.String(length=200), "request_procedure_ja": sa.String(length=4000),
        "security_measures_ja": sa.JSON(),
    }),
    "third_party_recipient": ("ThirdPartyRecipient", {"name_ja": sa.String(length=200)}),
    "provision": ("Provision", {
        "stated_purpose_ja": sa.String(length=500),
        "method": sa.String(length=500), "method_ja": sa.String(length=500),  # Art. 27(2)(v), for OPT_OUT
    }),
    "joint_use": ("JointUse", {"users_ja": sa.String(length=1000), "responsible_ja": sa.String(length=1000)}),
}


def upgrade() -> None:
    for table, (_, columns) in NEW_COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for name, type_ in columns.items():
                if isinstance(type_, sa.JSON):
                    batch_op.add_column(sa.Column(name, type_, nullable=False, server_default="[]"))
                else:
                    batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        "notice_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], name=op.f("fk_notice_version_business_id_business")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_version")),
        sa.UniqueConstraint("business_id", "version", "lang", name=op.f("uq_notice_version_business_id_version_lang")),
    )
    restore_columns(op.get_bind(), NEW_COLUMNS)


def downgrade() -> None:
    op.drop_table("notice_version")
    for table, (_, columns) in NEW_COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for name in columns:
                batch_op.drop_column(name)
