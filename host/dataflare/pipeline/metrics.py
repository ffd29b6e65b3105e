"""A run's counters in the Prometheus text format, through prometheus-client.

The executor keeps plain counters (`stats.RunStats`) and `HotPlug` counts
swaps; a custom collector reads them at scrape time, so running a batch
costs nothing extra when nobody scrapes. Series (every counter per stage,
labelled ``stage``; records also by ``kind`` and ``role``):

* ``dataflare_records_in_total``, ``dataflare_records_out_total``,
  ``dataflare_records_errored_total``, ``dataflare_records_dropped_total``
  (what in/out mean per kind: `dataflare.pipeline.stats`);
* ``dataflare_traps_total``: guest calls that trapped;
* ``dataflare_limits_hit_total``: records that failed on a limit;
* ``dataflare_swaps_total``: hot-plug requests, ``outcome`` applied or refused;
* ``dataflare_batch_seconds``: a histogram of the time from taking a source
  batch to every sink having it;
* ``dataflare_run_seconds``: how long the run has been going.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from dataflare.pipeline.hotplug import HotPlug
from dataflare.pipeline.stats import BATCH_BUCKETS, RunStats

__all__ = ["CONTENT_TYPE", "RunCollector", "metrics_text"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text format's content type."""


class RunCollector(Collector):
    """Yields the `dataflare_*` series of one run from its stats and hot plug."""

    def __init__(self, stats: RunStats, hotplug: HotPlug | None = None) -> None:
        self.stats = stats
        self.hotplug = hotplug

    def collect(self) -> Iterator[Metric]:
        """Every series, read now."""
        stages = list(self.stats.stages.values())
        labels = ["stage", "kind", "role"]
        records = {
            "in": ("records_in", "Records a stage was given (sources: none)."),
            "out": ("records_out", "Records a stage passed on (sources: read; sinks: written)."),
            "errored": ("errors", "Records that failed in a stage, whatever its on_error did."),
            "dropped": ("dropped", "Records a filter dropped."),
        }
        for name, (field, doc) in records.items():
            family = CounterMetricFamily(f"dataflare_records_{name}", doc, labels=labels)
            for s in stages:
                family.add_metric([s.id, s.kind, s.role], getattr(s, field))
            yield family
        traps = CounterMetricFamily(
            "dataflare_traps", "Guest calls that trapped.", labels=["stage"]
        )
        limits = CounterMetricFamily(
            "dataflare_limits_hit", "Records that failed on a limit.", labels=["stage"]
        )
        for s in stages:
            traps.add_metric([s.id], s.traps)
            limits.add_metric([s.id], s.limits)
        yield traps
        yield limits
        swaps = CounterMetricFamily(
            "dataflare_swaps", "Hot-plug requests by outcome.", labels=["stage", "outcome"]
        )
        counts = self.hotplug.swaps() if self.hotplug is not None else {}
        for (stage, ok), count in sorted(counts.items()):
            swaps.add_metric([stage, "applied" if ok else "refused"], count)
        yield swaps
        times = self.stats.batches
        cumulative = list(accumulate(times.counts))
        buckets = [(str(bound), n) for bound, n in zip(BATCH_BUCKETS, cumulative, strict=False)]
        buckets.append(("+Inf", cumulative[-1]))
        histogram = HistogramMetricFamily(
            "dataflare_batch_seconds",
            "Seconds from taking a source batch until every sink has it.",
        )
        histogram.add_metric([], buckets, sum_value=times.total)
        yield histogram
        yield GaugeMetricFamily(
            "dataflare_run_seconds", "Seconds since the run started.", value=self.stats.elapsed
        )


def metrics_text(stats: RunStats, hotplug: HotPlug | None = None) -> bytes:
    """The run's series in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunCollector(stats, hotplug))
    return generate_latest(registry)
