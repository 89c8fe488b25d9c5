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

from celery import bootsteps
from django.db import DatabaseError, close_old_connections, connections
from kombu import Consumer, Exchange, Message, Queue
from kombu.transport.virtual import Channel

from .events import InvalidPayloadError

logger = logging.getLogger(__name__)

WEBHOOK_QUEUE_NAME = "tessera.webhooks"


def webhook_queue() -> Queue:
    """Declared exactly as the functions declare it (RabbitMQ refuses a differing redeclare)."""
    exchange = Exchange(WEBHOOK_QUEUE_NAME, type="direct", durable=True)
    return Queue(WEBHOOK_QUEUE_NAME, exchange, routing_key=WEBHOOK_QUEUE_NAME, durable=True)


def webhook_message_handle(message: Message) -> None:
    """Record one envelope, then acknowledge; reject what can never be recorded."""
    from .services import inbox_event_record

    body = message.body
    raw = body if isinstance(body, bytes) else (body or "").encode()
    # The consumer is long-lived: drop a connection the database closed or that outlived
    # CONN_MAX_AGE, as Django does around each request.
    close_old_connections()
    try:
        result = inbox_event_record(raw=raw)
    except InvalidPayloadError as error:
        # Not an envelope: redelivering it would fail the same way for ever.
        logger.error("rejecting a message that is not a webhook envelope: %s", error)
        message.reject()
        return
    except DatabaseError:
        logger.exception("could not record a webhook envelope; it stays on the queue")
        message.requeue()
        return
    if result.duplicate:
        logger.info("duplicate webhook %s recorded, not applied again", result.event)
    message.ack()


class WebhookInboxConsumerStep(bootsteps.ConsumerStep):
    """Adds the `tessera.webhooks` consumer to every worker of the monolith's Celery app."""

    def get_consumers(self, channel: Channel) -> list[Consumer]:
        return [
            Consumer(
                channel,
                queues=[webhook_queue()],
                on_message=webhook_message_handle,
                accept=["json"],
                prefetch_count=10,
            )
        ]

    def shutdown(self, c: Any) -> None:
        super().shutdown(c)
        connections.close_all()

    def __repr__(self) -> str:
        return "<step: webhook inbox consumer>"
