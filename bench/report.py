"""What one bench run measured (`Run`), and how it stands against issue targets: each read as a
share of the trivial RPC's req/s, latencies at 1M against 10k, and Parley's rates against what its
parts do alone (`bench.limits`). Pure, so that it is tested without a stack."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import wrk

#: The trivial RPC: every read row is also given as a share of its req/s (same run, same Redis).
TRIVIAL = "tags.list (trivial RPC: the ceiling)"

#: Read paths and the share of the trivial RPC's req/s each should reach.
READ_SHARES: tuple[tuple[str, float], ...] = (
    ("messages.list, newest page", 0.8),
    ("conversations.list, newest page", 0.5),
    ("conversations.list unread_count:[1 TO *]", 0.5),
    ("conversations.list channel_id:bench-channel-3", 0.5),
    ("conversations.list metadata.crm.tier:gold", 0.5),
    ("conversations.list display_name:*abc* (trigram index)", 0.5),
    ("conversations.list unread_count:[2 TO 4]", 0.2),
    ("conversations.list created_at:[* TO <start + 50 s>]", 0.2),
    ("conversations.list tier:gold AND channel AND NOT unread", 0.2),
)
#: Latency at the largest size against the smallest, at most.
LATENCY_GROWTH = 1.2
#: Records projected per second by one projector (`parley rebuild`, nothing else loading), at
#: least.
PROJECTION_PER_S = 10_000
#: Raw events replayed per second by `parley reprocess`, at least.
REPROCESS_PER_S = 10_000
#: Redis memory per message, at most.
BYTES_PER_MESSAGE = 500
#: p99 of webhook -> message.created on SSE at 200 webhooks/s, at most.
SSE_P99_MS = 50.0


@dataclass
class Run:
    """What the bench measured on one Redis, keyed as the tables' rows."""

    redis: str
    #: figure -> (p50, tail, max / rate)
    ingestion: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: (size, read path) -> wrk's figures
    reads: dict[tuple[str, str], wrk.Figures] = field(default_factory=dict)
    #: size -> (used_memory per message in bytes, messages projected per second, seconds the
    #: projection trailed the load)
    store: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    #: what a part alone does on this machine -> its rate per second (`bench.limits`)
    limits: dict[str, float] = field(default_factory=dict)
    #: Parley's figure against a limit -> (Parley's rate, the limit's, the target share or None)
    shares: dict[str, tuple[float, float, float | None]] = field(default_factory=dict)
    #: webhooks per second -> p99 ms of webhook -> message.created on SSE at that rate
    sse_p99_ms: dict[int, float] = field(default_factory=dict)
    #: `parley rebuild` at the largest size: (records replayed, seconds, projectors)
    rebuild: tuple[int, float, int] | None = None
    #: `parley reprocess` of a raw topic: (raw events replayed, seconds)
    reprocess: tuple[int, float] | None = None



#: One row of the targets: figure, what was measured, the target, whether it is met.
Row = tuple[str, str, str, bool]


def targets(run: Run) -> list[Row]:
    """Each target of the run that was measured, at the largest size it reached."""
    sizes = list(dict.fromkeys(size for size, _ in run.reads))
    rows: list[Row] = []
    if sizes:
        small, large = sizes[0], sizes[-1]
        ceiling = run.reads[(large, TRIVIAL)].requests_per_s
        for path, share in READ_SHARES:
            if (large, path) in run.reads:
                got = run.reads[(large, path)].requests_per_s / ceiling
                rows.append((f"{path} ({large})", f"{got:.0%} of tags.list", f">= {share:.0%}",
                             got >= share))
        for (size, path), figures in run.reads.items():
            if size == large and (small, path) in run.reads and small != large:
                base = run.reads[(small, path)]
                growth = max(figures.p50_ms / base.p50_ms, figures.p99_ms / base.p99_ms)
                rows.append((f"{path}: p50/p99 at {large} vs {small}", f"x {growth:.2f}",
                             f"<= x {LATENCY_GROWTH}", growth <= LATENCY_GROWTH))
    for figure, (parley, limit, wanted) in run.shares.items():
        if wanted is not None:
            rows.append((figure, f"{parley / limit:.0%}", f">= {wanted:.0%}",
                         parley / limit >= wanted))
    if 200 in run.sse_p99_ms:
        p99 = run.sse_p99_ms[200]
        rows.append(("webhook -> message.created on SSE at 200/s: p99", f"{p99:.1f} ms",
                     f"<= {SSE_P99_MS:.0f} ms", p99 <= SSE_P99_MS))
    if run.rebuild is not None:
        records, seconds, projectors = run.rebuild
        each = records / seconds / projectors
        rows.append((f"projection: parley rebuild of {records:,} records, {projectors} projector(s)",
                     f"{each:,.0f} records/s per projector", f">= {PROJECTION_PER_S:,}",
                     each >= PROJECTION_PER_S))
    if run.reprocess is not None:
        events, seconds = run.reprocess
        rows.append((f"parley reprocess of {events:,} raw events", f"{events / seconds:,.0f} events/s",
                     f">= {REPROCESS_PER_S:,}", events / seconds >= REPROCESS_PER_S))
    if run.store:
        size, (per_message, _, _) = list(run.store.items())[-1]
        rows.append((f"Redis memory per message ({size})", f"{per_message:,.0f} bytes",
                     f"<= {BYTES_PER_MESSAGE}", per_message <= BYTES_PER_MESSAGE))
    return rows
