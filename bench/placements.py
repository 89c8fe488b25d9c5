"""Placements benchmark (issue #15): the same shop run `hybrid` and `monolith`, side by side.

    .venv/bin/python bench/placements.py                        # alone
    .venv/bin/python bench/placements.py --placements-jobs 3 --placements-webhooks 200
    .venv/bin/python bench/run.py --only placements             # the same, through make bench

- hybrid: the monolith's web process (gunicorn) and worker, the processing service's API
  (gunicorn) and worker, the webhook functions' server (PROCESSING_PLACEMENT=service,
  WEBHOOK_RECEIVERS_PLACEMENT=function);
- monolith: the monolith's web process (gunicorn) and one worker, both placements `inline`.

Measured for each, on PostgreSQL and RabbitMQ (databases and a vhost of the run's own):

(a) Job round trip: a process with the monolith's settings writes an outbox row the way the
    shop does (`order_invoice_request` for a one-line order, `product_image_renditions_request`
    for a new product image of a 2000×1500 JPEG), inside a transaction, and polls the row
    until it is `succeeded`. Sequential, after warm-ups; p50 and p95.
(b) Webhook acknowledgement: one signed payment event POSTed to the placement's receiver by
    a few threads, a new connection per request; p50 and p99 of the 202, requests/s.
(c) Memory: after (a) and (b), the PSS of every process tree the placement needs.

The processes and their settings: bench/placements_stack.py; the measures:
bench/placements_measures.py; the report: bench/placements_report.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script: make the `bench` package importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera_testsupport import rabbitmq_vhost_url

from bench import machine, placements_report, postgres, server
from bench.placements_measures import JOB_KINDS, jobs_measure, memory_measure, webhooks_measure
from bench.placements_stack import (
    API_WORKERS,
    CARRIER_SECRETS,
    PLACEMENTS,
    VHOST,
    WEB_WORKERS,
    WORKER_CONCURRENCY,
    Setup,
    placement_start,
    processing_database_url,
    services_check,
    source_image_write,
)
from bench.progress import BenchmarkFailure, progress
from bench.webhooks import Run

NAME = "placements"
DESCRIPTION = (
    "hybrid vs monolith placement: job round trip (invoice, rendition), webhook ack, memory"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's own flags."""
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--placements-jobs", type=int, default=20, help="timed jobs per kind and placement"
    )
    group.add_argument(
        "--placements-job-warmups", type=int, default=5, help="untimed jobs per kind first"
    )
    group.add_argument(
        "--placements-webhooks", type=int, default=2000, help="timed webhook deliveries"
    )
    group.add_argument(
        "--placements-webhook-warmups", type=int, default=200, help="untimed deliveries first"
    )
    group.add_argument(
        "--placements-concurrency", type=int, default=8, help="webhook sender threads"
    )
    group.add_argument(
        "--placements-poll-ms",
        type=float,
        default=5.0,
        help="how often the outbox row is read (the round trip's resolution)",
    )
    group.add_argument(
        "--placements-database-url",
        default=postgres.local_database_url("tessera_bench_placements"),
        help="the monolith's PostgreSQL database (dropped and recreated; the processing "
        "service's is the same name with _processing)",
    )
    group.add_argument(
        "--placements-rabbitmq-url",
        default="amqp://guest:guest@127.0.0.1:5672//",
        help=f"RabbitMQ; the run uses its own vhost {VHOST!r}",
    )


def placement_measure(setup: Setup, placement: str) -> dict[str, Any]:
    with ExitStack() as stack:
        stack.callback(progress, NAME, f"{placement}: processes stopped")
        running = placement_start(setup, placement, stack)
        jobs = jobs_measure(setup, running, placement)
        webhooks = webhooks_measure(setup, running, placement)
        memory = memory_measure(running)
        print(
            f"    memory {memory['total_mib']} MiB ({memory['measure']}): "
            + ", ".join(f"{name} {c['mib']}" for name, c in memory["components"].items()),
            flush=True,
        )
    return {
        "settings": PLACEMENTS[placement],
        "processes": list(memory["components"]),
        "jobs": jobs,
        "webhooks": webhooks,
        "memory": memory,
    }


def ratios(results: dict[str, Any]) -> dict[str, float]:
    hybrid, monolith = results["hybrid"], results["monolith"]

    def ratio(a: float, b: float) -> float:
        return round(a / b, 2) if b else 0.0

    figures = {
        f"{kind}_{p}": ratio(monolith["jobs"][kind][f"{p}_ms"], hybrid["jobs"][kind][f"{p}_ms"])
        for kind in JOB_KINDS
        for p in ("p50", "p95")
    }
    for key in ("p50_ms", "p99_ms", "requests_per_second"):
        figures[f"webhook_{key}"] = ratio(monolith["webhooks"][key], hybrid["webhooks"][key])
    figures["memory_total"] = ratio(monolith["memory"]["total_mib"], hybrid["memory"]["total_mib"])
    return figures


def run(arguments: argparse.Namespace) -> None:
    """Measure both placements and write docs/benchmarks/placements.{json,md,png}."""
    if arguments.placements_jobs < 1 or arguments.placements_webhooks < 1:
        raise BenchmarkFailure("--placements-jobs and --placements-webhooks need at least 1")
    services_check(arguments.placements_database_url, arguments.placements_rabbitmq_url)
    described = machine.machine_describe()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tessera-bench-placements-") as folder:
        workdir = Path(folder)
        source_image_write(workdir / "media")
        setup = Setup(
            run=Run(
                workdir=workdir,
                broker_url=rabbitmq_vhost_url(arguments.placements_rabbitmq_url, VHOST),
                database_url=arguments.placements_database_url,
                carrier_secret=CARRIER_SECRETS,
                django_environment={},
            ),
            processing_database_url=processing_database_url(arguments.placements_database_url),
            processing_port=server.free_port(),
            arguments=arguments,
        )
        try:
            results = {placement: placement_measure(setup, placement) for placement in PLACEMENTS}
        except BaseException:
            for log in sorted(workdir.glob("*.log")):
                text = log.read_text(errors="replace")[-1500:]
                print(f"--- {log.name} (end)\n{text}")
            raise
        software = {
            **machine.package_versions("django", "gunicorn", "celery", "kombu", "pyvips", "fpdf2"),
            "postgresql": postgres.server_version(arguments.placements_database_url),
        }
    report = {
        "benchmark": NAME,
        "machine": described,
        "software": software,
        "elapsed_s": round(time.monotonic() - started),
        "options": {
            "jobs": arguments.placements_jobs,
            "job_warmups": arguments.placements_job_warmups,
            "webhooks": arguments.placements_webhooks,
            "webhook_warmups": arguments.placements_webhook_warmups,
            "concurrency": arguments.placements_concurrency,
            "poll_ms": arguments.placements_poll_ms,
            "web_workers": WEB_WORKERS,
            "api_workers": API_WORKERS,
            "worker_concurrency": WORKER_CONCURRENCY,
            "functions_workers": arguments.gunicorn_workers,
            "functions_threads": arguments.gunicorn_threads,
        },
        "placements": results,
        "ratios_monolith_to_hybrid": ratios(results),
    }
    output_dir = Path(arguments.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = [output_dir / f"{NAME}.json", output_dir / f"{NAME}.md"]
    written[0].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    written[1].write_text(placements_report.markdown_render(report))
    written.append(placements_report.chart_write(report, output_dir / placements_report.CHART_NAME))
    if index := placements_report.index_update(output_dir):
        written.append(index)
    print(json.dumps(report["ratios_monolith_to_hybrid"], indent=2), flush=True)
    for path in written:
        progress(NAME, f"wrote {path}")


if __name__ == "__main__":
    # bench/run.py imports this module: started as a script, hand over to it as `--only`.
    import runpy

    sys.argv[1:1] = ["--only", NAME]
    runpy.run_module("bench.run", run_name="__main__", alter_sys=True)
