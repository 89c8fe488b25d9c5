"""The `tessera.webhooks` queue worker: a Celery consumer step for raw kombu messages.

The webhook functions publish envelopes as plain JSON (no Celery task wrapping), so the
monolith's worker drains the queue with its own kombu consumer, started by Celery's
bootsteps next to the task consumer. Each message is recorded in the inbox in one
transaction and acknowledged only after that commit: a crash in between redelivers it,
and the inbox's unique (source, event id) makes the redelivery harmless.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from celery import bootsteps
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from kombu import Consumer, Exchange, Message, Queue
from kombu.transport.virtual import Channel
from tessera_contract.messaging import WEBHOOK_QUEUE
from tessera_contract.models.base import TraceContext
from tessera_contract.telemetry import traced_span, tracing_enabled

from .events import InvalidPayloadError

logger = logging.getLogger(__name__)


def webhook_queue() -> Queue:
    """Declared exactly as the functions declare it (RabbitMQ refuses a differing redeclare)."""
    exchange = Exchange(WEBHOOK_QUEUE, type="direct", durable=True)
    return Queue(WEBHOOK_QUEUE, exchange, routing_key=WEBHOOK_QUEUE, durable=True)


class _EnvelopeTrace(msgspec.Struct):
    trace: TraceContext | None = None


def _envelope_trace(raw: bytes) -> tuple[str | None, str | None]:
    """The envelope's W3C trace context, read without decoding the rest of it."""
    try:
        trace = msgspec.json.decode(raw, type=_EnvelopeTrace).trace
    except msgspec.DecodeError:
        return None, None  # not an envelope: the handler rejects it, in a trace of its own
    if trace is None:
        return None, None
    return trace.traceparent, trace.tracestate if isinstance(trace.tracestate, str) else None


def webhook_message_handle(message: Message) -> None:
    """Record one envelope, then acknowledge; reject what can never be recorded.

    With tracing on, the recording runs in a consumer span that continues the envelope's trace
    (the webhook function's span), so its SQL and the apply task it queues join that trace.
    """
    body = message.body
    raw = body if isinstance(body, bytes) else (body or "").encode()
    traceparent, tracestate = _envelope_trace(raw) if tracing_enabled() else (None, None)
    with traced_span(
        "tessera.webhooks process",
        traceparent=traceparent,
        tracestate=tracestate,
        kind="consumer",
        attributes={"messaging.destination.name": WEBHOOK_QUEUE},
    ):
        _webhook_message_record(message, raw)


def _webhook_message_record(message: Message, raw: bytes) -> None:
    from .metrics import inbox_outcome_count
    from .services import inbox_event_record

    # The consumer is long-lived: drop a connection the database closed or that outlived
    # CONN_MAX_AGE, as Django does around each request.
    close_old_connections()
    try:
        result = inbox_event_record(raw=raw)
    except InvalidPayloadError as error:
        # Not an envelope: redelivering it would fail the same way for ever.
        logger.error("rejecting a message that is not a webhook envelope: %s", error)
        inbox_outcome_count(source="unknown", outcome="rejected")
        message.reject()
        return
    except DatabaseError:
        logger.exception("could not record a webhook envelope; it stays on the queue")
        message.requeue()
        return
    if result.duplicate:
        logger.info("duplicate webhook %s recorded, not applied again", result.event)
    message.ack()


def _inbox_sweep_queue() -> None:
    """Queue the sweep, unless apply tasks are still waiting on the task queue.

    Runs on the worker's timer in its main process: it only publishes; the sweep itself runs
    in the pool like any other database work. While a backlog waits (a burst), a `received`
    row older than the grace period is usually queued, not lost: sweeping then would only add
    duplicate tasks to the backlog, so the sweep waits until the queue has drained.
    """
    from .tasks import inbox_stuck_sweep

    try:
        backlog = task_queue_backlog(inbox_stuck_sweep.app)
        if backlog:
            logger.info("inbox sweep postponed: %d task(s) still waiting", backlog)
            return
        inbox_stuck_sweep.delay()
    except Exception:
        # A broker hiccup must not kill the timer; the next tick tries again.
        logger.exception("could not queue the inbox sweep")


def task_queue_backlog(app: Any) -> int:
    """Messages ready on the default task queue (0 where the transport cannot tell)."""
    with app.connection_for_read() as connection:
        try:
            _, waiting, _ = connection.default_channel.queue_declare(
                queue=app.conf.task_default_queue, passive=True
            )
        except connection.channel_errors:
            return 0  # not declared yet: nothing waits on it
    return int(waiting or 0)


class WebhookInboxConsumerStep(bootsteps.ConsumerStep):
    """Adds the `tessera.webhooks` consumer to every worker of the monolith's Celery app.

    The same worker also sweeps the inbox: every INBOX_SWEEP_INTERVAL_SECONDS its timer queues
    the `inbox.inbox_stuck_sweep` task, which re-queues events whose application was lost.
    The worker's own timer rather than celery beat: no extra process to deploy and keep
    single, and the sweep is idempotent, so several workers sweeping is harmless.
    """

    _sweep_timer: Any = None

    def start(self, c: Any) -> None:
        super().start(c)
        interval = settings.INBOX_SWEEP_INTERVAL_SECONDS
        if interval > 0 and c.timer is not None:
            self._sweep_timer = c.timer.call_repeatedly(interval, _inbox_sweep_queue)

    def stop(self, c: Any) -> None:
        self._sweep_timer_cancel()
        super().stop(c)

    def _sweep_timer_cancel(self) -> None:
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
            self._sweep_timer = None

    def get_consumers(self, channel: Channel) -> list[Consumer]:
        return [
            Consumer(
                channel,
                queues=[webhook_queue()],
                on_message=webhook_message_handle,
                accept=["json"],
                # One at a time: this consumer runs in the worker's main loop, which also
                # hands tasks to the pool. With 10 prefetched envelopes always waiting in a
                # burst, the loop recorded without pause and the pool sat idle (44 events
                # applied in two minutes of a 20,000-event burst); with 1, recording and
                # applying interleave.
                prefetch_count=1,
            )
        ]

    def shutdown(self, c: Any) -> None:
        self._sweep_timer_cancel()
        super().shutdown(c)
        connections.close_all()

    def __repr__(self) -> str:
        return "<step: webhook inbox consumer>"
