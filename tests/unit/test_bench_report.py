"""The bench's targets table (pure): each figure against its target, at the largest size."""

from __future__ import annotations

from bench.report import TRIVIAL, Run, targets
from bench.wrk import Figures


def _run() -> Run:
    run = Run("single")
    for size, slower in (("10k", 1.0), ("1M", 1.5)):
        run.reads[(size, TRIVIAL)] = Figures(1000, 10, 20, 0)
        run.reads[(size, "messages.list, newest page")] = Figures(850, 10 * slower, 20, 0)
        run.reads[(size, "conversations.list, newest page")] = Figures(400, 10, 20, 0)
    run.shares["webhooks accepted/s vs the same POSTs to Envoy + trivial upstream"] = (
        300, 1000, 0.5)
    run.shares["webhooks accepted/s vs Kafka's producer records/s"] = (300, 50_000, None)
    run.sse_p99_ms[200] = 82.0
    run.store["1M"] = (982.0, 12_000.0, 3.0)
    run.rebuild = (1_000_000, 50.0, 2)
    run.reprocess = (60_000, 10.0)
    return run


def test_each_measured_target_is_judged_at_the_largest_size() -> None:
    rows = {figure: (measured, target, met) for figure, measured, target, met in targets(_run())}
    assert rows["messages.list, newest page (1M)"] == ("85% of tags.list", ">= 80%", True)
    assert rows["conversations.list, newest page (1M)"] == ("40% of tags.list", ">= 50%", False)
    assert rows["messages.list, newest page: p50/p99 at 1M vs 10k"] == ("x 1.50", "<= x 1.2", False)
    assert rows[f"{TRIVIAL}: p50/p99 at 1M vs 10k"][2] is True
    assert rows["webhooks accepted/s vs the same POSTs to Envoy + trivial upstream"] == (
        "30%", ">= 50%", False)
    assert "webhooks accepted/s vs Kafka's producer records/s" not in rows  # no target: shown apart
    assert rows["webhook -> message.created on SSE at 200/s: p99"][2] is False
    assert rows["projection: parley rebuild of 1,000,000 records, 2 projector(s)"] == (
        "10,000 records/s per projector", ">= 10,000", True)
    assert rows["parley reprocess of 60,000 raw events"] == ("6,000 events/s", ">= 10,000", False)
    assert rows["Redis memory per message (1M)"] == ("982 bytes", "<= 500", False)


def test_a_run_that_measured_nothing_has_no_targets() -> None:
    assert targets(Run("single")) == []
