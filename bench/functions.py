"""Webhook functions benchmark: ingestion against a bare WSGI app, a 20,000-event burst end to
end, the Lambda zip's size, and cold start through Zappa's handler against a trivial app.

    .venv/bin/python bench/run.py --only functions

(a) Ingestion (bench/functions_ingestion.py): wrk POSTs one correctly signed payment event to
    the functions (verify, validate, publish to RabbitMQ with publisher confirms, 202) and to
    a bare WSGI app that reads the body and answers 202, both under the same gunicorn
    configuration in one run.
(b) Burst (bench/burst.py; its report, bench/burst_report.py): the sandbox's burst mode sends
    N signed payment events (with duplicates and refunds sent before their payment) through
    the functions to RabbitMQ, where the monolith's Celery workers apply them to orders in
    PostgreSQL: drained by 1 and by 2 workers (scale-out), and live (lag, charted); lost = 0
    and applied = unique events are checked.
(c) The Lambda zip built by `functions/scripts/package_lambda.py` (bench/functions_lambda.py).
(d) Cold start (bench/functions_lambda.py): a fresh interpreter that sees only the unpacked
    zip (and the runtime's boto3) imports Zappa's `handler` and serves one API Gateway v2
    request, for the webhook app and for the same handler serving a trivial WSGI app.

The report is written by bench/functions_report.py; what the parts share (the run, the signed
event, the functions' settings) is in bench/webhooks.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench import (
    burst,
    burst_report,
    functions_report,
    loadgen,
    machine,
    postgres,
)
from bench.functions_ingestion import ingestion_measure
from bench.functions_lambda import lambda_measure
from bench.webhooks import VHOST, run_prepare

NAME = "functions"
DESCRIPTION = "webhook ingestion vs a bare WSGI app; 20k-event burst lag; Lambda zip; cold start"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's own flags (the burst's in bench/burst.py)."""
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--functions-database-url",
        default=postgres.local_database_url("tessera_bench_functions"),
        help="PostgreSQL database for the burst's monolith (dropped and recreated)",
    )
    group.add_argument(
        "--functions-rabbitmq-url",
        default="amqp://guest:guest@127.0.0.1:5672//",
        help=f"RabbitMQ; the run uses its own vhost {VHOST}_<run>, deleted at exit",
    )
    burst.add_arguments(group)
    group.add_argument("--gunicorn-workers", type=int, default=2, help="functions' workers")
    group.add_argument("--gunicorn-threads", type=int, default=8, help="threads per worker")
    group.add_argument("--cold-starts", type=int, default=15, help="repetitions per app")
    group.add_argument(
        "--ingestion-rounds",
        type=int,
        default=3,
        help="measures per target, the targets alternating; the ratio is their medians'",
    )


def software_versions() -> dict[str, str]:
    return machine.package_versions("gunicorn", "kombu", "celery", "zappa", "django")


def rabbitmq_version() -> str:
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        return "unknown"
    completed = subprocess.run(
        [rabbitmqctl, "version"], capture_output=True, text=True, timeout=60, check=False
    )
    return completed.stdout.strip() or "unknown"


def run(arguments: argparse.Namespace) -> None:
    """Run (a)–(d) and write docs/benchmarks/functions.json and .md."""
    described = machine.machine_describe()
    wrk = loadgen.wrk_ensure()
    output_dir = Path(arguments.output_dir)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-functions-") as folder:
        run_ = run_prepare(arguments, Path(folder))
        try:
            ingestion = ingestion_measure(arguments, run_, wrk)
            burst_figures = burst.burst_measure(arguments, run_)
            lam = lambda_measure(arguments, run_)
        except BaseException:
            for log in sorted(Path(folder).glob("*.log")):
                print(f"--- {log.name} (end)\n{log.read_text(errors='replace')[-2000:]}")
            raise
        software = {
            **software_versions(),
            "wrk": loadgen.wrk_version(wrk),
            "rabbitmq": rabbitmq_version(),
            "postgresql": postgres.server_version(run_.database_url),
        }
    report = {
        "benchmark": NAME,
        "machine": described,
        "software": software,
        "gunicorn": {"workers": arguments.gunicorn_workers, "threads": arguments.gunicorn_threads},
        "burst_database": postgres.database_name(arguments.functions_database_url),
        "burst_concurrency": arguments.burst_concurrency,
        "burst_rounds": max(arguments.burst_rounds, 1),
        "ingestion": ingestion,
        "burst": burst_figures,
        "lambda": lam,
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    written = [output_dir / f"{NAME}.json", output_dir / f"{NAME}.md"]
    written.append(burst_report.chart_write(burst_figures, output_dir / burst_report.CHART_NAME))
    written[0].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    written[1].write_text(functions_report.markdown_render(report))
    if index := functions_report.index_update(output_dir):
        written.append(index)
    print()
    live = burst_figures["live"]
    print(
        f"ingestion ratio {ingestion['ratio_events_per_second']}; burst lost {live['lost']}, "
        f"applied {live['applied_events_per_second']}/s, lag p50 {live['lag_s']['p50']} s "
        f"p95 {live['lag_s']['p95']} s; scale-out {burst_figures['scale_out']}; zip "
        f"{lam['zip_bytes']:,} B; cold start ratio {lam['cold_start_ratio']}"
    )
    for path in written:
        print(f"    wrote {path}")
