"""The records of processing as downloads (issue 14; registry/ropa.py says what they hold).

    /export/ropa.xlsx   one sheet per business and a sheet of the parties outside Japan
    /export/ropa.csv    every business's rows in one table, UTF-8 with a byte order mark

Query parameters: `business` (a code; default every business) and `asOf` (YYYY-MM-DD; default
today in the business time zone). Any token whose role may read the registry may download
(`Authorization: Bearer <token>`): none or a bad one is 401, a role without the capability 403.
A malformed `asOf` is 400 with a message that repeats none of it, an unknown business 404
naming at most 64 characters of the code. The edge rate-limits these paths per token as it
does /graphql (gateway/edge.py), and bills the time a download took as it bills a document's
(`document_seconds`, gateway/limits.py): a thousand contracts' records take some 0.3 s to read
and 0.6 s more as XLSX, a hundred dashboard queries' worth, so one costs up to 11 requests.
A RoPA names no customer: there is no personal data to mask.
"""

import io
import re
import time
from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.auth import AuthFailure, Authenticator
from gateway.limits import retry_after_header
from registry.access import Capability, can
from registry.clock import Clock
from registry.db import Database
from registry.errors import NotFound
from registry.models import Business
from registry.ropa import businesses_of, records_of_processing
from registry.ropa_export import CSV_TYPE, XLSX_TYPE, XlsxWriter, csv_header, csv_rows

PATHS = ("/export/ropa.xlsx", "/export/ropa.csv")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class BadRequest(Exception):
    """A query parameter the export cannot use; the message repeats none of it."""


def export_routes(database: Database, clock: Clock, authenticator: Authenticator, *,
                  earliest: date = date(1900, 1, 1), latest: date = date(2199, 12, 31)) -> list[Route]:
    """The two downloads, `asOf` within `earliest..latest` (the settings' date bounds)."""

    async def download(request: Request) -> Response:
        refused = await _refusal(request, authenticator)
        if refused is not None:
            return refused
        try:
            day = _day(request.query_params.get("asOf"), clock.today(), earliest, latest)
        except BadRequest as error:
            return PlainTextResponse(str(error), status_code=400)
        code = request.query_params.get("business")
        started = time.perf_counter()
        async with database.session() as session:
            try:
                businesses = await businesses_of(session, code)
            except NotFound as error:
                return PlainTextResponse(error.message, status_code=404)
            if request.url.path.endswith(".xlsx"):
                workbook = XlsxWriter()
                for business in businesses:
                    workbook.add(await records_of_processing(session, business, as_of=day, today=clock.today()))
        name = f"ropa-{FILENAME_UNSAFE.sub('_', code) if code else 'all'}-{day.isoformat()}"
        if request.url.path.endswith(".xlsx"):
            content = await run_in_threadpool(_saved, workbook)
            _bill(request.state, time.perf_counter() - started)
            return Response(content, media_type=XLSX_TYPE, headers=_attachment(f"{name}.xlsx"))
        return StreamingResponse(_csv(database, [b.id for b in businesses], day, clock, request.state),
                                 media_type=CSV_TYPE, headers=_attachment(f"{name}.csv"))

    return [Route(path, download, methods=["GET"]) for path in PATHS]


async def _refusal(request: Request, authenticator: Authenticator) -> Response | None:
    """401 or 429 for a request without a usable token, 403 for a role that may not read the
    registry; None for one that may download (noted on the request for its log line)."""
    client = request.client.host if request.client else ""
    caller = await authenticator.identify(request.headers.get("authorization"), client)
    if isinstance(caller, AuthFailure):
        if caller.retry_after:
            return PlainTextResponse(caller.reason, status_code=429,
                                     headers={"Retry-After": retry_after_header(caller.retry_after)})
        return JSONResponse({"errors": [{"message": caller.reason, "extensions": {"code": "UNAUTHENTICATED"}}]},
                            status_code=401, headers={"WWW-Authenticate": 'Bearer realm="pi-gateway"'})
    request.state.caller = caller
    if not can(caller.role, Capability.READ_REGISTRY):
        return JSONResponse({"errors": [{"message": "This token's role may not read the registry.",
                                         "extensions": {"code": "FORBIDDEN"}}]}, status_code=403)
    return None


def _day(asked: str | None, today: date, earliest: date, latest: date) -> date:
    if asked is None:
        return today
    try:
        day = date.fromisoformat(asked) if DATE.fullmatch(asked) else None
    except ValueError:
        day = None
    if day is None or not earliest <= day <= latest:
        raise BadRequest(f"asOf must be a date YYYY-MM-DD from {earliest} to {latest}")
    return day


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _saved(workbook: XlsxWriter) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _bill(state, seconds: float) -> None:
    """The edge charges the token for the time taken once the response is sent."""
    state.document_seconds = getattr(state, "document_seconds", 0.0) + seconds


async def _csv(database: Database, business_ids: list[int], day: date, clock: Clock, state):
    """The header, then each business's rows as they are read: one business's at a time."""
    yield csv_header().encode()
    async with database.session() as session:
        for business_id in business_ids:
            started = time.perf_counter()
            business = await session.get(Business, business_id)
            records = await records_of_processing(session, business, as_of=day, today=clock.today())
            text = csv_rows(records.rows).encode()
            _bill(state, time.perf_counter() - started)
            yield text
