"""The `tessera.webhooks` queue worker: a Celery consumer step for raw kombu messages.

The webhook functions publish envelopes as plain JSON (no Celery task wrapping), so the
monolith's worker drains the queue with its own kombu consumer, started by Celery's
bootsteps next to the task consumer. It takes envelopes in batches: each batch is recorded
and applied (intake.py) and acknowledged only after that committed, so a crash in between
redelivers it, and the inbox's unique (source, event id) makes the redelivery harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
)
from kombu import Consumer, Exchange, Message, Queue
from kombu.transport.virtual import Channel
from tessera_contract.messaging import WEBHOOK_QUEUE
from tessera_runtime.telemetry.tracing import traced_span

logger = logging.getLogger(__name__)


def webhook_queue() -> Queue:
    """Declared exactly as the functions declare it (RabbitMQ refuses a differing redeclare)."""
    exchange = Exchange(WEBHOOK_QUEUE, type="direct", durable=True)
    return Queue(WEBHOOK_QUEUE, exchange, routing_key=WEBHOOK_QUEUE, durable=True)


class _Batch:
    """The envelopes the consumer holds, taken into the inbox together.

    Full at INBOX_BATCH_SIZE (the prefetch, so the broker never hands more than one batch),
    or, part-filled, once its oldest envelope has waited INBOX_BATCH_WAIT_SECONDS (the
    worker's timer looks several times per wait): a quiet queue's envelope does not wait
    for company, and a busy queue's batches are not cut short by a timer that happened to
    fire just after they began (every batch costs a dozen statements, whatever its size).
    The lock matters where the timer runs in a thread of its own (transports without an
    event loop, the embedded filesystem broker).
    """

    # How often the timer looks, per wait: a part-filled batch waits at most 1/4 longer.
    LOOKS_PER_WAIT = 4

    def __init__(self, size: int, wait_seconds: float) -> None:
        self._size = size
        self._wait_seconds = wait_seconds
        self._messages: list[Message] = []
        self._oldest_at = 0.0
        self._lock = threading.Lock()

    def add(self, message: Message) -> None:
        with self._lock:
            if not self._messages:
                self._oldest_at = time.monotonic()
            self._messages.append(message)
            if len(self._messages) >= self._size:
                self._take_locked()

    def take_when_due(self) -> None:
        """Take a part-filled batch whose oldest envelope has waited long enough."""
        with self._lock:
            if self._messages and time.monotonic() - self._oldest_at >= self._wait_seconds:
                self._take_locked()

    def _take_locked(self) -> None:
        messages, self._messages = self._messages, []
        webhook_messages_take(messages)


def _raw(message: Message) -> bytes:
    body = message.body
    return body if isinstance(body, bytes) else (body or "").encode()


def webhook_messages_take(messages: list[Message]) -> None:
    """Take envelopes into the inbox (recorded, applied), then acknowledge each.

    Nothing is acknowledged before the batch's last commit: a worker killed mid-batch leaves
    every envelope on the queue, and their redelivery finds what did commit as duplicates
    (and applies what was recorded but not applied). A message that is not an envelope is
    rejected (redelivering it would fail for ever). While the database is unreachable, or
    breaks the transaction off (OperationalError), the whole batch goes back to the queue;
    any other database error is narrowed down envelope by envelope, so one that can never
    be stored is rejected (and logged) instead of holding back the rest.
    """
    from .intake import inbox_envelopes_take

    # The consumer is long-lived: drop a connection the database closed or that outlived
    # CONN_MAX_AGE, as Django does around each request.
    close_old_connections()
    try:
        with traced_span(
            "tessera.webhooks receive",
            kind="consumer",
            attributes={
                "messaging.destination.name": WEBHOOK_QUEUE,
                "messaging.batch.message_count": len(messages),
            },
        ):
            outcome = inbox_envelopes_take([_raw(message) for message in messages])
    except (OperationalError, InterfaceError):
        # Unreachable, or a transaction it broke off (a lock timeout, a serialization
        # failure): either way the batch can be taken again as it is.
        logger.exception(
            "the database could not take the batch: %d envelope(s) stay queued", len(messages)
        )
        for message in messages:
            message.requeue()
        return
    except DatabaseError:
        if len(messages) > 1:
            logger.exception(
                "a batch of %d envelopes failed; taking them one by one", len(messages)
            )
            for message in messages:
                webhook_messages_take([message])
            return
        logger.exception(
            "an envelope the inbox cannot store, rejected: %r", _raw(messages[0])[:2000]
        )
        messages[0].reject()
        return
    invalid = set(outcome.invalid)
    for position, message in enumerate(messages):
        if position in invalid:
            message.reject()
        else:
            message.ack()


class WebhookInboxConsumerStep(bootsteps.ConsumerStep):
    """Adds the `tessera.webhooks` consumer to every worker of the monolith's Celery app.

    Envelopes are taken into the inbox in batches (see _Batch); several workers share the
    queue, each with batches of its own, and the inbox's unique (source, event id) and row
    locks keep every event applied once.
    """

    _batch: _Batch | None = None
    _batch_timer: Any = None

    def start(self, c: Any) -> None:
        super().start(c)
        wait = settings.INBOX_BATCH_WAIT_SECONDS
        if self._batch is not None and c.timer is not None:
            self._batch_timer = c.timer.call_repeatedly(
                wait / _Batch.LOOKS_PER_WAIT, self._batch.take_when_due
            )

    def stop(self, c: Any) -> None:
        self._batch_timer_cancel()
        super().stop(c)

    def _batch_timer_cancel(self) -> None:
        if self._batch_timer is not None:
            self._batch_timer.cancel()
            self._batch_timer = None

    def get_consumers(self, channel: Channel) -> list[Consumer]:
        size = settings.INBOX_BATCH_SIZE
        self._batch = _Batch(size, settings.INBOX_BATCH_WAIT_SECONDS)
        return [
            Consumer(
                channel,
                queues=[webhook_queue()],
                on_message=self._batch.add,
                accept=["json"],
                # One batch in hand at most: the rest of a burst stays on the broker, where
                # another worker can take it.
                prefetch_count=size,
            )
        ]

    def shutdown(self, c: Any) -> None:
        self._batch_timer_cancel()
        super().shutdown(c)
        connections.close_all()

    def __repr__(self) -> str:
        return "<step: webhook inbox consumer>"
