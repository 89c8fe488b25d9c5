"""Prometheus metrics every component exposes on ``GET /metrics``.

Names (all prefixed ``tessera_``):

- ``http_request_duration_seconds{method,route,status}``: request latency, by route pattern;
- ``webhook_deliveries_total{source,result}``: what the functions answered each delivery;
- ``job_duration_seconds{kind,outcome}``: one processing job attempt, by its final status;
- ``queue_depth{queue}``: messages waiting in a broker queue, read from the broker on scrape.

With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn with several workers, Celery's prefork pool)
every process writes its samples to files there and a scrape sums them; the variable must be
set before the process imports prometheus_client, and the folder emptied when the server
starts. Without it, each process answers for itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = [
    "HTTP_REQUEST_DURATION",
    "JOB_DURATION",
    "WEBHOOK_DELIVERIES",
    "QueueDepthCollector",
    "http_method_label",
    "metrics_exposition",
    "metrics_http_server_start",
]

logger = logging.getLogger(__name__)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus-client writes there at the first observation and fails when it is missing.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

HTTP_REQUEST_DURATION = Histogram(
    "tessera_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route pattern and status code.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBHOOK_DELIVERIES = Counter(
    "tessera_webhook_deliveries",
    "Webhook deliveries by source and result (accepted, ignored, rejected_signature, invalid, "
    "too_large, broker_unavailable).",
    ["source", "result"],
)
JOB_DURATION = Histogram(
    "tessera_job_duration_seconds",
    "Time a processing worker spent on one job attempt, by kind and outcome.",
    ["kind", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
)

_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def http_method_label(method: str) -> str:
    """The method, or ``other``: a label must not take whatever a client sends."""
    return method if method in _KNOWN_METHODS else "other"


class QueueDepthCollector:
    """Reads the depth of broker queues when scraped, bounded in time and cached briefly.

    Each scrape costs one broker connection and a passive declare per queue; answers are
    reused for ``cache_seconds`` so several scrapers do not multiply that. A broker that does
    not answer within ``timeout_seconds`` gives ``tessera_queue_depth_up 0`` and no depth,
    rather than a scrape that hangs.
    """

    def __init__(
        self,
        *,
        broker_url: str,
        queues: Sequence[str],
        transport_options: Mapping[str, Any] | None = None,
        timeout_seconds: float = 1.0,
        cache_seconds: float = 5.0,
    ) -> None:
        """Read ``queues`` on the broker at ``broker_url``."""
        self._broker_url = broker_url
        self._queues = list(queues)
        self._transport_options = {
            **dict(transport_options or {}),
            **_bounded_options(broker_url, timeout_seconds),
        }
        self._timeout_seconds = timeout_seconds
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._read_at = -float("inf")
        self._depths: dict[str, int] | None = None

    def collect(self) -> Iterable[Metric]:
        """Yield ``tessera_queue_depth{queue}`` and ``tessera_queue_depth_up``."""
        depths = self._depths_cached()
        up = GaugeMetricFamily(
            "tessera_queue_depth_up", "Whether the broker answered the last depth reading."
        )
        up.add_metric([], 0.0 if depths is None else 1.0)
        yield up
        depth = GaugeMetricFamily(
            "tessera_queue_depth", "Messages waiting in a broker queue.", labels=["queue"]
        )
        for queue, count in (depths or {}).items():
            depth.add_metric([queue], float(count))
        yield depth

    def _depths_cached(self) -> dict[str, int] | None:
        with self._lock:
            if time.monotonic() - self._read_at > self._cache_seconds:
                self._depths = self._depths_read()
                self._read_at = time.monotonic()
            return self._depths

    def _depths_read(self) -> dict[str, int] | None:
        from kombu import Connection, Queue
        from kombu.exceptions import ChannelError

        depths: dict[str, int] = {}
        try:
            with Connection(
                self._broker_url,
                connect_timeout=self._timeout_seconds,
                transport_options=self._transport_options,
            ) as connection:
                connection.ensure_connection(max_retries=0)
                for queue in self._queues:
                    # A channel per queue: RabbitMQ closes the channel of a failed declare.
                    channel = connection.channel()
                    try:
                        # kombu's stubs type the declare-ok as a string; it is a 3-tuple.
                        declared: Any = Queue(queue, no_declare=True)(channel).queue_declare(
                            passive=True
                        )
                        depths[queue] = int(declared[1])
                    except ChannelError:
                        depths[queue] = 0  # not declared yet: nothing ever waited in it
                    finally:
                        _close_quietly(channel)
        except Exception:
            logger.warning("reading queue depths from the broker failed", exc_info=True)
            return None
        return depths


def _close_quietly(channel: Any) -> None:
    try:
        channel.close()
    except Exception:
        logger.debug("closing a broker channel raised", exc_info=True)


def _bounded_options(url: str, timeout_seconds: float) -> dict[str, Any]:
    scheme = url.split("://", 1)[0]
    if scheme in {"amqp", "pyamqp"}:
        return {"read_timeout": timeout_seconds, "write_timeout": timeout_seconds}
    if scheme in {"redis", "rediss"}:
        return {"socket_connect_timeout": timeout_seconds, "socket_timeout": timeout_seconds}
    return {}


def metrics_exposition(collectors: Sequence[Any] = ()) -> tuple[bytes, str]:
    """The body and content type of a ``/metrics`` answer for this process (or all of them).

    ``collectors`` are read on every call (the queue depth); they are not registered
    globally, so a component builds them from its settings.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if collectors:
        extra = CollectorRegistry(auto_describe=False)
        for collector in collectors:
            extra.register(collector)
        body += generate_latest(extra)
    return body, CONTENT_TYPE_LATEST


def metrics_http_server_start(*, port: int, addr: str = "127.0.0.1") -> None:
    """Serve ``/metrics`` on its own port from a thread (a Celery worker's main process).

    Port 0 (a worker's TESSERA_WORKER_METRICS_PORT left unset) serves nothing. With
    ``PROMETHEUS_MULTIPROC_DIR`` set it answers for every process writing there (the prefork
    children), otherwise for this process only.
    """
    from prometheus_client import start_http_server

    if not port:
        return
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        start_http_server(port, addr=addr, registry=registry)
    else:
        start_http_server(port, addr=addr)
