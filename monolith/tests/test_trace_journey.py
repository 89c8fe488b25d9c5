"""One webhook, one trace: function → queue → monolith worker → database, exported for real.

The webhook functions' local server and a monolith Celery worker run as subprocesses on the
machine's RabbitMQ (vhost `tessera-telemetry-tests`) and the PostgreSQL test database; both
export their spans over OTLP/HTTP to a collector inside the test, which decodes the protobuf
requests. The test sends a signed payment webhook with its own `traceparent` and follows it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from django.db import connection
from kombu import Connection, Queue
from tessera_contract.messaging import MONOLITH_TASK_QUEUE
from tessera_contract.signing import StripeSignatureSigner
from tessera_testsupport import rabbitmq_vhost_url
from tessera_testsupport.otlp import CollectedSpan, OtlpCollector, otlp_collector_running

from monolith.inbox.consumers import webhook_queue
from monolith.orders.models import Order
from monolith.orders.state_machine import OrderStatus
from scripts import components

from .factories import make_order
from .running_stack import StackProcess, free_port, monolith_worker_argv, wait_until
from .webhook_envelopes import payment_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

VHOST = "tessera-telemetry-tests"
PAYMENT_SECRET = "whsec_trace_journey_payments"
PYTHON = sys.executable


def _database_url() -> str:
    database = connection.settings_dict
    password = f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else ""
    host = database["HOST"] or "127.0.0.1"
    port = database["PORT"] or 5432
    return f"postgres://{quote(database['USER'])}{password}@{host}:{port}/{database['NAME']}"


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


def _environment(collector: OtlpCollector, **values: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "PROMETHEUS_", "SANDBOX_"))
    }
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint,
        # Export within a fifth of a second, so the test waits for spans, not for a timer.
        OTEL_BSP_SCHEDULE_DELAY="200",
        **values,
    )
    return env


def _has_consumer(broker_url: str, queue: Queue) -> bool:
    with Connection(broker_url) as broker:
        try:
            # kombu's stubs type the declare-ok as a string; it is a 3-tuple.
            declared: Any = queue(broker.channel()).queue_declare(passive=True)
        except Exception:  # not declared yet: the worker is still starting
            return False
    return bool(declared[2])


@pytest.fixture
def broker_url(rabbitmq_url: str) -> str:
    url = rabbitmq_vhost_url(rabbitmq_url, VHOST)
    with Connection(url) as broker:
        for queue in (webhook_queue(), Queue(MONOLITH_TASK_QUEUE, durable=True)):
            bound = queue(broker.channel())
            bound.declare()
            bound.purge()
    return url


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    with otlp_collector_running() as running:
        yield running


@dataclass(frozen=True)
class TracedStack:
    functions_url: str
    worker_log: Path


@pytest.fixture
def traced_stack(
    broker_url: str, collector: OtlpCollector, tmp_path: Path
) -> Iterator[TracedStack]:
    """The functions' server and a monolith worker (JSON logs), both tracing."""
    functions_url = f"http://127.0.0.1:{free_port()}"
    processes: list[StackProcess] = []
    try:
        functions = StackProcess(
            "functions",
            components.functions_serve(),
            _environment(
                collector,
                WEBHOOKS_BIND=functions_url.removeprefix("http://"),
                WEBHOOKS_BROKER_URL=broker_url,
                WEBHOOKS_WORKERS="1",
                PAYMENT_WEBHOOK_SECRETS=PAYMENT_SECRET,
                CARRIER_WEBHOOK_SECRETS="whsec_dHJhY2Utam91cm5leS1jYXJyaWVyLXNlY3JldA==",
            ),
            tmp_path,
        )
        processes.append(functions)
        worker = StackProcess(
            "worker",
            # The prefork pool: tracing must survive the fork of the pool's children.
            monolith_worker_argv(hostname=f"trace-journey-{os.getpid()}@%h", concurrency=1),
            _environment(
                collector,
                DJANGO_SETTINGS_MODULE="monolith.settings.test",
                DATABASE_URL=_database_url(),
                CELERY_BROKER_URL=broker_url,
                INBOX_SWEEP_INTERVAL_SECONDS="0",
                TESSERA_LOG_FORMAT="json",
            ),
            tmp_path,
        )
        processes.append(worker)
        functions.wait_ready(lambda: _http_ok(f"{functions_url}/readyz"))
        worker.wait_ready(lambda: _has_consumer(broker_url, webhook_queue()))
        yield TracedStack(functions_url=functions_url, worker_log=worker.log_path)
    finally:
        for process in processes:
            process.stop()


def _webhook_send(stack: TracedStack, order: Order, *, traceparent: str) -> None:
    body = json.dumps(
        json.loads(payment_event(order.payment, event_id=f"evt_{order.number.replace('-', '_')}"))[
            "payload"
        ]
    ).encode()
    answer = httpx.post(
        f"{stack.functions_url}/webhooks/payments",
        content=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": StripeSignatureSigner([PAYMENT_SECRET]).header(body),
            "traceparent": traceparent,
        },
    )
    assert answer.status_code == 202, answer.text


def _one(spans: list[CollectedSpan], service: str, name: str) -> CollectedSpan:
    matching = [s for s in spans if s.service == service and name in s.name]
    assert len(matching) == 1, [(s.service, s.name) for s in spans]
    return matching[0]


def test_one_webhook_is_one_trace_from_the_function_to_the_monolith_database(
    traced_stack: TracedStack, collector: OtlpCollector, product
) -> None:
    order = make_order((product, 1))
    trace_id, sender_span_id = secrets.token_hex(16), secrets.token_hex(8)

    _webhook_send(traced_stack, order, traceparent=f"00-{trace_id}-{sender_span_id}-01")
    wait_until(
        lambda: Order.objects.get(pk=order.pk).status == OrderStatus.PAID,
        timeout=30,
        what="the order paid by the worker",
    )

    def complete(spans: list[CollectedSpan]) -> bool:
        # The apply span ends before its consumer span: both exported, the trace is complete.
        names = {(s.service, s.name) for s in spans}
        return {
            ("tessera-functions", "POST /webhooks/payments"),
            ("tessera-monolith-worker", "tessera.webhooks process"),
            ("tessera-monolith-worker", "run/inbox.inbox_event_apply"),
        } <= names

    spans = collector.spans_wait(complete, trace_id=trace_id)

    function = _one(spans, "tessera-functions", "POST /webhooks/payments")
    consumer = _one(spans, "tessera-monolith-worker", "tessera.webhooks process")
    applied = _one(spans, "tessera-monolith-worker", "run/inbox.inbox_event_apply")
    assert function.parent_span_id == sender_span_id
    assert function.kind == "server"
    # The envelope carried the function's span: the consumer is its child, across the queue.
    assert consumer.parent_span_id == function.span_id
    assert consumer.kind == "consumer"
    # The event is applied in the consumer's batch, within the webhook's own consumer span
    # (the batch's INSERT belongs to the batch's span, shared by its envelopes).
    assert applied.trace_id == trace_id
    assert applied.parent_span_id == consumer.span_id
    sql = [s for s in spans if s.attributes.get("db.system") == "postgresql"]
    assert any(s.parent_span_id == applied.span_id for s in sql), "the order update"


def _json_log_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_the_worker_logs_a_duplicate_webhook_as_json_with_its_trace_id(
    traced_stack: TracedStack, product
) -> None:
    order = make_order((product, 1))
    trace_id = secrets.token_hex(16)
    _webhook_send(traced_stack, order, traceparent=f"00-{trace_id}-{secrets.token_hex(8)}-01")
    # The sender's retry of the same event: recorded as a duplicate, logged by the consumer.
    _webhook_send(traced_stack, order, traceparent=f"00-{trace_id}-{secrets.token_hex(8)}-01")

    def duplicate_logged() -> bool:
        return any(
            "duplicate webhook" in line.get("message", "")
            for line in _json_log_lines(traced_stack.worker_log)
        )

    wait_until(duplicate_logged, timeout=30, what="the duplicate logged by the worker")
    logged = next(
        line
        for line in _json_log_lines(traced_stack.worker_log)
        if "duplicate webhook" in line.get("message", "")
    )
    assert logged["trace_id"] == trace_id
    assert len(logged["span_id"]) == 16
    assert logged["levelname"] == "INFO"
    assert logged["name"] == "monolith.inbox.intake"
