"""Publishing webhook envelopes to the broker queue ``tessera.webhooks``, confirmed.

The broker is configuration (a kombu URL). Every publish either returns after the broker
confirmed the message (RabbitMQ publisher confirms, Redis's reply to LPUSH, the file written,
SQS's answer) or raises :class:`BrokerUnavailableError` within a bounded time, so the HTTP
edge can answer 202 or 503 and never acknowledge a message the broker does not hold.
"""

import logging
import threading
from collections.abc import Mapping

from kombu import Connection, Exchange, Producer, Queue

from tessera_functions.settings import BROKER_TIMEOUT_SECONDS

__all__ = [
    "WEBHOOK_QUEUE_NAME",
    "BrokerUnavailableError",
    "WebhookEnvelopePublisher",
    "webhook_queue",
]

logger = logging.getLogger(__name__)

WEBHOOK_QUEUE_NAME = "tessera.webhooks"


def webhook_queue() -> Queue:
    """The durable queue the monolith drains, bound to a direct exchange of the same name.

    Declared by both sides with these exact arguments (RabbitMQ refuses a redeclaration that
    differs), so whichever starts first creates it and no message is routed to nowhere.
    """
    exchange = Exchange(WEBHOOK_QUEUE_NAME, type="direct", durable=True)
    return Queue(WEBHOOK_QUEUE_NAME, exchange, routing_key=WEBHOOK_QUEUE_NAME, durable=True)


class BrokerUnavailableError(Exception):
    """The broker did not confirm the message in time; nothing may be acknowledged."""


class WebhookEnvelopePublisher:
    """One broker connection per process, reused across requests (and warm Lambda calls).

    Publishes are serialised by a lock: a publisher-confirm channel carries one message at a
    time, and a confirm round trip on a healthy broker is well under a millisecond. After any
    failure the connection is dropped, so the next request connects afresh rather than
    writing into a half-dead socket.
    """

    def __init__(
        self,
        url: str,
        *,
        transport_options: Mapping[str, object],
        timeout_seconds: float = BROKER_TIMEOUT_SECONDS,
    ) -> None:
        """Publish to the broker at ``url``; every wait is bounded by ``timeout_seconds``."""
        self._url = url
        self._transport_options = dict(transport_options)
        self._timeout_seconds = timeout_seconds
        self._queue = webhook_queue()
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def webhook_envelope_publish(self, envelope: bytes, *, event_id: str, traceparent: str) -> None:
        """Put one encoded envelope on ``tessera.webhooks``; return once the broker has it.

        The body is the envelope's JSON as is (no Celery task wrapping): the monolith
        consumes raw kombu messages from this queue.
        """
        with self._lock:
            try:
                producer = self._producer_ready()
                producer.publish(
                    envelope,
                    exchange=self._queue.exchange,
                    routing_key=WEBHOOK_QUEUE_NAME,
                    declare=[self._queue],
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,  # persistent: RabbitMQ writes it to disk before confirming
                    headers={"traceparent": traceparent},
                    message_id=event_id,
                    retry=False,
                    timeout=self._timeout_seconds,
                )
            except Exception as error:
                # Whatever the transport raised (refused, reset, timed out, unroutable), the
                # message is not known to be queued: the sender must retry.
                logger.warning("publishing webhook %s failed", event_id, exc_info=True)
                self._discard()
                raise BrokerUnavailableError(type(error).__name__) from error

    def broker_check(self) -> None:
        """Raise when the broker cannot be reached now (for ``/readyz``)."""
        with self._lock:
            try:
                self._producer_ready()
            except Exception:
                self._discard()
                raise

    def close(self) -> None:
        """Close the connection politely (tests, and servers shutting down)."""
        with self._lock:
            self._discard(graceful=True)

    def _producer_ready(self) -> Producer:
        if self._producer is not None:
            return self._producer
        connection = Connection(
            self._url,
            connect_timeout=self._timeout_seconds,
            transport_options=self._transport_options,
        )
        try:
            # One attempt, no back-off sleeps: retrying is the sender's job, after our 503.
            connection.ensure_connection(max_retries=0)
            producer = Producer(connection.channel())
        except Exception:
            connection.collect()
            raise
        self._connection, self._producer = connection, producer
        return producer

    def _discard(self, *, graceful: bool = False) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        if connection is None:
            return
        try:
            if graceful:
                connection.release()
            else:
                # A failed broker may not answer a close handshake either; dropping the
                # socket keeps the 503 inside the time budget.
                connection.collect()
        except Exception:
            logger.debug("closing a broker connection raised", exc_info=True)
