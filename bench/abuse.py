"""The abuse phase of issue 10: what hostile tokens cost everyone else, and what they leave behind.

Run with the rest (`make bench`) or alone (`make bench BENCH_ARGS="--only abuse"`). On one
database backend, with the product's defaults (limits, caches, the rate limit per token):

1. A bystander sends `{ viewer { name } }` at a steady 25 requests a second (four VIEWER
   tokens in turn, each under its own rate limit) for `--abuse-duration` seconds alone, then
   as long again while three attackers, each a process with its own VIEWER token and two
   connections, send documents as fast as they are answered: ~1,100 repeats of one field
   with a new string each time (validation-heavy), 1.9 MB string literals, 16 KB valid
   documents that are all different, and 1 MB variables. The bystander's p99 with the
   attack over its p99 alone is the issue's figure (target under 3x), and the server's RSS
   is sampled throughout (target under 300 MB).
2. On a gateway whose rate limit is out of the way (memory is under test, not the limit):
   2,000 distinct 1 MB documents, 2,000 distinct 16 KB documents and 2,000 requests with 1 MB
   of distinct variables, the server's RSS read every 250 requests: the curve.
3. 200 operations named with 16,000 characters each, then the size of /metrics.

Attackers and bystander are separate processes from the server, on the same machine. With
two or more CPUs the server gets the first to itself and the clients share the rest (as if
they were across a network), the attackers at the lowest priority: otherwise the attackers'
own work (sending megabytes, hundreds of times a second) would slow the server and the
bystander's client, not their requests. The memory curve runs unpinned.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.servers import ROOT, gateway, rss_kib, sampled_rss

BYSTANDER_RATE = 25.0  # requests a second, spread over BYSTANDER_TOKENS tokens
BYSTANDER_TOKENS = 4
ATTACKERS = 3
CURVE_REQUESTS = 2_000
CURVE_STEP = 250
LONG_NAMES = 200


def viewer_tokens(url: str, count: int, name: str) -> list[str]:
    from bench.run import token_of

    return [token_of(url, f"{name}-{n}", "VIEWER") for n in range(count)]


# --- the hostile documents ---------------------------------------------------------------------


FILLER = {kind: letter * size for kind, letter, size in
          [("literal", b"x", 1_900_000), ("document", b"y", 16_000), ("variables", b"z", 1_000_000)]}


def hostile_body(kind: str, n: int, rng: random.Random) -> bytes:
    """Request `n` of an attack of `kind`; every one differs, so no cache can help. Built as
    bytes around a constant filler: the attackers must not spend the machine's CPU on
    encoding what they send (JSON-encoding 1.9 MB takes milliseconds)."""
    tag = f"{n}-{rng.getrandbits(48):x}".encode()
    if kind == "validation":  # as many repeats as fit the default document limit (16,384 characters)
        field = b'business(code:\\"' + f"{n:x}".encode() + b'\\") { code } '
        return b'{"query": "{ ' + field * (16_300 // len(field)) + b'}"}'
    if kind in ("literal", "document"):
        return b'{"query": "{ business(code: \\"' + tag + FILLER[kind] + b'\\") { code } }"}'
    if kind == "variables":
        return (b'{"query": "query ($x: String!) { business(code: $x) { code } }", "variables": {"x": "' + tag
                + FILLER[kind] + b'"}}')
    raise ValueError(kind)


ATTACK_KINDS = ("validation", "literal", "document", "variables")


def attack(spec: dict) -> dict:
    """One attacker process: `connections` clients sending hostile documents in turn until
    `seconds` pass; counts of answers by status. It runs at the lowest priority: it shares a
    CPU with the bystander, whose own process must not be what slows the bystander."""
    import asyncio

    os.nice(19)

    async def run() -> dict:
        statuses: dict[str, int] = {}
        rng = random.Random(spec["seed"])
        headers = {"authorization": f"Bearer {spec['token']}", "content-type": "application/json"}
        deadline = time.monotonic() + spec["seconds"]
        async with httpx.AsyncClient(headers=headers, timeout=120) as http:
            async def client(index: int) -> None:
                n = index
                while time.monotonic() < deadline:
                    body = hostile_body(ATTACK_KINDS[n % len(ATTACK_KINDS)], n, rng)
                    try:
                        status = str((await http.post(spec["url"], content=body)).status_code)
                    except httpx.TransportError:  # the server closed the connection on a refusal
                        status = "closed"
                    statuses[status] = statuses.get(status, 0) + 1
                    n += spec["connections"]

            await asyncio.gather(*(client(i) for i in range(spec["connections"])))
        return statuses

    return asyncio.run(run())


def bystander(spec: dict) -> dict:
    """The bystander process: `{ viewer { name } }` at a steady rate; its latencies."""
    tokens, latencies, offsets, failures = spec["tokens"], [], [], 0
    interval = 1.0 / spec["rate"]
    body = json.dumps({"query": "{ viewer { name } }"})
    with httpx.Client(timeout=60) as http:
        started = time.perf_counter()
        n = 0
        while (now := time.perf_counter()) - started < spec["seconds"]:
            due = started + n * interval
            if due > now:
                time.sleep(due - now)
            sent = time.perf_counter()
            response = http.post(spec["url"], content=body, headers={
                "authorization": f"Bearer {tokens[n % len(tokens)]}", "content-type": "application/json"})
            latencies.append(time.perf_counter() - sent)
            offsets.append(sent - started)
            failures += response.status_code != 200 or b'"errors"' in response.content
            n += 1
    slowest = sorted(zip(latencies, offsets), reverse=True)[:5]
    latencies.sort()
    return {"requests": len(latencies), "failures": failures,
            "slowest": [(round(1000 * latency, 1), round(offset, 2)) for latency, offset in slowest],
            "p50_ms": round(1000 * statistics.median(latencies), 2),
            "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
            "max_ms": round(1000 * latencies[-1], 2)}


def in_process(role: str, spec: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench.abuse", role, json.dumps(spec)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


def split_cpus(server_pid: int) -> str:
    """Gives the server the first CPU and this process (whose children are the clients) the
    rest, when there are two or more: the clients' work then never takes the server's CPU,
    as on a real network. The description of what was done, for the results."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return "server and clients share one CPU"
    os.sched_setaffinity(server_pid, {cpus[0]})
    os.sched_setaffinity(0, set(cpus[1:]))
    return f"server on CPU {cpus[0]}, clients on CPU {','.join(map(str, cpus[1:]))}"


def unsplit_cpus(cpus: set[int]) -> None:
    os.sched_setaffinity(0, cpus)


def answer_of(process: subprocess.Popen) -> dict:
    out, _ = process.communicate(timeout=600)
    if process.returncode:
        raise RuntimeError(f"a bench.abuse process failed with {process.returncode}")
    return json.loads(out.strip().splitlines()[-1])


# --- the phase -----------------------------------------------------------------------------------


def measure(url: str, log: Path, seconds: float, say) -> tuple[dict[str, str], dict[str, float]]:
    """Rows for the results table and the figures the targets read."""
    rows, values = {}, {}
    calm = viewer_tokens(url, BYSTANDER_TOKENS, "bystander")
    hostile = viewer_tokens(url, ATTACKERS, "attacker")
    cpus = os.sched_getaffinity(0)
    with gateway(url, log, cache_mb=None, rate_limited=True) as server:
        rows["abuse: CPUs"] = split_cpus(server.pid)
        endpoint = server.base + "/graphql"
        spec = {"url": endpoint, "tokens": calm, "rate": BYSTANDER_RATE, "seconds": seconds}
        say(f"abuse: the bystander alone, {seconds:g} s")
        with sampled_rss(server.pid) as calm_peak:
            alone = answer_of(in_process("bystander", spec))
        say(f"abuse: the bystander with {ATTACKERS} attackers, {seconds:g} s")
        attackers = [in_process("attack", {"url": endpoint, "token": token, "seconds": seconds + 2, "seed": n,
                                           "connections": 2}) for n, token in enumerate(hostile)]
        time.sleep(1.0)  # the attack is under way before the bystander starts measuring
        with sampled_rss(server.pid) as attacked_peak:
            loaded = answer_of(in_process("bystander", spec))
            statuses = [answer_of(process) for process in attackers]
        unsplit_cpus(cpus)
    sent = {code: sum(s.get(code, 0) for s in statuses) for code in sorted({c for s in statuses for c in s})}
    rows["abuse: bystander alone p50 / p99 / max ms (requests)"] = (
        f"{alone['p50_ms']} / {alone['p99_ms']} / {alone['max_ms']} ({alone['requests']})")
    rows["abuse: bystander under attack p50 / p99 / max ms (requests)"] = (
        f"{loaded['p50_ms']} / {loaded['p99_ms']} / {loaded['max_ms']} ({loaded['requests']})")
    rows["abuse: bystander under attack, five slowest (ms, at s into the window)"] = ", ".join(
        f"{ms} at {at}" for ms, at in loaded["slowest"])
    rows["abuse: attackers' answers by HTTP status"] = ", ".join(f"{code}: {count:,}" for code, count in sent.items())
    values["abuse_p99_ratio"] = round(loaded["p99_ms"] / alone["p99_ms"], 2)
    rows["abuse: bystander p99 under attack / alone"] = values["abuse_p99_ratio"]
    values["abuse_rss_mb"] = round(max(calm_peak.largest_process, attacked_peak.largest_process) * 1.048576, 1)
    rows["abuse: server peak RSS MiB (alone / under attack)"] = f"{calm_peak.describe()} / {attacked_peak.describe()}"
    values["abuse_bystander_failures"] = alone["failures"] + loaded["failures"]
    curve_rows, curve_values = memory_curve(url, log, say)
    return rows | curve_rows, values | curve_values


def memory_curve(url: str, log: Path, say) -> tuple[dict[str, str], dict[str, float]]:
    rows, values = {}, {}
    token = viewer_tokens(url, 1, "curve")[0]
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    rng = random.Random(7)
    with gateway(url, log, cache_mb=None) as server, httpx.Client(timeout=120, headers=headers) as http:
        endpoint = server.base + "/graphql"
        for label, make in [
            ("1 MB documents", lambda n: json.dumps({"query": "{ viewer { name } }" + " " * n + "#" * 1_000_000})),
            ("16 KB documents", lambda n: hostile_body("document", n, rng)),
            ("1 MB variables", lambda n: hostile_body("variables", n, rng)),
        ]:
            say(f"abuse: RSS over {CURVE_REQUESTS:,} distinct {label}")
            curve = [rss_kib(server.pid) / 1024]
            for n in range(1, CURVE_REQUESTS + 1):
                response = http.post(endpoint, content=make(n))
                assert response.status_code in (200, 400, 413), response.text[:200]
                if n % CURVE_STEP == 0:
                    curve.append(rss_kib(server.pid) / 1024)
            rows[f"abuse: RSS MiB after 0, {CURVE_STEP}, ... {CURVE_REQUESTS:,} distinct {label}"] = " ".join(
                f"{mib:.0f}" for mib in curve)
            values["curve_peak_mb"] = round(max(values.get("curve_peak_mb", 0), max(curve) * 1.048576), 1)
        say(f"abuse: {LONG_NAMES} operations named with 16,000 characters, then /metrics")
        for n in range(LONG_NAMES):
            name = f"op{n}_{rng.getrandbits(32):x}" + "N" * 16_000
            http.post(endpoint, content=json.dumps({"query": f"query {name} {{ viewer {{ name }} }}"}))
        size = len(httpx.get(server.base + "/metrics").content)
    rows[f"abuse: /metrics bytes after {LONG_NAMES} long operation names"] = f"{size:,}"
    values["metrics_bytes"] = size
    return rows, values


if __name__ == "__main__":
    role, spec = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps({"attack": attack, "bystander": bystander}[role](spec)))
