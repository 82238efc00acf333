"""B-raw: the answers of Q-map and Q-small from hand-written SQL and orjson, the physical
limit GraphQL is measured against (issues 7 and 11). A plain Starlette app kept in bench/,
never in the product.

`/raw/map` serves `{"data": ...}` identical to the gateway's answer to bench.queries.Q_MAP
(the harness checks that before measuring): six statements whatever the number of rows, one
pass over each result, no per-field work. `/raw/small` answers bench.queries.Q_SMALL for the
global ID posted as `{"id": ...}`: two statements. Run it like the gateway, on the same
database: `DATABASE_URL=... uvicorn bench.raw:create_app --factory`.
"""

import base64
import os
from collections import defaultdict
from contextlib import asynccontextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from registry.db import Database

PAGE = 1000


def gid(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:{key}".encode()).decode().rstrip("=")


def day(value) -> str | None:
    """A date column as ISO text (SQLite returns text already, PostgreSQL a date)."""
    return value if value is None or isinstance(value, str) else value.isoformat()


def clauses(value) -> list[str]:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def key_of(global_id: str, type_name: str) -> int | None:
    try:
        kind, _, key = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode().partition(":")
        return int(key) if kind == type_name else None
    except ValueError:
        return None


def contract(row, today: str) -> dict:
    id, reference, status, signed, start, expires, stored_clauses, version = row
    expires = day(expires)
    return {"id": gid("Contract", id), "reference": reference, "status": "EXPIRED" if expires < today else status,
            "signedOn": day(signed), "effectiveFrom": day(start), "expiresOn": expires,
            "clauses": clauses(stored_clauses), "version": version}


async def data_map(conn, today: str) -> dict:
    subs = (await conn.execute(sa.text(
        "SELECT id, name, country, corporate_number, version FROM subcontractor ORDER BY id LIMIT :n"),
        {"n": PAGE + 1})).all()
    total = (await conn.execute(sa.text("SELECT count(*) FROM subcontractor"))).scalar_one()
    subs, more = subs[:PAGE], len(subs) > PAGE
    last = subs[-1][0] if subs else 0
    contracts = (await conn.execute(sa.text(
        "SELECT id, subcontractor_id, reference, status, signed_on, effective_from, expires_on, clauses, version "
        "FROM contract WHERE subcontractor_id <= :last ORDER BY effective_from, id"), {"last": last})).all()
    entrustments = (await conn.execute(sa.text(
        "SELECT e.id, e.contract_id, e.description FROM entrustment e JOIN contract c ON c.id = e.contract_id "
        "WHERE c.subcontractor_id <= :last ORDER BY e.id"), {"last": last})).all()
    purposes = (await conn.execute(sa.text(
        "SELECT ep.entrustment_id, p.id, p.code, p.title FROM entrustment_purpose ep "
        "JOIN purpose p ON p.id = ep.purpose_id JOIN entrustment e ON e.id = ep.entrustment_id "
        "JOIN contract c ON c.id = e.contract_id WHERE c.subcontractor_id <= :last ORDER BY p.ordinal, p.id"),
        {"last": last})).all()
    items = (await conn.execute(sa.text(
        "SELECT ed.entrustment_id, d.id, d.code, d.name, d.sensitivity FROM entrustment_data_item ed "
        "JOIN data_item d ON d.id = ed.data_item_id JOIN entrustment e ON e.id = ed.entrustment_id "
        "JOIN contract c ON c.id = e.contract_id WHERE c.subcontractor_id <= :last ORDER BY d.id"),
        {"last": last})).all()
    purposes_of, items_of = defaultdict(list), defaultdict(list)
    for owner, id, code, title in purposes:
        purposes_of[owner].append({"id": gid("Purpose", id), "code": code, "title": title})
    for owner, id, code, name, sensitivity in items:
        items_of[owner].append({"id": gid("DataItem", id), "code": code, "name": name, "sensitivity": sensitivity})
    entrustments_of = defaultdict(list)
    for id, contract_id, description in entrustments:
        entrustments_of[contract_id].append({"id": gid("Entrustment", id), "description": description,
                                             "purposes": purposes_of[id], "dataItems": items_of[id]})
    contracts_of = defaultdict(list)
    for id, sub_id, *row in contracts:
        contracts_of[sub_id].append(contract((id, *row), today) | {"entrustments": entrustments_of[id]})
    edges = [{"node": {"id": gid("Subcontractor", id), "name": name, "country": country,
                       "corporateNumber": number, "version": version, "contracts": contracts_of[id]}}
             for id, name, country, number, version in subs]
    return {"subcontractors": {"totalCount": total,
                               "pageInfo": {"hasNextPage": more, "endCursor": cursor(last) if subs else None},
                               "edges": edges}}


async def small(conn, key: int | None, today: str) -> dict:
    """Q-small's `data`: one subcontractor by key with its contracts, oldest effective first."""
    sub = key and (await conn.execute(sa.text(
        "SELECT id, name, country, corporate_number, version FROM subcontractor WHERE id = :id"), {"id": key})).first()
    if not sub:
        return {"subcontractor": None}
    contracts = (await conn.execute(sa.text(
        "SELECT id, reference, status, signed_on, effective_from, expires_on, clauses, version FROM contract "
        "WHERE subcontractor_id = :id ORDER BY effective_from, id"), {"id": key})).all()
    id, name, country, number, version = sub
    return {"subcontractor": {"id": gid("Subcontractor", id), "name": name, "country": country,
                              "corporateNumber": number, "version": version,
                              "contracts": [contract(row, today) for row in contracts]}}


def create_app() -> Starlette:
    database = Database.connect(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./pi-gateway.db"))
    zone = ZoneInfo(os.environ.get("PI_GATEWAY_TIMEZONE", "Asia/Tokyo"))

    async def raw_map(request) -> Response:
        async with database.reader.connect() as conn:
            data = await data_map(conn, datetime.now(zone).date().isoformat())
        return Response(orjson.dumps({"data": data}), media_type="application/json")

    async def raw_small(request) -> Response:
        key = key_of(orjson.loads(await request.body())["id"], "Subcontractor")
        async with database.reader.connect() as conn:
            data = await small(conn, key, datetime.now(zone).date().isoformat())
        return Response(orjson.dumps({"data": data}), media_type="application/json")

    async def healthz(request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @asynccontextmanager
    async def lifespan(app):
        yield
        await database.dispose()

    return Starlette(routes=[Route("/raw/map", raw_map, methods=["GET", "POST"]),
                             Route("/raw/small", raw_small, methods=["POST"]), Route("/healthz", healthz)],
                     lifespan=lifespan)
