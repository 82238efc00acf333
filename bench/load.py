"""The load generator: N concurrent HTTP clients for a fixed duration, in its own process.

`python -m bench.load '<json spec>'` prints one JSON line: requests, errors, req/s and
latency percentiles. Spec keys: url, token (optional), kind ("post": the same body each time;
"handlings": Q-handlings of a random customer 1..customers; "update": updateSubcontractor
of the client's own subcontractor), body, customers, concurrency, duration, warmup.

Python and httpx rather than wrk: requests need per-request variables (random customers,
the version each update must name), which httpx makes plain; at the rates measured here
(tens to a few hundred requests a second on 2 cores) the client is not the bottleneck, and
it shares the machine with the server either way (noted in RESULTS.md).
"""

import asyncio
import json
import random
import sys
import time

import httpx

from bench.queries import M_UPDATE_SUBCONTRACTOR, Q_HANDLINGS


def gid(type_name: str, key: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def failed(response: httpx.Response) -> bool:
    """A non-200 answer or a GraphQL error (no field of the measured answers is called `message`)."""
    return response.status_code != 200 or b'"message"' in response.content


class Client:
    def __init__(self, spec: dict, index: int):
        self.spec, self.index, self.rng = spec, index, random.Random(index)
        self.version: int | None = None
        self.sub_id = index + 1
        self.n = 0

    def body(self) -> bytes:
        kind = self.spec["kind"]
        if kind == "post":
            return self.spec["body"].encode()
        if kind == "handlings":
            customer = gid("Customer", self.rng.randint(1, self.spec["customers"]))
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


async def run(spec: dict) -> dict:
    headers = {"content-type": "application/json"}
    if spec.get("token"):
        headers["authorization"] = f"Bearer {spec['token']}"
    limits = httpx.Limits(max_connections=spec["concurrency"], max_keepalive_connections=spec["concurrency"])
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0}
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as http:
        clients = [Client(spec, i) for i in range(spec["concurrency"])]
        if spec["kind"] == "update":
            await asyncio.gather(*(c.current_version(http) for c in clients))
        start = time.perf_counter()
        measuring_from = start + spec.get("warmup", 1.0)
        stop = measuring_from + spec["duration"]

        async def loop(client: Client) -> None:
            while (now := time.perf_counter()) < stop:
                response = await http.post(spec["url"], content=client.body())
                ok = client.check(response)
                done = time.perf_counter()
                if measuring_from <= done <= stop:  # answers completed inside the window count
                    latencies.append(done - now)
                    counts["requests"] += 1
                    counts["errors"] += not ok
                    if not ok and counts["errors"] == 1:
                        counts["first_error"] = response.text[:300]

        await asyncio.gather(*(loop(c) for c in clients))
        elapsed = stop - measuring_from
    latencies.sort()

    def pct(p: float) -> float | None:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2) if latencies else None

    return {**counts, "seconds": round(elapsed, 2), "rps": round(counts["requests"] / elapsed, 1),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
