"""What migrations that add columns share: the values a database held at a revision before a
downgrade dropped them, taken back from the audit trail, whose events record every column a
write touched (append-only, so it outlives the downgrade)."""

import json
from datetime import date

import sqlalchemy as sa

# table -> (entity type in the audit trail, {column: type}) of the columns a revision adds
NewColumns = dict[str, tuple[str, dict[str, sa.types.TypeEngine]]]


def document(value) -> dict:
    """An audit event's `after` (JSON text on SQLite, decoded on PostgreSQL)."""
    return (json.loads(value) if isinstance(value, str) else value) or {}


def latest(bind, entity_type: str, key: str) -> dict[int, dict]:
    """Per entity, the `after` of its latest event whose document holds `key`."""
    found: dict[int, dict] = {}
    for entity_id, after in bind.execute(sa.text(
            "SELECT entity_id, after FROM audit_event WHERE entity_type = :t AND after IS NOT NULL ORDER BY id"),
            {"t": entity_type}):
        doc = document(after)
        if key in doc:
            found[entity_id] = doc
    return found


def restore_columns(bind, new_columns: NewColumns) -> None:
    """Each new column of each row set from the latest audit event that names it."""
    for table, (entity_type, columns) in new_columns.items():
        target = sa.table(table, sa.column("id", sa.Integer()), *(sa.column(n, t) for n, t in columns.items()))
        for name, type_ in columns.items():
            for entity_id, doc in latest(bind, entity_type, name).items():
                value = doc[name]
                if value is None or value == []:
                    continue
                if isinstance(type_, sa.Date):
                    value = date.fromisoformat(value)
                bind.execute(sa.update(target).where(target.c.id == entity_id).values({name: value}))
