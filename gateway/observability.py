"""What operators see: one JSON log line per request, /metrics, and an X-Request-ID on every answer.

The log line carries the request ID, method, path, status, duration, the caller's role and
the GraphQL operation's name and type; never a token, a query's text or its variables
(which may hold personal data). The same request ID is echoed in the `X-Request-ID`
response header (the client's own when it sent a sane one) and quoted in masked errors.

/metrics is the Prometheus text format, written here by hand (about forty lines) rather
than with prometheus_client, so the gateway needs no extra runtime dependency: requests and
their latency by operation, GraphQL errors by code, and the database pools.
"""

import bisect
import itertools
import logging
import os
import re
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from strawberry.extensions import SchemaExtension

logger = logging.getLogger("pi_gateway.access")

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_OPERATION_NAMES = 50  # client-chosen names: the first 50 seen label metrics, the rest are "(other)"
_LABELLED_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
KNOWN_PATHS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/map", "/vendors",
                         "/export/ropa.xlsx", "/export/ropa.csv"})


def configure_logging(level: str) -> None:
    """Send the gateway's JSON lines to stderr, once, whoever runs the app (uvicorn or tests)."""
    root = logging.getLogger("pi_gateway")
    root.setLevel(level.upper() if level != "trace" else "DEBUG")
    if not any(getattr(h, "pi_gateway", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.pi_gateway = True
        root.addHandler(handler)


class OperationFacts(SchemaExtension):
    """Notes the operation's name, type and error codes on the request, for the log line and metrics."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        state = getattr(getattr(self.execution_context.context, "request", None), "state", None)
        if state is None:
            return
        context = self.execution_context
        if context.graphql_document is not None:
            try:
                state.operation_name = context.operation_name
                state.operation_type = context.operation_type.value
            except RuntimeError:  # several operations and none chosen
                pass
        errors = context.result.errors if context.result else None
        state.error_codes = [(e.extensions or {}).get("code", "GRAPHQL_ERROR") for e in errors or ()]


class Metrics:
    """Counters and latency histograms, exposed in the Prometheus text format."""

    def __init__(self, pools: Callable[[], dict[str, object]] = dict, caches: Callable[[], dict[str, object]] = dict,
                 fast_path: Callable[[], dict[str, int]] = dict):
        self._pools = pools
        self._caches = caches  # name -> an object with hits, misses, entries, bytes, max_bytes
        self._fast_path = fast_path  # reason -> times the fast path stepped aside for it
        self._requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._errors: dict[tuple[str, str], int] = defaultdict(int)
        self._latency: dict[str, list[float]] = {}
        self._names: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        """The label of an operation name: bounded in length and number, so that no client can
        grow /metrics, its scrapes or the log lines (a name may be as long as the document)."""
        if not name:
            return ""
        if not isinstance(name, str) or not _LABELLED_NAME.fullmatch(name):
            return "(other)"
        if name in self._names or len(self._names) < MAX_OPERATION_NAMES:
            self._names.add(name)
            return name
        return "(other)"

    def observe(self, *, path: str, operation: str, status: int, seconds: float, error_codes: list[str]) -> None:
        self._requests[(path, operation, str(status))] += 1
        for code in error_codes:
            self._errors[(operation, code)] += 1
        series = self._latency.get(operation) or self._latency.setdefault(operation, [0.0] * (len(BUCKETS) + 3))
        series[bisect.bisect_left(BUCKETS, seconds)] += 1  # the first bucket it falls in (the last: +Inf only)
        series[-2] += 1  # count
        series[-1] += seconds  # sum

    def render(self) -> str:
        lines = [
            "# HELP pi_gateway_requests_total HTTP requests by path, GraphQL operation name and status.",
            "# TYPE pi_gateway_requests_total counter",
        ]
        for (path, operation, status), count in sorted(self._requests.items()):
            lines.append(f"pi_gateway_requests_total{_labels(path=path, operation=operation, status=status)} {count}")
        lines += ["# HELP pi_gateway_graphql_errors_total GraphQL errors by operation and extensions.code.",
                  "# TYPE pi_gateway_graphql_errors_total counter"]
        for (operation, code), count in sorted(self._errors.items()):
            lines.append(f"pi_gateway_graphql_errors_total{_labels(operation=operation, code=code)} {count}")
        lines += ["# HELP pi_gateway_request_duration_seconds Request latency by GraphQL operation name.",
                  "# TYPE pi_gateway_request_duration_seconds histogram"]
        for operation, series in sorted(self._latency.items()):
            cumulative = list(itertools.accumulate(series[:len(BUCKETS)]))
            for bound, count in zip([*map(str, BUCKETS), "+Inf"], [*cumulative, series[-2]]):
                lines.append(f"pi_gateway_request_duration_seconds_bucket{_labels(operation=operation, le=bound)} {count:g}")
            lines.append(f"pi_gateway_request_duration_seconds_count{_labels(operation=operation)} {series[-2]:g}")
            lines.append(f"pi_gateway_request_duration_seconds_sum{_labels(operation=operation)} {series[-1]:.6f}")
        lines += _pool_lines(self._pools())
        lines += _cache_lines(self._caches())
        lines += ["# HELP pi_gateway_fast_path_fallbacks_total Read queries graphql-core ran instead of the fast path, "
                  "by reason (schema/execution).",
                  "# TYPE pi_gateway_fast_path_fallbacks_total counter"]
        lines += [f"pi_gateway_fast_path_fallbacks_total{_labels(reason=reason)} {count}"
                  for reason, count in sorted(self._fast_path().items())]
        return "\n".join(lines) + "\n"


def _pool_lines(pools: dict[str, object]) -> list[str]:
    lines = ["# HELP pi_gateway_db_pool_size Connections the database pool keeps.",
             "# TYPE pi_gateway_db_pool_size gauge",
             "# HELP pi_gateway_db_pool_checked_out Connections in use.",
             "# TYPE pi_gateway_db_pool_checked_out gauge"]
    for name, pool in pools.items():
        size, checked_out = getattr(pool, "size", None), getattr(pool, "checkedout", None)
        if callable(size) and callable(checked_out):  # QueuePool; SQLite's pools may lack them
            lines.append(f"pi_gateway_db_pool_size{_labels(engine=name)} {size()}")
            lines.append(f"pi_gateway_db_pool_checked_out{_labels(engine=name)} {checked_out()}")
    return lines


_CACHE_SERIES = (
    ("hits", "counter", "Lookups answered from the cache (response: answers; documents: parsed valid documents)."),
    ("misses", "counter", "Lookups the cache could not answer."),
    ("entries", "gauge", "Entries held now."),
    ("bytes", "gauge", "Bytes held now (response: JSON; documents: estimated from their tokens)."),
    ("max_bytes", "gauge", "The bound on bytes held (PI_GATEWAY_RESPONSE_CACHE_MB, PI_GATEWAY_DOCUMENT_CACHE_MB)."),
)


def _cache_lines(caches: dict[str, object]) -> list[str]:
    lines = []
    for field, kind, text in _CACHE_SERIES:
        name = f"pi_gateway_cache_{field}" + ("_total" if kind == "counter" else "")
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{_labels(cache=cache)} {getattr(stats, field)}" for cache, stats in caches.items()]
    return lines


def _labels(**labels: str) -> str:
    escaped = (f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), "")}"'
               for k, v in labels.items())
    return "{" + ",".join(escaped) + "}"


def metrics_endpoint(metrics: Metrics):
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    return endpoint


def request_id(sent: str | None) -> str:
    """The client's X-Request-ID when it is a sane token, else a fresh one (32 hex digits)."""
    return sent if sent and _SANE_REQUEST_ID.fullmatch(sent) else os.urandom(16).hex()


def path_label(path: str) -> str:
    """The path as a metric label: the route, never what a client put in the path."""
    if path in KNOWN_PATHS:
        return path
    if path.startswith("/notice/"):
        return "/notice/{code}/versions" if path.count("/") == 3 and path.endswith("/versions") else "/notice/{code}"
    return "(other)"


def record_request(metrics: Metrics, *, method: str, path: str, status: int, seconds: float, state: dict) -> None:
    """A finished request's metrics and its log line; `state` is what the request noted on the
    way (its request ID, caller, operation and error codes)."""
    path = path_label(path)
    operation = metrics.operation_label(state.get("operation_name"))
    caller = state.get("caller")
    codes = state.get("error_codes", ())
    metrics.observe(path=path, operation=operation, status=status, seconds=seconds, error_codes=codes)
    if logger.isEnabledFor(logging.INFO):
        line = orjson.dumps({
            "event": "request", "request_id": state["request_id"], "method": method, "path": path,
            "status": status, "duration_ms": round(seconds * 1000, 3),
            "role": caller.role.value if caller else None, "operation_name": operation or None,
            "operation_type": state.get("operation_type"), "errors": len(codes), "error_codes": sorted(set(codes)),
        }).decode()
        # handled as a record made here: Logger.info would also walk the stack for a source line
        logger.handle(logger.makeRecord(logger.name, logging.INFO, __file__, 0, line, None, None))
