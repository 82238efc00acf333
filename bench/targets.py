"""The targets of issues 7, 10, 11 and 15, checked against one run's figures: the section of RESULTS.md that
says, per database, which target is met and by how much a missed one falls short.

A target reads one figure the harness stored under a key (`Results.values`); a figure
missing from a run (a phase skipped, a backend without that target) reads "not measured"
or "no target" rather than passing. Checks of correctness (identical answers, no stale
read, no failed request) sit with the targets: a fast wrong answer meets nothing.
"""

from dataclasses import dataclass

MB_PER_MIB = 1.048576


@dataclass(frozen=True)
class Target:
    label: str
    key: str
    limit: float | None = None  # None: a yes/no check, or a figure to show with op "show"
    op: str = ">="  # ">=" at least, "<=" at most, "<" under; "show": the issue asks only to see it
    unit: str = ""
    backends: tuple[str, ...] | None = None  # None: every backend

    def verdict(self, backend: str, values: dict[str, float | bool]) -> str:
        if self.backends is not None and backend not in self.backends:
            shown = values.get(self.key)
            return "no target" + (f" ({self.show(shown)})" if shown is not None else "")
        value = values.get(self.key)
        if value is None:
            return "not measured"
        if self.op == "show":
            return f"{self.show(value)} (shown; no numeric target)"
        if self.limit is None:
            return "met" if value else "**missed**"
        if self.met(value):
            return f"{self.show(value)}: met"
        missed = f"{self.show(value)}: **missed** by {self.show(abs(value - self.limit))}"
        return f"{missed} ({self.shortfall(value)})" if self.limit else missed

    def met(self, value: float) -> bool:
        return {">=": value >= self.limit, "<=": value <= self.limit, "<": value < self.limit}[self.op]

    def shortfall(self, value: float) -> str:
        if self.op == ">=":
            return f"{value / self.limit:.0%} of the target"
        return f"{value / self.limit:.1f}x the limit"

    def show(self, value: float) -> str:
        return f"{value:.3g}{self.unit}" if isinstance(value, float) else f"{value}{self.unit}"


NO_FAILED_REQUEST = Target("No failed request in any phase", "failed_requests", 0, "<=")


def issue_targets(small: int, main: int, seed_customers: int, seed_subcontractors: int) -> list[Target]:
    """The issue's targets, labelled with the sizes this run used."""
    return [
        Target("Q-map uncached at least 0.5x B-raw (throughput)", "map_ratio", 0.5, ">=", "x"),
        Target("Q-map cached at least 2x B-raw (throughput)", "map_cached_ratio", 2.0, ">=", "x"),
        Target("Q-map uncached throughput at 2 workers / at 1 worker", "workers_ratio", op="show", unit="x"),
        Target("SQL statements per Q-map at most 12", "map_statements", 12, "<="),
        Target("SQL statements per Q-map the same for 10 and 1,000 subcontractors", "map_statements_constant"),
        Target(f"SQL statements per Q-handlings the same at {small:,} and {main:,} customers",
               "handlings_statements_constant"),
        Target(f"Q-handlings p95 under 10 ms at {main:,} customers", "handlings_p95_main", 10.0, "<", " ms"),
        Target(f"Q-handlings p95 at {main:,} customers at most 1.5x its value at {small:,}",
               "handlings_ratio", 1.5, "<=", "x"),
        Target("Server RSS under 300 MB throughout (peak of the serving process, any phase)",
               "rss_peak_mb", 300.0, "<", " MB"),
        Target(f"`seed --scale {seed_customers:,} --subcontractors {seed_subcontractors:,}` under 3 minutes",
               "seed_seconds", 180.0, "<", " s", backends=("SQLite",)),
        Target("Q-map identical to B-raw: uncached, 2 workers, cached, cached after the writes", "answers_identical"),
        NO_FAILED_REQUEST,
    ]


def small_targets() -> list[Target]:
    """Issue 11's targets for small operations (Q-small, bench/run.py `BackendRun.small`)."""
    return [
        Target("(issue 11) Q-small uncached at least 0.5x B-raw (throughput)", "small_ratio", 0.5, ">=", "x"),
        Target("(issue 11) Q-small cached at least 1x B-raw (throughput)", "small_cached_ratio", 1.0, ">=", "x"),
        Target("(issue 11) Q-small identical to B-raw: uncached, cached miss, cached hit", "small_answers_identical"),
    ]


def entities_targets(small: int, main: int) -> list[Target]:
    """Issue 15's: federation's `_entities` for 100 customers with their handlings
    (bench/run.py `BackendRun.entities`); the latency is shown next to Q-handlings'."""
    return [
        Target(f"(issue 15) SQL statements per Q-entities the same for 1 and 100 customers, at {small:,} and "
               f"{main:,} customers", "entities_statements_constant"),
        Target(f"(issue 15) Q-entities p95 at {main:,} customers (100 customers a request)", "entities_p95_main",
               op="show", unit=" ms"),
    ]


def abuse_targets() -> list[Target]:
    """Issue 10's targets (bench/abuse.py)."""
    return [
        Target("(issue 10) bystander p99 under attack under 3x its p99 alone", "abuse_p99_ratio", 3.0, "<", "x"),
        Target("(issue 10) server RSS under 300 MB during the attack", "abuse_rss_mb", 300.0, "<", " MB"),
        Target("(issue 10) no bystander request failed", "abuse_bystander_failures", 0, "<="),
        Target("(issue 10) /metrics under 1 MB after 200 long operation names", "metrics_bytes", 1_000_000, "<",
               " bytes"),
        Target("(issue 10) RSS bounded over 2,000 distinct 1 MB documents, 16 KB documents, 1 MB variables "
               "(peak under 300 MB)", "curve_peak_mb", 300.0, "<", " MB"),
    ]


def targets_table(targets: list[Target], results: list) -> str:
    lines = ["| target (issue 7 unless marked) | " + " | ".join(r.backend for r in results) + " |",
             "|---|" + "---|" * len(results)]
    lines += [f"| {t.label} | " + " | ".join(t.verdict(r.backend, r.values) for r in results) + " |"
              for t in targets]
    return "\n".join(lines)
