"""The composition root: `create_app` is the one place that picks the concrete pieces."""

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.auth import Authenticator
from gateway.edge import Edge
from gateway.exports import PATHS as EXPORT_PATHS, export_routes
from gateway.graphql_view import GraphQLView
from gateway.limits import RateLimiter
from gateway.memory import LargeBodies, return_large_blocks, tune_garbage_collector
from gateway.notices import notice_routes
from gateway.observability import Metrics, OperationFacts, configure_logging, metrics_endpoint
from gateway.web import web_routes
from gateway.settings import Settings, load_settings
from registry.clock import Clock
from registry.db import Database
from registry.handling import BusinessContexts
from schema import Limits, build_schema
from schema.cache import ResponseCache
from schema.documents import DocumentCache, Reader
from schema.execution import FastPath, unplanned_fields
from schema.types import SHARED_TYPES
from schema.context import Policy


def create_app(
    settings: Settings | None = None, *, database: Database | None = None, clock: Clock | None = None
) -> Starlette:
    """The gateway app; tests pass their own database and a fixed clock."""
    settings = settings or load_settings()
    database = database or Database.connect(settings.database_url)
    clock = clock or Clock(timezone=settings.timezone)
    configure_logging(settings.log_level)
    limits = Limits(
        max_depth=settings.max_depth, max_aliases=settings.max_aliases, max_tokens=settings.max_tokens,
        max_document_chars=settings.max_document_chars, max_fields=settings.max_fields,
        max_repeats=settings.max_repeats, introspection=settings.introspection,
        earliest_date=settings.earliest_date, latest_date=settings.latest_date,
    )
    cache = ResponseCache(max_bytes=settings.response_cache_mb * 2**20)
    documents = DocumentCache(max_bytes=settings.document_cache_mb * 2**20)
    reader = Reader(ThreadPoolExecutor(max_workers=1, thread_name_prefix="documents"))
    fast_path = FastPath(enabled=settings.fast_path, strict=settings.fast_path_strict, shared_types=SHARED_TYPES)
    schema = build_schema(limits, extensions=[OperationFacts], cache=cache, documents=documents, reader=reader,
                          fast_path=fast_path, federation=settings.federation)
    log_unplanned_fields(schema)
    authenticator = Authenticator(database, clock, cache_seconds=settings.auth_cache_seconds,
                                  failures_per_minute=settings.auth_failures_per_minute)
    view = GraphQLView(
        schema, database=database, clock=clock, authenticator=authenticator,
        policy=Policy(request_due_days=settings.request_due_days, max_page_size=settings.max_page_size),
        execution_timeout=settings.execution_timeout_seconds, large_bodies=LargeBodies(),
        business_contexts=BusinessContexts(),
    )
    metrics = Metrics(pools=lambda: {"reader": database.reader.pool, "writer": database.writer.pool},
                      caches=lambda: {"response": cache.stats(), "documents": documents.stats()},
                      fast_path=lambda: fast_path.fallbacks)
    limiter = RateLimiter(per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            await database.ping()
        except Exception as error:  # any failure to reach the database means not ready
            return JSONResponse({"status": "unavailable", "database": type(error).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    @asynccontextmanager
    async def lifespan(app):
        tune_garbage_collector()
        return_large_blocks()
        yield
        reader.executor.shutdown(wait=False, cancel_futures=True)
        await database.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", view),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *notice_routes(database),
            *export_routes(database, clock, authenticator, earliest=settings.earliest_date,
                           latest=settings.latest_date),
            Route("/metrics", metrics_endpoint(metrics)),
            *web_routes(),
        ],
        middleware=[Middleware(Edge, metrics=metrics, limiter=limiter, limited_paths=("/graphql", *EXPORT_PATHS))],
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.authenticator = authenticator
    app.state.metrics = metrics
    app.state.response_cache = cache
    return app


def log_unplanned_fields(schema) -> None:
    """One line at start-up naming the fields the fast path cannot run (none in the served
    schema; a new field that breaks that is seen before any request is slow)."""
    unplanned = unplanned_fields(schema)
    if unplanned:
        logging.getLogger("pi_gateway.fast_path").warning(json.dumps({
            "event": "fast_path_unplanned_fields", "fields": unplanned}))
