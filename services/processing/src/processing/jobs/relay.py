"""The outbox relay, run by every worker's main process: publishes the committed messages
whose publish after commit failed (the broker was down) or never ran (the process died)."""

import logging
import threading
from typing import Any

from celery import signals
from django.conf import settings
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

_stop = threading.Event()
_started = threading.Lock()
_thread: list[threading.Thread] = []


def outbox_relay_loop(stop: threading.Event, interval: float) -> None:
    """Relay due outbox messages every ``interval`` seconds until ``stop`` is set."""
    from processing.jobs.services import outbox_relay

    try:
        while True:
            close_old_connections()
            try:
                published = outbox_relay()
            except Exception:  # the database is down, say: try again next round
                logger.exception("outbox relay round failed")
            else:
                if published:
                    logger.info("outbox relay published %s message(s)", published)
            if stop.wait(interval):
                return
    finally:
        connection.close()


@signals.worker_ready.connect
def _relay_start(**_: Any) -> None:
    # worker_ready comes once the consumer is connected, in the main process only: the pool's
    # children, forked before, never run a relay of their own.
    interval = settings.PROCESSING_OUTBOX_RELAY_INTERVAL_SECONDS
    with _started:
        if _thread or interval <= 0:
            return
        thread = threading.Thread(
            target=outbox_relay_loop, args=(_stop, interval), name="outbox-relay", daemon=True
        )
        thread.start()
        _thread.append(thread)


@signals.worker_shutting_down.connect
def _relay_stop(**_: Any) -> None:
    _stop.set()
