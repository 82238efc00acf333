"""Valid time (issue 12, DESIGN.md "Time"): every fact that feeds handling resolution gets a
period, and the periods of an existing database are derived from what it stores.

- customer: `registered_on` (the day the row was made, or earlier when its cancellation,
  requests or provision records say it existed before); the stored `status` goes (it is read
  from `cancelled_on` for a day; a CANCELLED customer without a date is dated by its last
  update).
- request_target: what each request named, from its `request.submit` event in the audit
  trail (a database that was at this revision, downgraded and upgraded again, keeps its
  scoped requests; a request from before this revision named nothing, so it covers all).
- customer_data_item: one row per period held (an `id`, `effective_from`, `effective_until`);
  each held item from the customer's registration, closed the day before a completed
  DELETION that names it (or names none) took effect.
- contract_status_change: the dated history of every contract, from the audit trail's
  `contract.transition` events (effective on the day each names, else the day it was made); a contract whose stored
  status the trail does not explain (seeded, bulk-loaded) gets that status from the earlier
  of its `effective_from` and the day it was made.
- entrustment, purpose and provision periods: from the contract's `effective_from` for an
  entrustment, from the business's earliest date (its creation, its contracts) for purposes
  and provisions; an inactive provision ended the day before this upgrade. Entrustments
  removed before this revision were deleted rows and stay gone.
- `contract.data_returned_on` (from the trail's `contract.data_return` events, else none),
  `data_item.property_damage_risk` (as the item's `dataitem.add` event recorded it, else true
  for FINANCIAL items, the rule before this revision: an officer reviews them).

Downgrading keeps what holds today in the old shape: the items held today, a provision not
in effect today inactive, an entrustment ended before today deleted (as removal did), a
customer CANCELLED when cancelled on or before today.

The answers for today are unchanged (tests/registry/test_migration_0006.py checks the demo's).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_DAY = timedelta(days=1)
CUSTOMERS_PER_READ = 20_000  # customers whose held items are read and written at a time
PERIOD_TABLES = ("purpose", "entrustment", "provision")  # the tables that gain a period of valid time


def _day(value) -> date | None:
    """A stored timestamp (a datetime, or SQLite's text) as its UTC calendar day."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.date()
    return value


def _date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _document(value) -> dict:
    """An audit event's `before` or `after` (JSON text on SQLite, decoded on PostgreSQL)."""
    return (json.loads(value) if isinstance(value, str) else value) or {}


def _events(bind, entity_type: str, action: str):
    """(entity_id, after document) of the trail's events of one kind, oldest first."""
    for entity_id, after in bind.execute(sa.text(
            "SELECT entity_id, after FROM audit_event WHERE entity_type = :t AND action = :a ORDER BY id"),
            {"t": entity_type, "a": action}):
        yield entity_id, _document(after)


def upgrade() -> None:
    bind = op.get_bind()
    today = datetime.now(timezone.utc).date()

    # --- new columns, nullable until filled ---------------------------------------------
    with op.batch_alter_table("customer") as batch_op:
        batch_op.add_column(sa.Column("registered_on", sa.Date(), nullable=True))
    for table in PERIOD_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("effective_from", sa.Date(), nullable=True))
            batch_op.add_column(sa.Column("effective_until", sa.Date(), nullable=True))
    with op.batch_alter_table("contract") as batch_op:
        batch_op.add_column(sa.Column("data_returned_on", sa.Date(), nullable=True))
    with op.batch_alter_table("data_item") as batch_op:
        batch_op.add_column(sa.Column("property_damage_risk", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    op.create_table(
        "contract_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"],
                                name=op.f("fk_contract_status_change_contract_id_contract"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_status_change")),
    )
    op.create_index("ix_contract_status_change_contract", "contract_status_change",
                    ["contract_id", "effective_on", "id"])
    op.create_table(
        "request_target",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["data_subject_request.id"],
                                name=op.f("fk_request_target_request_id_data_subject_request"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id", "scope", "target_id", name=op.f("pk_request_target")),
    )
    op.create_table(
        "customer_data_item_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("data_item_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"],
                                name="fk_customer_data_item_customer_id_customer", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["data_item_id"], ["data_item.id"],
                                name="fk_customer_data_item_data_item_id_data_item"),
        sa.PrimaryKeyConstraint("id", name="pk_customer_data_item_period"),
    )

    # --- the periods, derived ------------------------------------------------------------
    customers = sa.table("customer", sa.column("id"), sa.column("business_id"), sa.column("status"),
                         sa.column("cancelled_on"), sa.column("created_at"), sa.column("updated_at"),
                         sa.column("registered_on"))
    earliest: dict[int, date] = {}
    for cid, cancelled_on, created, updated, status in bind.execute(sa.select(
            customers.c.id, customers.c.cancelled_on, customers.c.created_at, customers.c.updated_at,
            customers.c.status)):
        cancelled_on = _date(cancelled_on)
        if status == "CANCELLED" and cancelled_on is None:
            cancelled_on = _day(updated)
            bind.execute(customers.update().where(customers.c.id == cid).values(cancelled_on=cancelled_on))
        earliest[cid] = min(d for d in (_day(created), cancelled_on) if d is not None)
    for cid, first in bind.execute(sa.text(
            "SELECT customer_id, MIN(received_at) FROM data_subject_request GROUP BY customer_id")):
        if cid in earliest and _day(first) is not None:
            earliest[cid] = min(earliest[cid], _day(first))
    for cid, first in bind.execute(sa.text(
            "SELECT customer_id, MIN(provided_on) FROM provision_record GROUP BY customer_id")):
        if cid in earliest and first is not None:
            earliest[cid] = min(earliest[cid], _date(first))
    _update_each(bind, "customer", "registered_on", earliest)

    targets = _derive_request_targets(bind)
    deleted_from: dict[tuple[int, int | None], date] = {}  # (customer, item or None: every item)
    for rid, cid, resolved in bind.execute(sa.text(
            "SELECT id, customer_id, resolved_on FROM data_subject_request "
            "WHERE kind = 'DELETION' AND status = 'COMPLETED' AND resolved_on IS NOT NULL")):
        for item in targets.get(rid, {}).get("DATA_ITEM") or [None]:
            key = (cid, item)
            deleted_from[key] = min(deleted_from.get(key, _date(resolved)), _date(resolved))
    periods = sa.table("customer_data_item_period", sa.column("customer_id"), sa.column("data_item_id"),
                       sa.column("effective_from"), sa.column("effective_until"))
    customer_ids = sorted(earliest)
    for start in range(0, len(customer_ids), CUSTOMERS_PER_READ):  # bounded memory at a million customers
        low, high = customer_ids[start], customer_ids[min(start + CUSTOMERS_PER_READ, len(customer_ids)) - 1]
        rows = []
        for cid, item in bind.execute(sa.text(
                "SELECT customer_id, data_item_id FROM customer_data_item WHERE customer_id BETWEEN :low AND :high"),
                {"low": low, "high": high}):
            ends = [deleted_from[key] for key in ((cid, None), (cid, item)) if key in deleted_from]
            rows.append({"customer_id": cid, "data_item_id": item, "effective_from": earliest[cid],
                         "effective_until": min(ends) - ONE_DAY if ends else None})
        if rows:
            bind.execute(periods.insert(), rows)
    # a period closed before it began (deleted on the day of registration) held nothing
    bind.execute(sa.text("DELETE FROM customer_data_item_period WHERE effective_until < effective_from"))
    op.drop_table("customer_data_item")
    op.rename_table("customer_data_item_period", "customer_data_item")
    if bind.dialect.name == "postgresql":  # the name the models' convention gives (SQLite keeps none apart)
        op.execute("ALTER TABLE customer_data_item RENAME CONSTRAINT pk_customer_data_item_period "
                   "TO pk_customer_data_item")
    op.create_index("ix_customer_data_item_customer", "customer_data_item",
                    ["customer_id", "data_item_id", "effective_from"])
    op.create_index("ix_customer_data_item_item", "customer_data_item", ["data_item_id", "customer_id"])

    business_start: dict[int, date] = {}
    for bid, created in bind.execute(sa.text("SELECT id, created_at FROM business")):
        business_start[bid] = _day(created)
    for bid, first in bind.execute(sa.text(
            "SELECT business_id, MIN(effective_from) FROM contract GROUP BY business_id")):
        if first is not None:
            business_start[bid] = min(business_start[bid], _date(first))
    for bid, start in business_start.items():
        bind.execute(sa.text("UPDATE purpose SET effective_from = :d WHERE business_id = :b"), {"d": start, "b": bid})
        bind.execute(sa.text("UPDATE provision SET effective_from = :d WHERE business_id = :b"),
                     {"d": start, "b": bid})
    bind.execute(sa.text("UPDATE provision SET effective_until = :d WHERE active = :no"),
                 {"d": today - ONE_DAY, "no": False})
    bind.execute(sa.text(
        "UPDATE entrustment SET effective_from = "
        "(SELECT contract.effective_from FROM contract WHERE contract.id = entrustment.contract_id)"))

    _derive_status_history(bind)

    recorded = {item: bool(doc["property_damage_risk"]) for item, doc in _events(bind, "DataItem", "dataitem.add")
                if "property_damage_risk" in doc}
    for item, sensitivity in bind.execute(sa.text("SELECT id, sensitivity FROM data_item")).all():
        risk = recorded.get(item, sensitivity == "FINANCIAL")
        if risk:
            bind.execute(sa.text("UPDATE data_item SET property_damage_risk = :yes WHERE id = :id"),
                         {"yes": True, "id": item})
    returned = {cid: doc.get("data_returned_on") for cid, doc in _events(bind, "Contract", "contract.data_return")}
    for cid, day in returned.items():
        if day:
            bind.execute(sa.text("UPDATE contract SET data_returned_on = :d WHERE id = :id"),
                         {"d": _date(day), "id": cid})

    # --- constraints now that every row is filled --------------------------------------
    with op.batch_alter_table("customer") as batch_op:
        batch_op.alter_column("registered_on", existing_type=sa.Date(), nullable=False)
        batch_op.drop_index("ix_customer_business_status")
        batch_op.drop_column("status")
        batch_op.create_index("ix_customer_business_cancelled", ["business_id", "cancelled_on"])
    for table in PERIOD_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("effective_from", existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table("provision") as batch_op:
        batch_op.drop_column("active")


_SCOPES = {"purposes": "PURPOSE", "data_items": "DATA_ITEM", "recipients": "RECIPIENT",
           "add_data_items": "ADD_DATA_ITEM", "remove_data_items": "REMOVE_DATA_ITEM"}  # the submit event's keys


def _derive_request_targets(bind) -> dict[int, dict[str, set[int]]]:
    """What each request named, as its `request.submit` event recorded it (codes of its
    business's purposes and items, recipient ids), written to request_target."""
    business_of = dict(bind.execute(sa.text(
        "SELECT r.id, c.business_id FROM data_subject_request r JOIN customer c ON c.id = r.customer_id")).all())
    ids = {scope: {} for scope in _SCOPES.values()}
    for table, scopes in (("purpose", ["PURPOSE"]), ("data_item", ["DATA_ITEM", "ADD_DATA_ITEM", "REMOVE_DATA_ITEM"])):
        for row_id, business_id, code in bind.execute(sa.text(f"SELECT id, business_id, code FROM {table}")):
            for scope in scopes:
                ids[scope][business_id, code] = row_id
    recipients = {row_id for (row_id,) in bind.execute(sa.text("SELECT id FROM third_party_recipient"))}
    found: dict[int, dict[str, set[int]]] = {}
    for request_id, document in _events(bind, "DataSubjectRequest", "request.submit"):
        business_id = business_of.get(request_id)
        for key, scope in _SCOPES.items():
            for value in document.get(key) or []:
                target = (value if value in recipients else None) if scope == "RECIPIENT" else (
                    ids[scope].get((business_id, value)))
                if target is not None:
                    found.setdefault(request_id, {}).setdefault(scope, set()).add(target)
    rows = [{"request_id": request_id, "scope": scope, "target_id": target}
            for request_id, scopes in found.items() for scope, targets in scopes.items() for target in sorted(targets)]
    if rows:
        table = sa.table("request_target", sa.column("request_id"), sa.column("scope"), sa.column("target_id"))
        bind.execute(table.insert(), rows)
    return found


def _update_each(bind, table: str, column: str, values: dict[int, date]) -> None:
    statement = sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id")
    rows = [{"id": key, "value": value} for key, value in values.items()]
    for start in range(0, len(rows), 5000):
        bind.execute(statement, rows[start:start + 5000])


def _derive_status_history(bind) -> None:
    """Each contract's dated transitions from the audit trail; the stored status at the
    earlier of its effective_from and creation when the trail does not end on it."""
    history: dict[int, list[dict]] = {}
    for entity_id, at, actor, after in bind.execute(sa.text(
            "SELECT entity_id, at, actor, after FROM audit_event "
            "WHERE entity_type = 'Contract' AND action = 'contract.transition' ORDER BY id")):
        document = _document(after)
        status = document.get("status")
        if status:  # since this revision the event names the day it took effect
            effective_on = _date(document.get("effective_on")) or _day(at)
            history.setdefault(entity_id, []).append({
                "status": status, "effective_on": effective_on, "at": at, "actor": actor,
                "reason": (document.get("reason") or None),
            })
    changes = sa.table("contract_status_change", sa.column("contract_id"), sa.column("status"),
                       sa.column("effective_on"), sa.column("at"), sa.column("actor"), sa.column("reason"))
    rows = []
    for cid, status, effective_from, created in bind.execute(sa.text(
            "SELECT id, status, effective_from, created_at FROM contract ORDER BY id")):
        found = history.get(cid, [])
        if status != "DRAFT" and (not found or found[-1]["status"] != status):
            start = min(_date(effective_from), _day(created))
            if found:
                start = max(start, found[-1]["effective_on"])
            found = [*found, {"status": status, "effective_on": start, "at": created,
                              "actor": "migration 0006", "reason": "the stored status, dated by the migration"}]
        for change in found:
            at = change["at"]
            if isinstance(at, str):
                at = datetime.fromisoformat(at)
            if at.tzinfo is None:
                at = at.replace(tzinfo=timezone.utc)
            rows.append({"contract_id": cid, **change, "at": at, "reason": (change["reason"] or None)
                         and str(change["reason"])[:2000]})
    if rows:
        bind.execute(changes.insert(), rows)


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("provision") as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    today = datetime.now(timezone.utc).date()
    bind.execute(sa.text(
        "UPDATE provision SET active = :no WHERE effective_until IS NOT NULL AND effective_until < :today"),
        {"no": False, "today": today})
    with op.batch_alter_table("customer") as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=32), nullable=False, server_default="ACTIVE"))
        batch_op.drop_index("ix_customer_business_cancelled")
        batch_op.create_index("ix_customer_business_status", ["business_id", "status"])
    bind.execute(sa.text("UPDATE customer SET status = 'CANCELLED' WHERE cancelled_on <= :today"), {"today": today})
    ended = "SELECT id FROM entrustment WHERE effective_until < :today"  # removed: before this revision, deleted
    for link in ("entrustment_purpose", "entrustment_data_item"):
        bind.execute(sa.text(f"DELETE FROM {link} WHERE entrustment_id IN ({ended})"), {"today": today})
    bind.execute(sa.text(f"DELETE FROM entrustment WHERE id IN ({ended})"), {"today": today})
    op.create_table(
        "customer_data_item_flat",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("data_item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"],
                                name="fk_customer_data_item_customer_id_customer", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["data_item_id"], ["data_item.id"],
                                name="fk_customer_data_item_data_item_id_data_item"),
        sa.PrimaryKeyConstraint("customer_id", "data_item_id", name="pk_customer_data_item_flat"),
    )
    bind.execute(sa.text(
        "INSERT INTO customer_data_item_flat (customer_id, data_item_id) "
        "SELECT DISTINCT customer_id, data_item_id FROM customer_data_item "
        "WHERE effective_until IS NULL OR effective_until >= :today"), {"today": today})
    op.drop_index("ix_customer_data_item_customer", table_name="customer_data_item")
    op.drop_index("ix_customer_data_item_item", table_name="customer_data_item")
    op.drop_table("customer_data_item")
    op.rename_table("customer_data_item_flat", "customer_data_item")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE customer_data_item RENAME CONSTRAINT pk_customer_data_item_flat "
                   "TO pk_customer_data_item")
    op.create_index("ix_customer_data_item_item", "customer_data_item", ["data_item_id", "customer_id"])
    op.drop_table("request_target")
    op.drop_index("ix_contract_status_change_contract", table_name="contract_status_change")
    op.drop_table("contract_status_change")
    with op.batch_alter_table("data_item") as batch_op:
        batch_op.drop_column("property_damage_risk")
    with op.batch_alter_table("contract") as batch_op:
        batch_op.drop_column("data_returned_on")
    for table in reversed(PERIOD_TABLES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("effective_until")
            batch_op.drop_column("effective_from")
    with op.batch_alter_table("customer") as batch_op:
        batch_op.drop_column("registered_on")
