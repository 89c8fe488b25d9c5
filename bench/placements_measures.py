"""What the placements benchmark measures in each placement (bench/placements.py):

(a) Job round trip: a process with the monolith's settings writes an outbox row the way the
    shop does, inside a transaction, and polls the row until it is `succeeded`;
(b) Webhook acknowledgement: one signed payment event POSTed to the placement's receiver by
    a few threads, a new connection per request;
(c) Memory: the PSS of every process tree the placement needs.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import server
from bench.percentiles import percentile
from bench.placements_stack import BENCHMARK, SOURCE_IMAGE, SOURCE_SIZE, Running, Setup
from bench.processes import process_tree
from bench.progress import BenchmarkFailure, phase
from bench.webhooks import signed_payment_request

JOB_TIMEOUT_S = 120.0
JOB_KINDS = {
    "invoice": "invoice PDF of a one-line order",
    "rendition": f"image renditions of a {SOURCE_SIZE[0]}×{SOURCE_SIZE[1]} JPEG "
    "(320, 640, 1280 px; WebP and JPEG)",
}

# Run with the monolith's settings: argv kind, count, poll seconds, source location. Each job's
# subject is made first, untimed; the timer starts before the transaction that writes the
# outbox row and stops when a poll sees the row succeeded. Prints the seconds as JSON.
ROUND_TRIP_SCRIPT = r"""
import json, sys, time
from decimal import Decimal
import django
django.setup()
from django.db import transaction
from monolith.catalog.models import Product, ProductImage
from monolith.catalog.renditions import product_image_renditions_request
from monolith.jobs.models import ProcessingJob
from monolith.orders.invoices import order_invoice_request
from monolith.orders.models import Order, OrderLine

kind, source = sys.argv[1], sys.argv[4]
count, poll, timeout = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[5])
product = Product.objects.get(sku="BENCH-1")
first = Order.objects.count()


def subject(number):
    if kind == "rendition":
        return ProductImage.objects.create(product=product, image=source, alt_text="Bench")
    order = Order.objects.create(
        number=f"TS-P{first + number:07d}", email="bench@example.com", currency="EUR",
        subtotal=Decimal("10.00"), shipping=Decimal("0.00"), tax=Decimal("0.00"),
        total=Decimal("10.00"), shipping_name="Bench Shopper", shipping_line1="1 Dock",
        shipping_postal_code="1011", shipping_city="Amsterdam", shipping_country="NL",
    )
    OrderLine.objects.create(order=order, product=product, sku=product.sku, name=product.name,
                             unit_price=Decimal("10.00"), quantity=1, line_total=Decimal("10.00"))
    return order


seconds = []
for number in range(count):
    made = subject(number)
    started = time.perf_counter()
    with transaction.atomic():
        if kind == "rendition":
            job = product_image_renditions_request(image=made)
        else:
            job = order_invoice_request(order=made)
    while True:
        row = ProcessingJob.objects.filter(pk=job.pk).values_list("status", "last_error")
        status, error = row.get()
        if status == "succeeded":
            seconds.append(time.perf_counter() - started)
            break
        if status in {"failed", "dead_lettered", "cancelled"}:
            sys.exit(f"job {job.pk} ({kind}) ended {status}: {error}")
        if time.perf_counter() - started > timeout:
            sys.exit(f"job {job.pk} ({kind}) still {status} after {timeout:.0f} s: {error}")
        time.sleep(poll)
print(json.dumps(seconds))
"""


def round_trips(setup: Setup, running: Running, kind: str, count: int) -> list[float]:
    """`count` jobs of `kind`, one after the other; each one's seconds from the transaction's
    start to the poll that sees its row succeeded."""
    for name, process in running.processes.items():
        if process.poll() is not None:
            raise BenchmarkFailure(f"{name} exited with {process.returncode}")
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            ROUND_TRIP_SCRIPT,
            kind,
            str(count),
            str(setup.arguments.placements_poll_ms / 1000),
            SOURCE_IMAGE,
            str(JOB_TIMEOUT_S),
        ],
        env=running.monolith_environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        logs = "\n".join(
            f"--- {name}.log\n{server.log_tail(setup.run.workdir / f'{name}.log', 15)}"
            for name in running.processes
        )
        raise BenchmarkFailure(f"{kind} round trips failed:\n{completed.stderr[-3000:]}\n{logs}")
    seconds: list[float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return seconds


def jobs_measure(setup: Setup, running: Running, placement: str) -> dict[str, Any]:
    arguments = setup.arguments
    measured: dict[str, Any] = {}
    for kind, description in JOB_KINDS.items():
        with phase(
            BENCHMARK, f"{placement}: {arguments.placements_jobs} {description} round trips"
        ):
            # The warm-ups run in the same process: its first job also opens the connections.
            warmups = arguments.placements_job_warmups
            seconds = round_trips(setup, running, kind, warmups + arguments.placements_jobs)
            seconds = seconds[warmups:]
        milliseconds = [value * 1000 for value in seconds]
        measured[kind] = {
            "jobs": len(milliseconds),
            "p50_ms": round(percentile(milliseconds, 0.5), 1),
            "p95_ms": round(percentile(milliseconds, 0.95), 1),
            "min_ms": round(min(milliseconds), 1),
            "max_ms": round(max(milliseconds), 1),
        }
        print(
            f"    p50 {measured[kind]['p50_ms']} ms, p95 {measured[kind]['p95_ms']} ms",
            flush=True,
        )
    return measured


def deliveries_send(
    url: str, count: int, threads: int
) -> tuple[list[float], dict[int, int], float]:
    """POST the signed event `count` times from `threads` threads, a new connection each time.

    Returns each 202's seconds, the count of every other answer (status 0: a socket error),
    and the wall time of the whole run.
    """
    body, headers = signed_payment_request()
    parts = urlsplit(url)
    latencies: list[float] = []
    others: dict[int, int] = {}
    remaining = iter(range(count))
    lock = threading.Lock()

    def sender() -> None:
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(parts.netloc, timeout=30)
                connection.request("POST", parts.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                connection.close()
            except OSError:
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                if status == 202:
                    latencies.append(elapsed)
                else:
                    others[status] = others.get(status, 0) + 1

    started = time.perf_counter()
    workers = [threading.Thread(target=sender) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, others, time.perf_counter() - started


def webhooks_measure(setup: Setup, running: Running, placement: str) -> dict[str, Any]:
    arguments = setup.arguments
    label = (
        f"{placement}: {arguments.placements_webhooks:,} signed payment webhooks to "
        f"{running.receiver_url} ({arguments.placements_concurrency} threads)"
    )
    with phase(BENCHMARK, label):
        if arguments.placements_webhook_warmups:
            _, others, _ = deliveries_send(
                running.receiver_url,
                arguments.placements_webhook_warmups,
                arguments.placements_concurrency,
            )
            if others:
                raise BenchmarkFailure(f"{placement}: warm-up answers other than 202: {others}")
        latencies, others, wall = deliveries_send(
            running.receiver_url, arguments.placements_webhooks, arguments.placements_concurrency
        )
    milliseconds = [value * 1000 for value in latencies] or [0.0]
    measured = {
        "requests": arguments.placements_webhooks,
        "accepted_202": len(latencies),
        "other_answers": {str(status): number for status, number in sorted(others.items())},
        "requests_per_second": round(arguments.placements_webhooks / wall, 1),
        "p50_ms": round(percentile(milliseconds, 0.5), 2),
        "p99_ms": round(percentile(milliseconds, 0.99), 2),
    }
    print(
        f"    {measured['requests_per_second']} requests/s, p50 {measured['p50_ms']} ms, "
        f"p99 {measured['p99_ms']} ms, non-202 {sum(others.values())}",
        flush=True,
    )
    if others:
        raise BenchmarkFailure(f"{placement}: answers other than 202: {measured['other_answers']}")
    return measured


def process_memory_kib(pid: int) -> tuple[int, str]:
    """The process's PSS in KiB from smaps_rollup, or its RSS where that is unreadable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]), "pss"
    except OSError:
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]), "rss"
    except OSError:
        pass
    return 0, "gone"


def memory_measure(running: Running) -> dict[str, Any]:
    components: dict[str, Any] = {}
    kinds: set[str] = set()
    for name, process in running.processes.items():
        tree = process_tree(process.pid)
        measured = [process_memory_kib(pid) for pid in tree]
        kinds.update(kind for _, kind in measured if kind != "gone")
        components[name] = {
            "processes": len(tree),
            "mib": round(sum(kib for kib, _ in measured) / 1024, 1),
        }
    total = round(sum(component["mib"] for component in components.values()), 1)
    return {"components": components, "total_mib": total, "measure": "/".join(sorted(kinds))}
