"""Two versions of the gateway side by side: `python -m bench.compare OLD_TREE [NEW_TREE]`.

Each tree is a checkout of the project (e.g. `git worktree add /tmp/old <commit>`); the gateway
of each runs from its own code (PYTHONPATH set to the tree) on the same database, with the
response cache off, and the two are loaded in turn, round after round (as `make bench` does for
Q-small), so that other load on the machine falls on both alike. Printed: each round's req/s,
then the mean req/s and the server CPU per request (the process tree's user and system time over
the round, over the answers counted) of each, and new over old. With `--query small` B-raw is
loaded in the same rounds too. Both trees' code must accept the database's revision: `serve`
migrates it to the newer one's, which an older tree refuses to start on (hand a copy of an
older database with `--database`).

It answers "did this change make the read path faster?" on a noisy machine, where two runs of
`make bench` can differ by more than the change.
"""

import argparse
import os
import statistics
from contextlib import ExitStack
from pathlib import Path

from bench import servers
from bench.run import (
    DATA, Q_MAP_BODY, Q_SMALL_BODY, RAW_SMALL_BODY, ROOT, Size, handlings_body, load, prepare, sqlite_url, token_of,
)


def cpu_seconds(pid: int) -> float:
    """User and system CPU of `pid`'s process tree so far."""
    total = 0
    for process in servers.process_tree(pid):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the tree to compare against")
    parser.add_argument("new", nargs="?", default=str(ROOT), help="default: this checkout")
    parser.add_argument("--query", choices=("map", "small", "handlings"), default="map",
                        help="handlings: Q-handlings of customer 1 (the response cache is off)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0, help="per server per round")
    parser.add_argument("--database", help="a database URL (default: a SQLite of 1,000 customers / 1,000 subcontractors)")
    args = parser.parse_args(argv)

    url = args.database
    if url is None:
        size = Size(customers=1000, subcontractors=1000)
        url = sqlite_url(size.name)
        DATA.mkdir(parents=True, exist_ok=True)
        prepare(url, size, reuse=True)
    token = token_of(url)
    body = {"small": Q_SMALL_BODY, "map": Q_MAP_BODY, "handlings": handlings_body(1)}[args.query]
    trees = {"old": args.old, "new": args.new}
    log = DATA / "compare.log"
    rates: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    with ExitStack() as stack:
        running = {}
        for name, tree in trees.items():
            env = servers.environment(url, **{servers.CACHE_SETTING: "0"}) | {"PYTHONPATH": tree}
            command = [str(servers.BIN / "pi-gateway"), "serve", "--workers", "1"]
            running[name] = stack.enter_context(servers.server(command, env, log))
        if args.query == "small":
            running["B-raw"] = stack.enter_context(servers.raw(url, log))
        for number in range(1, args.rounds + 1):
            shown = {}
            for name, server in running.items():
                before = cpu_seconds(server.pid)
                if name == "B-raw":
                    measured = load(server.base, "/raw/small", kind="post", body=RAW_SMALL_BODY,
                                    duration=args.seconds, concurrency=8, client="plain")
                else:
                    measured = load(server.base, "/graphql", kind="post", body=body, token=token,
                                    duration=args.seconds, concurrency=8, client="plain")
                rates.setdefault(name, []).append(measured["rps"])
                cpu.setdefault(name, []).append((cpu_seconds(server.pid) - before) * 1000 / max(1, measured["requests"]))
                shown[name] = measured["rps"]
            print(f"round {number}/{args.rounds} req/s: {shown}", flush=True)
    mean = {name: statistics.mean(values) for name, values in rates.items()}
    print("mean req/s:", {name: round(value, 2) for name, value in mean.items()})
    print("server CPU ms a request (median of rounds):",
          {name: round(statistics.median(values), 3) for name, values in cpu.items()})
    print(f"new / old req/s: {mean['new'] / mean['old']:.3f}")
    if "B-raw" in mean:
        print(f"new / B-raw: {mean['new'] / mean['B-raw']:.3f}; old / B-raw: {mean['old'] / mean['B-raw']:.3f}")


if __name__ == "__main__":
    main()
