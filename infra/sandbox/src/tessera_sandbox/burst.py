"""Burst mode: many signed payment webhooks at once, with duplicates and out-of-order pairs.

For tests and benchmarks. Every checkout gets a `payment_intent.succeeded`; a share of them
is sent twice with the same event id (duplicates), and a share gets a full refund sent
*before* its payment (out of order), which the monolith must park and apply afterwards.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .delivery import DeliveryResult, WebhookSender
from .events import Checkout, payment_event_body, provider_id, refund_event_body


@dataclass
class BurstReport:
    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    unique_events: int = 0
    seconds: list[float] = field(default_factory=list)
    # Every attempt's answer, by status code (or "no answer"), retries included.
    answers: Counter[str] = field(default_factory=Counter)


def burst_plan(
    checkouts: list[Checkout],
    *,
    duplicate_ratio: float,
    out_of_order_ratio: float,
    seed: int | None = None,
) -> tuple[list[bytes], int]:
    """The bodies to send, in sending order, and how many distinct events they hold."""
    # Picks which events repeat or come early; reproducible by seed, nothing secret about it.
    chooser = random.Random(seed)  # noqa: S311
    bodies: list[bytes] = []
    unique = 0
    for checkout in checkouts:
        if chooser.random() < out_of_order_ratio:
            bodies.append(refund_event_body(checkout, event_id=provider_id("evt")))
            unique += 1
        payment = payment_event_body(checkout, outcome="succeeded", event_id=provider_id("evt"))
        bodies.append(payment)
        unique += 1
        if chooser.random() < duplicate_ratio:
            bodies.append(payment)
    return bodies, unique


def burst_run(
    sender: WebhookSender,
    checkouts: list[Checkout],
    *,
    concurrency: int,
    duplicate_ratio: float = 0.0,
    out_of_order_ratio: float = 0.0,
    seed: int | None = None,
) -> BurstReport:
    """Send the burst with `concurrency` parallel senders; each delivery retries on its own."""
    bodies, unique = burst_plan(
        checkouts, duplicate_ratio=duplicate_ratio, out_of_order_ratio=out_of_order_ratio, seed=seed
    )
    report = BurstReport(unique_events=unique)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results: list[DeliveryResult] = list(pool.map(sender.payment_send, bodies))
    for result in results:
        report.sent += 1
        report.seconds.append(result.seconds)
        report.answers.update(result.answers)
        if result.delivered:
            report.acknowledged += 1
        else:
            report.failed += 1
    return report
