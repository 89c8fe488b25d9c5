"""(b) of the functions benchmark: a webhook burst end to end, from the sandbox's senders
through the functions and RabbitMQ to the monolith's workers and PostgreSQL.

Two measurements, on a freshly seeded database each:

- drain, once per worker count (1, then 2 by default): the whole burst is queued first (no
  worker runs while it is sent), then the workers start and drain it. The applied rate is
  the workers' own, and its growth from 1 to 2 workers is the scale-out;
- live, with the most workers: the burst is applied while it is sent, as in production. The
  lag from receipt (the function's `received_at`) to the order's update (the inbox row's
  `applied_at`, set in that transaction) is reported, and charted per second of the burst.

Every run fails unless each unique event is recorded once and applied, no order is paid
twice, and every order ends paid or refunded as sent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import postgres, server
from bench.burst_orders import orders_seed_script
from bench.percentiles import percentile
from bench.processes import http_status, process_running, wait_for
from bench.progress import BenchmarkFailure, phase
from bench.webhooks import PAYMENT_SECRET, Run, functions_environment, queues_purge
from scripts import components

# bench/functions.py's NAME: the benchmark its progress lines name.
BENCHMARK = "functions"
SETTLE_TIMEOUT_S = 1800.0


SETTLED_SQL = """
SELECT count(*),
       count(*) FILTER (WHERE status IN ('received', 'failed', 'parked')),
       count(*) FILTER (WHERE status = 'applied'),
       count(*) FILTER (WHERE status NOT IN ('received', 'failed', 'parked', 'applied')),
       coalesce(sum(duplicate_hits), 0)
FROM inbox_inboxevent
"""


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--burst-events", type=int, default=20_000, help="deliveries in the burst")
    group.add_argument("--burst-concurrency", type=int, default=32, help="parallel senders")
    group.add_argument(
        "--burst-workers",
        default="1,2",
        help="monolith worker counts to drain the queued burst with (the live run uses the most)",
    )
    group.add_argument(
        "--burst-rounds",
        type=int,
        default=3,
        help="drains per worker count, the counts alternating; the scale-out is their medians'",
    )


@dataclass(frozen=True)
class Burst:
    """One seeded database and the references its burst pays."""

    references_file: Path
    checkouts: int


def _seed(arguments: argparse.Namespace, run: Run) -> Burst:
    # Each checkout gets its payment; ~10 % a duplicate, ~10 % a refund sent first.
    checkouts = round(arguments.burst_events / 1.2)
    with phase(
        BENCHMARK,
        f"burst: database {postgres.database_name(run.database_url)}, {checkouts:,} orders",
    ):
        postgres.database_recreate(run.database_url)
        server.manage(run.django_environment, "migrate", "--noinput")
        completed = subprocess.run(
            [sys.executable, "-c", orders_seed_script(checkouts)],
            env=run.django_environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise BenchmarkFailure(f"seeding orders failed:\n{completed.stderr}")
        postgres.database_analyze(run.database_url)
    references_file = run.workdir / "references.txt"
    references_file.write_text(completed.stdout)
    return Burst(references_file=references_file, checkouts=checkouts)


def _send(
    arguments: argparse.Namespace, run: Run, burst: Burst, functions_url: str
) -> tuple[dict[str, Any], float]:
    environment = {
        **os.environ,
        "SANDBOX_PAYMENTS_WEBHOOK_URL": f"{functions_url}/webhooks/payments",
        "SANDBOX_CARRIER_WEBHOOK_URL": f"{functions_url}/webhooks/carrier",
        "SANDBOX_PAYMENT_SECRETS": PAYMENT_SECRET,
        "SANDBOX_CARRIER_SECRETS": run.carrier_secret,
        "SANDBOX_RETRY_BASE_SECONDS": "0.5",
    }
    with phase(BENCHMARK, f"burst: sending {arguments.burst_events:,} deliveries"):
        started = time.monotonic()
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "tessera_sandbox",
                "burst",
                f"--events={burst.checkouts}",
                f"--references={burst.references_file}",
                "--amount=1000",
                f"--concurrency={arguments.burst_concurrency}",
                "--duplicates=10",
                "--out-of-order=10",
                "--seed=20261123",
            ],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        send_seconds = time.monotonic() - started
    if completed.returncode != 0:
        raise BenchmarkFailure(f"the burst sender failed:\n{completed.stderr[-3000:]}")
    sent: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    print(f"    {sent}", flush=True)
    return sent, send_seconds


def _workers_start(running: ExitStack, run: Run, count: int) -> list[subprocess.Popen[bytes]]:
    workers = []
    for number in range(1, count + 1):
        name = f"burst-worker-{number}"
        argv = components.celery_worker(
            "monolith",
            *("--loglevel=WARNING", "--concurrency=2", "--without-gossip", "--without-mingle"),
            f"--hostname={name}@%h",
        )
        workers.append(
            running.enter_context(
                process_running(name, argv, run.django_environment, workdir=run.workdir)
            )
        )
    for number, worker in enumerate(workers, start=1):
        wait_for(
            lambda: _consumers(run.broker_url) >= count,
            timeout_s=60,
            what=f"{count} monolith worker(s) consuming",
            process=worker,
            log=run.workdir / f"burst-worker-{number}.log",
        )
    return workers


def _consumers(broker_url: str) -> int:
    """How many consumers the inbox queue has (0 while it is not declared)."""
    from kombu import Connection
    from tessera_contract.messaging import WEBHOOK_QUEUE

    with Connection(broker_url) as connection:
        channel: Any = connection.channel()
        try:
            _, _, consumers = channel.queue_declare(queue=WEBHOOK_QUEUE, passive=True)
        except Exception:  # not declared yet: no worker has started
            return 0
    return int(consumers)


def _settled_wait(run: Run, sent: dict[str, Any], workers: list[subprocess.Popen[bytes]]) -> None:
    def settled() -> bool:
        for number, worker in enumerate(workers, start=1):
            if worker.poll() is not None:
                log = server.log_tail(run.workdir / f"burst-worker-{number}.log")
                raise BenchmarkFailure(f"burst worker {number} exited:\n{log}")
        with psycopg.connect(run.database_url) as connection:
            row = connection.execute(SETTLED_SQL).fetchone()
        assert row is not None
        return bool(row[0] >= sent["unique_events"] and row[1] == 0)

    with phase(BENCHMARK, "burst: waiting until every event is applied"):
        wait_for(settled, timeout_s=SETTLE_TIMEOUT_S, what="every unique event applied")


def _functions_running(arguments: argparse.Namespace, run: Run, running: ExitStack) -> str:
    port = server.free_port()
    functions = running.enter_context(
        process_running(
            "burst-functions",
            components.functions_serve(),
            functions_environment(run, bind=f"127.0.0.1:{port}", arguments=arguments),
            workdir=run.workdir,
        )
    )
    wait_for(
        lambda: http_status(port, "/readyz") == 200,
        timeout_s=30,
        what="functions ready",
        process=functions,
        log=run.workdir / "burst-functions.log",
    )
    return f"http://127.0.0.1:{port}"


def drain_measure(arguments: argparse.Namespace, run: Run, *, workers: int) -> dict[str, Any]:
    """Queue the whole burst, then let ``workers`` workers drain it."""
    burst = _seed(arguments, run)
    queues_purge(run.broker_url)
    with ExitStack() as running:
        functions_url = _functions_running(arguments, run, running)
        sent, send_seconds = _send(arguments, run, burst, functions_url)
        with phase(BENCHMARK, f"burst: {workers} worker(s) draining the queued burst"):
            started = _workers_start(running, run, workers)
            all_consuming = datetime.now(UTC)
            _settled_wait(run, sent, started)
    report = _report(run, sent, send_seconds=send_seconds)
    report.update(_rate_since(run, all_consuming))
    report["workers"] = workers
    return report


def _rate_since(run: Run, since: datetime) -> dict[str, Any]:
    """The applied rate from the moment every worker consumed (the first worker starts
    applying while the second is still starting: counting that would favour one worker)."""
    with psycopg.connect(run.database_url) as connection:
        row = connection.execute(
            "SELECT count(*), extract(epoch FROM max(applied_at) - %s) FROM inbox_inboxevent "
            "WHERE applied_at >= %s",
            [since, since],
        ).fetchone()
    applied, seconds = (int(row[0]), float(row[1] or 0.0)) if row else (0, 0.0)
    return {
        "applied_while_all_consumed": applied,
        "applying_seconds": round(seconds, 1),
        "applied_events_per_second": round(applied / max(seconds, 0.001), 1),
    }


def live_measure(arguments: argparse.Namespace, run: Run, *, workers: int) -> dict[str, Any]:
    """Send the burst while ``workers`` workers apply it; lag and the per-second timeline."""
    burst = _seed(arguments, run)
    queues_purge(run.broker_url)
    with ExitStack() as running:
        functions_url = _functions_running(arguments, run, running)
        started = _workers_start(running, run, workers)
        sent, send_seconds = _send(arguments, run, burst, functions_url)
        _settled_wait(run, sent, started)
    report = _report(run, sent, send_seconds=send_seconds)
    report["workers"] = workers
    report["timeline"] = _timeline(run)
    return report


def burst_measure(arguments: argparse.Namespace, run: Run) -> dict[str, Any]:
    """Drain with each worker count, in rounds, then the live burst with the most workers.

    One drain's rate varies by a fifth from run to run on a shared 2-core machine (836 and
    1,083 events/s for one worker, the same hour), so each count drains several times, the
    counts alternating within a round, and the scale-out compares the medians.
    """
    counts = sorted({int(count) for count in str(arguments.burst_workers).split(",")})
    drains = [
        {**drain_measure(arguments, run, workers=count), "round": number}
        for number in range(1, max(arguments.burst_rounds, 1) + 1)
        for count in counts
    ]
    live = live_measure(arguments, run, workers=counts[-1])
    rates = {
        count: statistics.median(
            drain["applied_events_per_second"] for drain in drains if drain["workers"] == count
        )
        for count in counts
    }
    base = rates[counts[0]]  # the fewest workers: one, by default
    return {
        "drain": drains,
        "drain_median_events_per_second": {str(count): rate for count, rate in rates.items()},
        "live": live,
        "scale_out": {str(count): round(rate / base, 2) for count, rate in rates.items()},
    }


def _report(run: Run, sent: dict[str, Any], *, send_seconds: float) -> dict[str, Any]:
    with psycopg.connect(run.database_url) as connection:
        recorded, _waiting, applied, other, duplicate_hits = connection.execute(
            SETTLED_SQL
        ).fetchone() or (0, 0, 0, 0, 0)
        lags = [
            float(row[0])
            for row in connection.execute(
                "SELECT extract(epoch FROM applied_at - received_at) FROM inbox_inboxevent "
                "WHERE status = 'applied'"
            )
        ]
        payment_lags = [
            float(row[0])
            for row in connection.execute(
                "SELECT extract(epoch FROM applied_at - received_at) FROM inbox_inboxevent "
                "WHERE status = 'applied' AND type = 'payment_intent.succeeded'"
            )
        ]
        applying = connection.execute(
            "SELECT extract(epoch FROM max(applied_at) - min(applied_at)) FROM inbox_inboxevent"
        ).fetchone()
        orders: dict[str, int] = {
            str(status): int(count)
            for status, count in connection.execute(
                "SELECT status, count(*) FROM orders_order GROUP BY status"
            )
        }
        paid_twice = connection.execute(
            "SELECT count(*) FROM (SELECT order_id FROM orders_ordertransition "
            "WHERE to_status = 'paid' AND from_status <> 'paid' GROUP BY order_id "
            "HAVING count(*) > 1) AS twice"
        ).fetchone()
        invoice_jobs = connection.execute(
            "SELECT count(*) FROM jobs_processingjob WHERE kind = 'invoice_pdf'"
        ).fetchone()
    unique = sent["unique_events"]
    lost = unique - recorded
    refunds = unique - sum(orders.values())
    if lost or other or applied != unique:
        raise BenchmarkFailure(
            f"burst: {unique} unique events, {recorded} recorded, {applied} applied, "
            f"{other} ignored or dead-lettered"
        )
    if paid_twice and paid_twice[0]:
        raise BenchmarkFailure(f"burst: {paid_twice[0]} orders were paid twice")
    if orders.get("refunded", 0) != refunds or orders.get("pending_payment", 0):
        raise BenchmarkFailure(f"burst: orders by status {orders}, {refunds} refunds sent")
    applying_seconds = float(applying[0]) if applying and applying[0] else 0.0
    return {
        "deliveries_sent": sent["sent"],
        "acknowledged": sent["acknowledged"],
        "failed": sent["failed"],
        "unique_events": unique,
        "duplicate_hits": int(duplicate_hits),
        "recorded": recorded,
        "applied": applied,
        "lost": lost,
        "orders_by_status": orders,
        "invoice_jobs": int(invoice_jobs[0]) if invoice_jobs else 0,
        "send_seconds": round(send_seconds, 1),
        "sender_events_per_second": round(sent["sent"] / send_seconds, 1),
        "applying_seconds": round(applying_seconds, 1),
        "applied_events_per_second": round(applied / max(applying_seconds, 0.001), 1),
        "sender_ack_s": {
            "p50": round(sent["ack_p50_seconds"], 4),
            "p99": round(sent["ack_p99_seconds"], 4),
        },
        "lag_s": {
            "p50": round(percentile(lags, 0.50), 2),
            "p95": round(percentile(lags, 0.95), 2),
            "max": round(max(lags), 2),
        },
        "payment_lag_s": {
            "p50": round(percentile(payment_lags, 0.50), 2),
            "p95": round(percentile(payment_lags, 0.95), 2),
        },
    }


def _timeline(run: Run) -> list[dict[str, float]]:
    """Per second since the first receipt: events received, events applied, and the lag
    percentiles of the events applied in that second."""
    with psycopg.connect(run.database_url) as connection:
        rows = connection.execute(
            "SELECT extract(epoch FROM received_at - first), extract(epoch FROM applied_at - first)"
            " FROM inbox_inboxevent, (SELECT min(received_at) AS first FROM inbox_inboxevent) s"
            " WHERE status = 'applied'"
        ).fetchall()
    received: dict[int, int] = {}
    lags: dict[int, list[float]] = {}
    for received_s, applied_s in rows:
        received[int(received_s)] = received.get(int(received_s), 0) + 1
        lags.setdefault(int(applied_s), []).append(float(applied_s) - float(received_s))
    last = max([*received, *lags], default=0)
    return [
        {
            "second": second,
            "received": received.get(second, 0),
            "applied": len(lags.get(second, [])),
            "lag_p50_s": round(percentile(lags[second], 0.50), 3) if second in lags else 0.0,
            "lag_p95_s": round(percentile(lags[second], 0.95), 3) if second in lags else 0.0,
            "lag_max_s": round(max(lags[second]), 3) if second in lags else 0.0,
        }
        for second in range(last + 1)
    ]
