"""Publishing webhook envelopes to the broker queue ``tessera.webhooks``, confirmed.

The broker is configuration (a kombu URL). Every publish either returns after the broker
confirmed the message (RabbitMQ publisher confirms, Redis's reply to LPUSH, the file written,
SQS's answer) or raises :class:`BrokerUnavailableError` within a bounded time, so the HTTP
edge can answer 202 or 503 and never acknowledge a message the broker does not hold.
"""

import contextlib
import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any

from kombu import Connection, Exchange, Producer, Queue
from tessera_contract.messaging import WEBHOOK_QUEUE

from tessera_functions.settings import BROKER_TIMEOUT_SECONDS

__all__ = [
    "BrokerUnavailableError",
    "WebhookEnvelopePublisher",
    "webhook_queue",
]

logger = logging.getLogger(__name__)

_AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})


def webhook_queue() -> Queue:
    """The durable queue the monolith drains, bound to a direct exchange of the same name.

    Declared by both sides with these exact arguments (RabbitMQ refuses a redeclaration that
    differs), so whichever starts first creates it and no message is routed to nowhere.
    """
    exchange = Exchange(WEBHOOK_QUEUE, type="direct", durable=True)
    return Queue(WEBHOOK_QUEUE, exchange, routing_key=WEBHOOK_QUEUE, durable=True)


class BrokerUnavailableError(Exception):
    """The broker did not confirm the message in time; nothing may be acknowledged."""


class _Publication:
    """One request's envelope, from the moment it waits for the broker to its outcome.

    ``outcome`` is None while pending, True once the broker confirmed the message, or the
    exception that means it is not known to be queued. A thread waiting for it sleeps on
    ``wakeup``, which is released once: when its outcome is set, or when it is handed the lead
    (``successor``).
    """

    __slots__ = (
        "deadline",
        "envelope",
        "event_id",
        "outcome",
        "successor",
        "traceparent",
        "wakeup",
        "woken",
    )

    def __init__(self, envelope: bytes, *, event_id: str, traceparent: str, deadline: float):
        self.envelope = envelope
        self.event_id = event_id
        self.traceparent = traceparent
        self.deadline = deadline
        self.outcome: bool | Exception | None = None
        self.successor = False
        self.wakeup = threading.Lock()
        self.wakeup.acquire()
        self.woken = False

    def wake(self) -> None:
        """Let the waiting thread go on (once; call with the pipeline's lock held)."""
        if not self.woken:
            self.woken = True
            self.wakeup.release()


def _message_publish(producer: Producer, publication: _Publication, timeout: float) -> None:
    producer.publish(
        publication.envelope,
        exchange=WEBHOOK_QUEUE,
        routing_key=WEBHOOK_QUEUE,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,  # persistent: RabbitMQ writes it to disk before confirming
        headers={"traceparent": publication.traceparent},
        message_id=publication.event_id,
        retry=False,
        timeout=timeout,
    )


def _connection_open(
    url: str, *, transport_options: Mapping[str, object], timeout: float
) -> Connection:
    connection = Connection(url, connect_timeout=timeout, transport_options=dict(transport_options))
    try:
        # One attempt, no back-off sleeps: retrying is the sender's job, after our 503.
        connection.ensure_connection(max_retries=0)
    except Exception:
        connection.collect()
        raise
    return connection


def _connection_close(connection: Connection, *, graceful: bool) -> None:
    try:
        if graceful:
            connection.release()
        else:
            # A failed broker may not answer a close handshake either; dropping the socket
            # keeps the 503 inside the time budget.
            connection.collect()
    except Exception:
        logger.debug("closing a broker connection raised", exc_info=True)


class WebhookEnvelopePublisher:
    """Broker connections kept per process, reused across requests (and warm Lambda calls).

    On RabbitMQ the requests in flight share one connection whose publishes are pipelined
    (:class:`_AmqpConfirmPipeline`); on the other brokers, whose confirmation is the answer to
    the call itself, each request in flight takes a connection of its own from a pool
    (:class:`_ConnectionPool`).
    """

    def __init__(
        self,
        url: str,
        *,
        transport_options: Mapping[str, object],
        timeout_seconds: float = BROKER_TIMEOUT_SECONDS,
    ) -> None:
        """Publish to the broker at ``url``; every wait is bounded by ``timeout_seconds``."""
        self._timeout_seconds = timeout_seconds
        strategy = (
            _AmqpConfirmPipeline if url.split("://", 1)[0] in _AMQP_SCHEMES else _ConnectionPool
        )
        self._strategy: _AmqpConfirmPipeline | _ConnectionPool = strategy(
            url, transport_options=dict(transport_options), timeout_seconds=timeout_seconds
        )

    def webhook_envelope_publish(self, envelope: bytes, *, event_id: str, traceparent: str) -> None:
        """Put one encoded envelope on ``tessera.webhooks``; return once the broker has it.

        The body is the envelope's JSON as is (no Celery task wrapping): the monolith
        consumes raw kombu messages from this queue.
        """
        publication = _Publication(
            envelope,
            event_id=event_id,
            traceparent=traceparent,
            deadline=time.monotonic() + self._timeout_seconds,
        )
        self._strategy.publish(publication)
        if publication.outcome is not True:
            # Whatever the transport raised (refused, reset, timed out, nacked), the message
            # is not known to be queued: the sender must retry.
            error = publication.outcome or TimeoutError("no outcome")
            logger.warning("publishing webhook %s failed: %r", event_id, error)
            raise BrokerUnavailableError(type(error).__name__) from error

    def broker_check(self) -> None:
        """Raise when the broker cannot be reached now (for ``/readyz``)."""
        self._strategy.broker_check()

    def close(self) -> None:
        """Close every idle connection politely (tests, and servers shutting down)."""
        self._strategy.close()


class _ConnectionPool:
    """One connection per request in flight, for brokers that confirm within the call.

    Each request takes an idle connection from the pool, or a new one, so the pool grows to
    the server's concurrency (its threads; one on Lambda) and no further. After any failure
    the failed connection and the idle ones are dropped (a broker that failed one is likely to
    have failed all), so the next request connects afresh rather than writing into a
    half-dead socket.
    """

    def __init__(
        self, url: str, *, transport_options: dict[str, object], timeout_seconds: float
    ) -> None:
        self._url = url
        self._transport_options = transport_options
        self._timeout_seconds = timeout_seconds
        self._queue = webhook_queue()
        self._lock = threading.Lock()  # guards the idle list only, never a broker call
        self._idle: list[tuple[Connection, Producer]] = []

    def publish(self, publication: _Publication) -> None:
        link: tuple[Connection, Producer] | None = None
        try:
            link = self._link_take()
            # kombu declares the queue once per connection (it remembers what it declared).
            link[1].maybe_declare(self._queue)
            _message_publish(link[1], publication, self._timeout_seconds)
        except Exception as error:
            publication.outcome = error
            self._links_drop(link)
            return
        publication.outcome = True
        self._link_return(link)

    def broker_check(self) -> None:
        link: tuple[Connection, Producer] | None = None
        try:
            link = self._link_take()
        except Exception:
            self._links_drop(link)
            raise
        self._link_return(link)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, _ in idle:
            _connection_close(connection, graceful=True)

    def _link_take(self) -> tuple[Connection, Producer]:
        with self._lock:
            if self._idle:
                return self._idle.pop()  # the most recently used: the least likely stale
        connection = _connection_open(
            self._url, transport_options=self._transport_options, timeout=self._timeout_seconds
        )
        try:
            return connection, Producer(connection.channel())
        except Exception:
            connection.collect()
            raise

    def _link_return(self, link: tuple[Connection, Producer]) -> None:
        with self._lock:
            self._idle.append(link)

    def _links_drop(self, failed: tuple[Connection, Producer] | None) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, _ in [*idle, *([failed] if failed else [])]:
            _connection_close(connection, graceful=False)


class _BrokerRefusedError(Exception):
    """RabbitMQ nacked the message (it could not take responsibility for it)."""


class _AmqpConfirmChannel:
    """One RabbitMQ connection with a channel in confirm mode, used by one thread at a time.

    Publishes do not wait: each gets the channel's next delivery tag, and the broker's
    ``basic.ack``/``basic.nack`` (one of them may settle many tags at once) are read later.
    """

    def __init__(self, url: str, *, transport_options: dict[str, object], timeout: float):
        self.connection = _connection_open(
            url, transport_options=transport_options, timeout=timeout
        )
        try:
            # py-amqp's channel: kombu's StdChannel type does not show confirm mode.
            channel: Any = self.connection.channel()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._acknowledged)
            channel.events["basic_nack"].add(self._refused)
            webhook_queue()(channel).declare()
            self._producer = Producer(channel)
        except Exception:
            self.connection.collect()
            raise
        self._interrupted, self._interrupter = socket.socketpair()
        self._interrupter.setblocking(False)
        self._last_tag = 0
        self._unconfirmed: dict[int, _Publication] = {}  # by delivery tag, in tag order
        self.settled: list[tuple[_Publication, bool | Exception]] = []

    def send(self, publication: _Publication, *, timeout: float) -> None:
        """Write one message; its outcome arrives with a later :meth:`confirms_read`."""
        self._last_tag += 1
        self._unconfirmed[self._last_tag] = publication
        _message_publish(self._producer, publication, timeout)

    def confirms_read(self, *, timeout: float) -> None:
        """Wait up to ``timeout`` for the broker's next frame, or until :meth:`interrupt`.

        Settled messages go to ``settled``. Raises ``TimeoutError`` when neither came.
        """
        sock = self.connection.connection.transport.sock
        if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
            readable, _, _ = select.select([sock, self._interrupted], [], [], timeout)
            if self._interrupted in readable:
                self._interrupted.recv(4096)
            if not readable:
                raise TimeoutError("the broker sent nothing within the time limit")
            if sock not in readable:
                return
        self.connection.drain_events(timeout=timeout)

    def interrupt(self) -> None:
        """End a :meth:`confirms_read` early (from another thread): there is more to write."""
        with contextlib.suppress(OSError):  # full: it is interrupted already; closed: over
            self._interrupter.send(b"\0")

    def unconfirmed(self) -> list[_Publication]:
        """What was written and not yet settled."""
        return list(self._unconfirmed.values())

    def close(self, *, graceful: bool) -> None:
        _connection_close(self.connection, graceful=graceful)
        self._interrupted.close()
        self._interrupter.close()

    def _acknowledged(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, True)

    def _refused(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, _BrokerRefusedError(f"nack {delivery_tag}"))

    def _settle(self, delivery_tag: int, multiple: bool, outcome: bool | Exception) -> None:
        if not multiple:
            publication = self._unconfirmed.pop(delivery_tag, None)
            if publication is not None:
                self.settled.append((publication, outcome))
            return
        for tag in [tag for tag in self._unconfirmed if tag <= delivery_tag]:
            self.settled.append((self._unconfirmed.pop(tag), outcome))


class _AmqpConfirmPipeline:
    """RabbitMQ: the requests in flight in one process share a connection, pipelined.

    A confirmed publish costs a round trip to the broker's disk. Waiting for it per message,
    each request on a connection of its own, capped a process at its threads' worth of round
    trips (the profile in ``docs/benchmarks/functions.md``). Here request threads queue their
    message, and whichever finds no one leading takes the lead: it writes every queued
    message, reads the broker's confirms (one ``basic.ack`` may settle many), wakes the
    threads whose message is settled, writes what was queued meanwhile, and so on until its
    own message is settled; then it hands the lead to one thread still waiting, if any. Every
    request still returns only once the broker confirmed its own message, or fails; on Lambda
    (one request at a time) this is one publish and one confirm.

    After any failure the connection is dropped and every message written on it and not
    confirmed fails (its sender retries after our 503); the next leader connects afresh.
    """

    def __init__(
        self, url: str, *, transport_options: dict[str, object], timeout_seconds: float
    ) -> None:
        self._url = url
        self._transport_options = transport_options
        self._timeout_seconds = timeout_seconds
        self._lock = threading.Lock()  # guards the fields below and outcomes, no broker call
        self._queued: list[_Publication] = []
        self._leading = False
        self._leader_waiting = False  # the leader waits for the broker: poke it to write more
        self._channel: _AmqpConfirmChannel | None = None  # the leader's alone

    def publish(self, publication: _Publication) -> None:
        with self._lock:
            self._queued.append(publication)
            leading = not self._leading
            self._leading = True
            # Set only while the leader waits on this channel, so it is the leader's.
            waiting_on = self._channel if self._leader_waiting else None
            self._leader_waiting = False
        if waiting_on is not None:
            waiting_on.interrupt()
        while not leading:
            publication.wakeup.acquire(timeout=max(publication.deadline - time.monotonic(), 0))
            with self._lock:
                if publication.outcome is not None:
                    return
                if publication.successor:
                    leading = True
                elif time.monotonic() >= publication.deadline:
                    # Not yet written, it never will be; written, it may still land, and the
                    # sender's retry is then a duplicate the monolith's inbox drops.
                    publication.outcome = TimeoutError("no confirm within the time limit")
                    return
        try:
            self._lead(publication)
        finally:
            self._lead_hand_over()

    def broker_check(self) -> None:
        with self._lock:
            if self._leading:
                return  # requests are publishing: the connection is open and in use
            self._leading = True
        try:
            if self._channel is None:
                self._channel = self._channel_open(time.monotonic() + self._timeout_seconds)
        finally:
            self._lead_hand_over()

    def close(self) -> None:
        with self._lock:
            channel, self._channel = self._channel, None
        if channel is not None:
            channel.close(graceful=True)

    def _channel_open(self, deadline: float) -> _AmqpConfirmChannel:
        return _AmqpConfirmChannel(
            self._url,
            transport_options=self._transport_options,
            timeout=max(deadline - time.monotonic(), 0.05),
        )

    def _lead(self, mine: _Publication) -> None:
        """Write and settle messages until ``mine`` is settled."""
        channel = self._channel
        taken: list[_Publication] = []
        try:
            if channel is None:
                channel = self._channel = self._channel_open(mine.deadline)
            while True:
                with self._lock:
                    self._settled_apply(channel)
                    batch = [queued for queued in self._queued if queued.outcome is None]
                    self._queued.clear()
                    self._leader_waiting = not batch and mine.outcome is None
                taken += batch
                for publication in batch:
                    channel.send(publication, timeout=self._timeout_seconds)
                if mine.outcome is not None:
                    break  # settled, and what was queued meanwhile is written for the next
                if batch:
                    continue  # more may have been queued while writing
                remaining = mine.deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no confirm within the time limit")
                channel.confirms_read(timeout=remaining)
                with self._lock:
                    self._leader_waiting = False
        except Exception as error:
            self._channel = None
            failed = [*taken, mine]
            if channel is not None:
                failed += channel.unconfirmed()
                channel.close(graceful=False)
            with self._lock:
                self._leader_waiting = False
                for publication in failed:
                    if publication.outcome is None:
                        publication.outcome = error
                        publication.wake()

    @staticmethod
    def _settled_apply(channel: _AmqpConfirmChannel) -> None:
        """Give the settled messages their outcome and wake their threads (lock held).

        Confirms may also be read while writing (py-amqp looks for a ``connection.blocked``
        before each publish), so this runs before every decision, not only after a read.
        """
        for publication, outcome in channel.settled:
            if publication.outcome is None:
                publication.outcome = outcome
                publication.wake()
        channel.settled.clear()

    def _lead_hand_over(self) -> None:
        """Wake one thread whose message is still unsettled to lead, or leave the lead free."""
        with self._lock:
            waiting = list(self._queued)
            if self._channel is not None:
                self._settled_apply(self._channel)
                waiting += self._channel.unconfirmed()
            successor = next((each for each in waiting if each.outcome is None), None)
            if successor is None:
                self._leading = False
            else:
                successor.successor = True
                successor.wake()
