"""The load generator: N concurrent HTTP clients for a fixed duration, in its own process.

`python -m bench.load '<json spec>'` prints one JSON line: requests, errors, req/s and
latency percentiles of the answers inside the measuring window (see Window). Spec keys:
url, token (optional), kind ("post": the same body each time; "handlings": Q-handlings of a
random customer 1..customers; "entities": Q-entities of `representations` random customers,
a new draw each request; "update": updateSubcontractor of the client's own
subcontractor), body, customers, representations, concurrency, duration, warmup (at least), and distinct
(handlings: no customer asked twice in the run, so a response cache never hits; the run
ends early, with "exhausted", when every customer has been asked).

Python and httpx rather than wrk: requests need per-request variables (random customers,
the version each update must name), which httpx makes plain; at the rates measured here
(up to a few hundred requests a second on 2 cores) the client costs less than the server,
and it shares the machine with the server either way (noted in RESULTS.md).

Small answers come faster than httpx sends: it spends about 1.5 ms of CPU a request, as much
as B-raw's Q-small answer takes to make, so on 2 cores the client would set the rate. With
`"client": "plain"` a "post" load writes the same prepared HTTP/1.1 request on each kept-alive
connection and reads the answer by its Content-Length, for some tens of microseconds a request.
"""

import asyncio
import json
import random
import sys
import time
from collections.abc import Iterator

import httpx

from bench.queries import M_UPDATE_SUBCONTRACTOR, Q_ENTITIES, Q_HANDLINGS, REPRESENTATIONS


def gid(type_name: str, key: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def entities_body(numbers: list[int]) -> str:
    """Q-entities of the scale customers numbered `numbers` (registry/scale.py names customer N
    `LIJ-S` and N in seven digits, of the demo business)."""
    representations = [{"__typename": "Customer", "business": {"code": "loveinn-japan"},
                        "externalRef": f"LIJ-S{number:07d}"} for number in numbers]
    return json.dumps({"query": Q_ENTITIES, "operationName": "QEntities",
                       "variables": {"representations": representations}})


def failed(response: httpx.Response) -> bool:
    """A non-200 answer or a GraphQL error (no field of the measured answers is called `message`)."""
    return response.status_code != 200 or b'"message"' in response.content


DISTINCT_CAP = 200_000  # more customers than a run can ask for at any rate measured here


def customer_numbers(spec: dict) -> Iterator[int] | None:
    """The customers the clients share in a distinct run, in random order; None otherwise."""
    if spec["kind"] != "handlings" or not spec.get("distinct"):
        return None
    count = spec["customers"]
    return iter(random.Random(0).sample(range(1, count + 1), min(count, DISTINCT_CAP)))


class Client:
    def __init__(self, spec: dict, index: int, shared: Iterator[int] | None = None):
        self.spec, self.index, self.rng, self.shared = spec, index, random.Random(index), shared
        self.version: int | None = None
        self.sub_id = index + 1
        self.n = 0

    def body(self) -> bytes | None:
        """The next request's body; None when a distinct run has asked about every customer."""
        kind = self.spec["kind"]
        if kind == "post":
            return self.spec["body"].encode()
        if kind == "entities":  # a new draw of customers each time: a response cache never hits
            count = min(self.spec.get("representations", REPRESENTATIONS), self.spec["customers"])
            return entities_body(self.rng.sample(range(1, self.spec["customers"] + 1), count)).encode()
        if kind == "handlings":
            number = next(self.shared, None) if self.shared is not None else self.rng.randint(1, self.spec["customers"])
            if number is None:
                return None
            customer = gid("Customer", number)
            return json.dumps({"query": Q_HANDLINGS, "operationName": "QHandlings",
                               "variables": {"id": customer}}).encode()
        self.n += 1
        update = {"id": gid("Subcontractor", self.sub_id), "expectedVersion": self.version,
                  "name": f"Scale Vendor {self.sub_id:05d} K.K. (fictional) rev {self.n}"}
        return json.dumps({"query": M_UPDATE_SUBCONTRACTOR, "operationName": "UpdateSubcontractor",
                           "variables": {"input": update}}).encode()

    def check(self, response: httpx.Response) -> bool:
        if self.spec["kind"] != "update":
            return not failed(response)
        if response.status_code != 200:
            return False
        payload = response.json().get("data", {}).get("updateSubcontractor") or {}
        if payload.get("errors") or not payload.get("subcontractor"):
            return False
        self.version = payload["subcontractor"]["version"]
        return True

    async def current_version(self, client: httpx.AsyncClient) -> None:
        query = "query V($id: ID!) { subcontractor(id: $id) { version } }"
        answer = await client.post(self.spec["url"], json={"query": query, "operationName": "V",
                                             "variables": {"id": gid("Subcontractor", self.sub_id)}})
        self.version = answer.json()["data"]["subcontractor"]["version"]


class Window:
    """The measuring window. It opens at the first answer after the warm-up by which every
    client has had one (a slow operation's first round is not steady state), and closes once
    `duration` has passed and every client has had an answer inside it (so that a round of 8
    slow answers is never cut in the middle); answers completed while it is open count.
    Throughput divides them by the time from the opening to the last of them, so answers
    arriving in rounds give their true rate rather than one round more or less."""

    def __init__(self, clients: int, warmup: float, duration: float):
        self.started, self.clients, self.warmup, self.duration = time.perf_counter(), clients, warmup, duration
        self.answered: set[int] = set()
        self.opened: float | None = None
        self.last: float | None = None
        self.closed = False

    def over(self, now: float) -> bool:
        if not self.closed and self.opened is not None:
            self.closed = now >= self.opened + self.duration and len(self.answered) == self.clients
        return self.closed

    def counts(self, client: int, done: float) -> bool:
        """Whether an answer completed at `done` counts; the one that opens the window does not."""
        if self.closed:
            return False
        self.answered.add(client)
        if self.opened is None:
            if len(self.answered) == self.clients and done - self.started >= self.warmup:
                self.opened, self.answered = done, set()
            return False
        self.last = done
        return True

    @property
    def seconds(self) -> float:
        return self.last - self.opened if self.last is not None else 0.0


class PlainConnection:
    """One kept-alive HTTP/1.1 connection that POSTs one prepared request again and again."""

    def __init__(self, spec: dict):
        url = httpx.URL(spec["url"])
        self.host, self.port = url.host, url.port or 80
        body = spec["body"].encode()
        head = [f"POST {url.raw_path.decode()} HTTP/1.1", f"Host: {self.host}:{self.port}",
                "Content-Type: application/json", f"Content-Length: {len(body)}"]
        if spec.get("token"):
            head.append(f"Authorization: Bearer {spec['token']}")
        self.request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self) -> tuple[int, bytes]:
        """The status and body of one answer; the connection is reopened when the server closes it."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(self.request)
        head = (await self.reader.readuntil(b"\r\n\r\n")).lower()
        status = int(head[9:12])
        start = head.index(b"content-length:") + len(b"content-length:")
        content = await self.reader.readexactly(int(head[start:head.index(b"\r\n", start)]))
        if b"connection: close" in head:
            await self.close()
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


async def run(spec: dict) -> dict:
    if spec.get("client") == "plain":
        return await run_plain(spec)

    headers = {"content-type": "application/json"}
    if spec.get("token"):
        headers["authorization"] = f"Bearer {spec['token']}"
    limits = httpx.Limits(max_connections=spec["concurrency"], max_keepalive_connections=spec["concurrency"])
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0, "exhausted": False}
    async with httpx.AsyncClient(headers=headers, timeout=120, limits=limits) as http:
        shared = customer_numbers(spec)
        clients = [Client(spec, i, shared) for i in range(spec["concurrency"])]
        if spec["kind"] == "update":
            await asyncio.gather(*(c.current_version(http) for c in clients))
        window = Window(len(clients), spec.get("warmup", 1.0), spec["duration"])

        async def loop(client: Client) -> None:
            while not window.over(now := time.perf_counter()):
                if (body := client.body()) is None:
                    counts["exhausted"] = True
                    return
                response = await http.post(spec["url"], content=body)
                ok = client.check(response)
                if window.counts(client.index, done := time.perf_counter()):
                    latencies.append(done - now)
                    counts["requests"] += 1
                    counts["errors"] += not ok
                    if not ok and counts["errors"] == 1:
                        counts["first_error"] = response.text[:300]

        await asyncio.gather(*(loop(c) for c in clients))
    return summary(counts, latencies, window)


async def run_plain(spec: dict) -> dict:
    """A "post" load on PlainConnections: the same measuring window and figures as `run`."""
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0, "exhausted": False}
    window = Window(spec["concurrency"], spec.get("warmup", 1.0), spec["duration"])

    async def loop(index: int) -> None:
        connection = PlainConnection(spec)
        try:
            while not window.over(now := time.perf_counter()):
                status, content = await connection.post()
                if window.counts(index, done := time.perf_counter()):
                    latencies.append(done - now)
                    counts["requests"] += 1
                    ok = status == 200 and b'"message"' not in content
                    counts["errors"] += not ok
                    if not ok and counts["errors"] == 1:
                        counts["first_error"] = f"{status} {content[:300]!r}"
        finally:
            await connection.close()

    await asyncio.gather(*(loop(i) for i in range(spec["concurrency"])))
    return summary(counts, latencies, window)


def summary(counts: dict, latencies: list[float], window: Window) -> dict:
    latencies.sort()

    def pct(p: float) -> float | None:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2) if latencies else None

    rps = counts["requests"] / window.seconds if window.seconds else 0.0
    return {**counts, "seconds": round(window.seconds, 2), "rps": round(rps, 1),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
