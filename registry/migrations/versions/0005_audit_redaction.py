"""Erasure reaches the audit trail: the one update the database allows on audit_event is the
redaction a completed DELETION makes (issue 10 finding 8, APPI Art. 35).

The trail stays append-only (revision 0002) with one documented exception: the `before` and
`after` documents of a Customer or DataSubjectRequest event may have their personal fields
(a customer's `display_name` and `email`, a request's `detail` and `note`) replaced by the
marker "[redacted]". Every other column, every other key of the documents, and every event
of any other entity stay as written; a redacted value can never be restored; DELETE (and
TRUNCATE on PostgreSQL) is refused as before, with the same message. The redaction itself is
recorded as an event (`audit.redact`, registry/audit.py), so the trail still shows who
changed what and when. The rule is checked here, in the database, not trusted to the
application: SQLite by a WHEN clause on the update trigger, PostgreSQL in the trigger
function. Downgrading restores revision 0002's triggers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit events are append-only: they are never updated or deleted"
MARKER = "[redacted]"
# Frozen copy of registry.audit.PERSONAL_FIELDS as of this revision: a field added there
# needs a revision here before the database lets it be redacted.
PERSONAL_FIELDS = {"Customer": ("display_name", "email"), "DataSubjectRequest": ("detail", "note")}
COLUMNS = ("id", "at", "actor", "action", "entity_type", "entity_id")
DOCUMENTS = ("before", "after")


def _is_redaction(same, rest, value, marker: str) -> str:
    """The SQL condition "this UPDATE is a redaction", written with the dialect's pieces:
    `same(a, b)` null-safe equality, `rest(doc, fields)` the document without those fields,
    `value(doc, field)` one field's value. Null-safe throughout: a NULL would make SQLite's
    WHEN clause skip the trigger, i.e. let the update through."""
    kept = [same(f"NEW.{c}", f"OLD.{c}") for c in COLUMNS]
    cases = []
    for entity_type, fields in PERSONAL_FIELDS.items():
        checks = [f"OLD.entity_type = '{entity_type}'"]
        for doc in DOCUMENTS:
            new, old = f"NEW.{doc}", f"OLD.{doc}"
            checks.append(same(rest(new, fields), rest(old, fields)))
            checks += [f"({same(value(new, f), value(old, f))} OR {same(value(new, f), marker)})" for f in fields]
        cases.append("(" + " AND ".join(checks) + ")")
    return " AND ".join(kept + ["(" + " OR ".join(cases) + ")"])


SQLITE_REDACTION = _is_redaction(
    same=lambda a, b: f"{a} IS {b}",
    rest=lambda doc, fields: f"json_remove({doc}, " + ", ".join(f"'$.{f}'" for f in fields) + ")",
    value=lambda doc, field: f"json_extract({doc}, '$.{field}')",
    marker=f"'{MARKER}'",
)
POSTGRESQL_REDACTION = _is_redaction(
    same=lambda a, b: f"{a} IS NOT DISTINCT FROM {b}",
    rest=lambda doc, fields: f"({doc}::jsonb - ARRAY[" + ", ".join(f"'{f}'" for f in fields) + "])",
    value=lambda doc, field: f"({doc}::jsonb -> '{field}')",
    marker=f"'\"{MARKER}\"'::jsonb",
)

SQLITE_UPDATE_0002 = f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
SQLITE_UPGRADE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        FOR EACH ROW WHEN NOT ({SQLITE_REDACTION})
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DOWNGRADE = ["DROP TRIGGER IF EXISTS audit_event_no_update", SQLITE_UPDATE_0002]

# One function serves the UPDATE OR DELETE trigger and the TRUNCATE trigger of 0002; only an
# UPDATE reads NEW and OLD, hence the nested IF.
POSTGRESQL_UPGRADE = [
    f"""CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                IF {POSTGRESQL_REDACTION} THEN
                    RETURN NEW;
                END IF;
            END IF;
            RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
        END
        $$""",
]
POSTGRESQL_DOWNGRADE = [
    f"""CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
        END
        $$""",
]


def _run(statements: dict[str, list[str]]) -> None:
    dialect = op.get_context().dialect.name
    if dialect not in statements:
        raise NotImplementedError(f"no append-only triggers written for {dialect}")
    for statement in statements[dialect]:
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
