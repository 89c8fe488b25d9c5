"""Batches of two workers meeting on the same inbox rows: each event still applied, promptly.

Another session stands in for the other worker: it holds a row lock the way a worker counting
a duplicate's hit does (an UPDATE of the row, not yet committed). A batch that meets such a
lock must wait for it, not take it for a sign that someone else applies the event: skipped,
the event waited for the sweep (INBOX_SWEEP_GRACE_SECONDS, two minutes), or, for a refund
parked for its payment, for good.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import psycopg
import pytest
from django.db import connection

from monolith.inbox.intake import IntakeOutcome, inbox_envelopes_take
from monolith.inbox.models import InboxEvent, InboxStatus
from monolith.orders.models import Order
from monolith.orders.state_machine import OrderStatus

from .database_sessions import order_locked, other_session, sessions_waiting_on_a_lock
from .factories import make_order
from .running_stack import wait_until
from .webhook_envelopes import inbox_event_of, payment_event, refund_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

WAIT_SECONDS = 30.0


class _BatchThread(threading.Thread):
    """inbox_envelopes_take on a connection of its own, as a worker's batch runs."""

    def __init__(self, envelopes: list[bytes], wrapper: Callable[..., Any] | None = None):
        super().__init__(daemon=True)
        self.envelopes = envelopes
        self.wrapper = wrapper
        self.outcome: IntakeOutcome | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            hooked = connection.execute_wrapper(self.wrapper) if self.wrapper else nullcontext()
            with hooked:
                self.outcome = inbox_envelopes_take(self.envelopes)
        except BaseException as error:  # handed to the test's thread, which re-raises it
            self.error = error
        finally:
            connection.close()

    def finish(self) -> IntakeOutcome:
        self.join(WAIT_SECONDS)
        assert not self.is_alive(), "the batch did not finish"
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome


def _waits_or_ends(batch: _BatchThread) -> None:
    """Until the batch waits on a lock, or has ended (it did not wait)."""
    wait_until(
        lambda: bool(sessions_waiting_on_a_lock()) or not batch.is_alive(),
        timeout=WAIT_SECONDS,
        what="the batch waiting on the locked row, or ending",
        interval=0.02,
    )


def _hit_counting(session: psycopg.Connection, event: InboxEvent) -> None:
    """What a worker counting a duplicate's hit holds until it commits: the row's lock."""
    session.execute(
        "UPDATE inbox_inboxevent SET duplicate_hits = duplicate_hits + 1 WHERE id = %s",
        [event.pk],
    )


def test_an_event_whose_order_was_held_is_applied_when_its_row_is_locked_by_a_hit_count(
    product,
) -> None:
    order = make_order((product, 1))
    payment = payment_event(order.payment)
    second_pass = threading.Event()
    counting = threading.Event()
    passes = 0

    def before_each_lock(execute, sql, params, many, context):
        # The batch locks its events once, then, for those whose order another batch held,
        # a second time: let a hit count take the row just then.
        nonlocal passes
        if "FOR UPDATE" in sql and "inbox_inboxevent" in sql:
            passes += 1
            if passes == 2:
                second_pass.set()
                assert counting.wait(WAIT_SECONDS)
        return execute(sql, params, many, context)

    # Another batch holds the order, so the batch leaves its event for a second pass.
    with order_locked(order.pk) as other:
        batch = _BatchThread([payment], wrapper=before_each_lock)
        batch.start()
        assert second_pass.wait(WAIT_SECONDS), "the batch never took its held event again"
        _hit_counting(other, inbox_event_of(payment))
        counting.set()
        _waits_or_ends(batch)
        other.commit()  # the other batch and the hit count end
        outcome = batch.finish()

    assert +outcome.outcomes == {InboxStatus.APPLIED: 1}
    event = inbox_event_of(payment)
    assert (event.status, event.duplicate_hits) == (InboxStatus.APPLIED, 1)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


@pytest.mark.parametrize("payments", [1, 2], ids=["one by one", "set-based"])
def test_a_parked_refund_is_applied_with_its_payment_while_its_row_is_locked_by_a_hit_count(
    product, payments: int
) -> None:
    orders = [make_order((product, 1)) for _ in range(payments)]
    refund = refund_event(orders[0].payment)
    inbox_envelopes_take([refund])
    assert inbox_event_of(refund).status == InboxStatus.PARKED  # it overtook its payment

    with other_session() as other:
        _hit_counting(other, inbox_event_of(refund))
        batch = _BatchThread([payment_event(order.payment) for order in orders])
        batch.start()
        _waits_or_ends(batch)
        other.commit()
        outcome = batch.finish()

    assert +outcome.outcomes == {InboxStatus.APPLIED: payments}
    event = inbox_event_of(refund)
    assert (event.status, event.duplicate_hits) == (InboxStatus.APPLIED, 1)
    assert Order.objects.get(pk=orders[0].pk).status == OrderStatus.REFUNDED


def _after_the_parked_lookup(looked: threading.Event, release: threading.Event):
    """A hook for a payment's batch: once it has looked for the refunds parked for its
    payment, hold its transaction open (uncommitted) until ``release``."""

    def hook(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "FOR UPDATE" in sql and "inbox_inboxevent" in sql and InboxStatus.PARKED in params:
            looked.set()
            assert release.wait(WAIT_SECONDS)
        return result

    return hook


@pytest.mark.parametrize("payments", [1, 2], ids=["one by one", "set-based"])
def test_a_refund_naming_only_the_providers_id_racing_its_payment_is_not_left_parked(
    product, payments: int
) -> None:
    """Two workers: one applies a payment, the other the refund that names it only by the
    provider's id (pi_…), which no row carries until the payment is applied. The refund's
    batch reads the payment while the payment's batch has applied it and looked for parked
    refunds but not committed: it must end applied, not parked for good."""
    orders = [make_order((product, 1)) for _ in range(payments)]
    looked, release = threading.Event(), threading.Event()
    payment_batch = _BatchThread(
        [payment_event(order.payment) for order in orders],
        wrapper=_after_the_parked_lookup(looked, release),
    )
    payment_batch.start()
    assert looked.wait(WAIT_SECONDS), "the payment's batch never looked for parked refunds"

    refund = refund_event(orders[0].payment, by_provider_id=True)
    refund_batch = _BatchThread([refund])
    refund_batch.start()
    _waits_or_ends(refund_batch)
    release.set()
    assert +payment_batch.finish().outcomes == {InboxStatus.APPLIED: payments}
    refund_batch.finish()

    event = inbox_event_of(refund)
    assert event.status == InboxStatus.APPLIED, f"the refund was left {event.status}"
    assert Order.objects.get(pk=orders[0].pk).status == OrderStatus.REFUNDED
