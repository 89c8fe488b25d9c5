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
from tessera_contract.messaging import WEBHOOK_QUEUE

from tessera_functions.settings import BROKER_TIMEOUT_SECONDS

__all__ = [
    "BrokerUnavailableError",
    "WebhookEnvelopePublisher",
    "webhook_queue",
]

logger = logging.getLogger(__name__)


def webhook_queue() -> Queue:
    """The durable queue the monolith drains, bound to a direct exchange of the same name.

    Declared by both sides with these exact arguments (RabbitMQ refuses a redeclaration that
    differs), so whichever starts first creates it and no message is routed to nowhere.
    """
    exchange = Exchange(WEBHOOK_QUEUE, type="direct", durable=True)
    return Queue(WEBHOOK_QUEUE, exchange, routing_key=WEBHOOK_QUEUE, durable=True)


class BrokerUnavailableError(Exception):
    """The broker did not confirm the message in time; nothing may be acknowledged."""


class _BrokerLink:
    """One broker connection and the producer on its channel: one confirmed publish at a time."""

    def __init__(self, url: str, *, transport_options: Mapping[str, object], timeout: float):
        connection = Connection(
            url, connect_timeout=timeout, transport_options=dict(transport_options)
        )
        try:
            # One attempt, no back-off sleeps: retrying is the sender's job, after our 503.
            connection.ensure_connection(max_retries=0)
            self.producer = Producer(connection.channel())
        except Exception:
            connection.collect()
            raise
        self.connection = connection

    def close(self, *, graceful: bool = False) -> None:
        try:
            if graceful:
                self.connection.release()
            else:
                # A failed broker may not answer a close handshake either; dropping the
                # socket keeps the 503 inside the time budget.
                self.connection.collect()
        except Exception:
            logger.debug("closing a broker connection raised", exc_info=True)


class WebhookEnvelopePublisher:
    """Broker connections kept per process, reused across requests (and warm Lambda calls).

    A publisher-confirm channel carries one message at a time, so each request in flight takes
    a connection of its own: an idle one from the pool, or a new one. The pool therefore grows
    to the server's concurrency (its threads; one on Lambda) and no further, and confirms of
    concurrent requests overlap instead of queueing behind one connection. After any failure
    the failed connection and the idle ones are dropped (a broker that failed one is likely to
    have failed all), so the next request connects afresh rather than writing into a
    half-dead socket.
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
        self._lock = threading.Lock()  # guards the idle list only, never a broker call
        self._idle: list[_BrokerLink] = []

    def webhook_envelope_publish(self, envelope: bytes, *, event_id: str, traceparent: str) -> None:
        """Put one encoded envelope on ``tessera.webhooks``; return once the broker has it.

        The body is the envelope's JSON as is (no Celery task wrapping): the monolith
        consumes raw kombu messages from this queue.
        """
        link: _BrokerLink | None = None
        try:
            link = self._link_take()
            link.producer.publish(
                envelope,
                exchange=self._queue.exchange,
                routing_key=WEBHOOK_QUEUE,
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
            self._links_drop(link)
            raise BrokerUnavailableError(type(error).__name__) from error
        self._link_return(link)

    def broker_check(self) -> None:
        """Raise when the broker cannot be reached now (for ``/readyz``)."""
        link: _BrokerLink | None = None
        try:
            link = self._link_take()
        except Exception:
            self._links_drop(link)
            raise
        self._link_return(link)

    def close(self) -> None:
        """Close every idle connection politely (tests, and servers shutting down)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for link in idle:
            link.close(graceful=True)

    def _link_take(self) -> _BrokerLink:
        with self._lock:
            if self._idle:
                return self._idle.pop()  # the most recently used: the least likely stale
        return _BrokerLink(
            self._url, transport_options=self._transport_options, timeout=self._timeout_seconds
        )

    def _link_return(self, link: _BrokerLink) -> None:
        with self._lock:
            self._idle.append(link)

    def _links_drop(self, failed: _BrokerLink | None) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for link in [*idle, *([failed] if failed else [])]:
            link.close()
