"""The inbox's Prometheus metric: what became of each webhook event the worker took in.

``tessera_inbox_events_total{source,outcome}``, counted once the transaction that decided the
outcome has committed (a rolled-back attempt counts nothing). Outcomes:

- on recording (the worker's main process): ``recorded``, ``duplicate``, and ``rejected`` for a
  message that is not an envelope;
- on applying (the pool's processes): the event's new status, ``applied``, ``ignored``,
  ``parked``, ``failed`` (will retry) or ``dead_lettered``.

The worker serves it on ``TESSERA_WORKER_METRICS_PORT``; with the prefork pool set
``PROMETHEUS_MULTIPROC_DIR`` too, so the children's counts are summed (docs/observability.md).
"""

from __future__ import annotations

from django.db import transaction
from prometheus_client import Counter

INBOX_EVENTS = Counter(
    "tessera_inbox_events",
    "Webhook events the monolith's worker took in, by source and outcome (recorded, duplicate, "
    "rejected, applied, ignored, parked, failed, dead_lettered).",
    ["source", "outcome"],
)


def inbox_outcome_count(*, source: str, outcome: str) -> None:
    """Count one outcome once the current transaction commits (at once outside of one)."""
    transaction.on_commit(lambda: INBOX_EVENTS.labels(source, outcome).inc())
