"""(c) and (d) of the functions benchmark: the Lambda zip, and cold start through Zappa's handler.

(c) The zip built by `functions/scripts/package_lambda.py`.
(d) A fresh interpreter that sees only the unpacked zip (and the runtime's boto3) imports
    Zappa's `handler` and serves one API Gateway v2 request, for the webhook app and for the
    same handler serving a trivial WSGI app (also bench/django_lambda.py's baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.progress import BenchmarkFailure, phase
from bench.webhooks import PAYMENT_SECRET, Run

# bench/functions.py's NAME: the benchmark its progress lines name.
BENCHMARK = "functions"
REPO_ROOT = Path(__file__).resolve().parents[1]

COLD_RUNNER = """
import json, sys, time
started = time.perf_counter()
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from handler import lambda_handler
imported = time.perf_counter()
answer = lambda_handler(json.loads(sys.argv[3]), None)
served = time.perf_counter()
print(json.dumps({"status": answer["statusCode"], "import_ms": (imported - started) * 1000,
                  "total_ms": (served - started) * 1000}))
"""

TRIVIAL_APP = '''"""A trivial WSGI application: the cold-start baseline."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"status": "ok"}']
'''


def healthz_event() -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) GET /healthz on the $default stage."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/healthz",
        "rawQueryString": "",
        "headers": {"host": "id.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {
            "http": {"method": "GET", "path": "/healthz", "protocol": "HTTP/1.1",
                     "sourceIp": "198.51.100.7", "userAgent": "tessera-bench"},
            "requestId": "bench", "routeKey": "$default", "stage": "$default",
        },
        "isBase64Encoded": False,
    }  # fmt: skip


def lambda_zip_build(run: Run) -> Path:
    output = run.workdir / "functions-lambda.zip"
    subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "functions" / "scripts" / "package_lambda.py"),
            f"--output={output}",
            f"--build-dir={run.workdir / 'lambda-build'}",
        ],
        check=True,
        capture_output=True,
    )
    return output


def lambda_folders(archive: Path, run: Run) -> tuple[Path, Path, Path]:
    """(webhook app code, trivial app code, runtime packages), unpacked as Lambda would."""
    webhook = Path(tempfile.mkdtemp(prefix="task-", dir="/tmp"))
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(webhook)
    trivial = Path(tempfile.mkdtemp(prefix="task-", dir="/tmp"))
    shutil.rmtree(trivial)
    shutil.copytree(webhook, trivial, symlinks=True)
    (trivial / "bench_trivial_app.py").write_text(TRIVIAL_APP)
    settings_file = trivial / "zappa_settings.py"
    text = settings_file.read_text()
    text = text.replace("APP_MODULE='tessera_functions.wsgi'", "APP_MODULE='bench_trivial_app'")
    if "APP_MODULE='bench_trivial_app'" not in text:
        raise BenchmarkFailure("zappa_settings.py in the zip names no tessera_functions.wsgi")
    settings_file.write_text(text)
    # What Lambda's python3.11 runtime provides besides the function's code (one list, shared
    # with the tests that drive the zips).
    from tessera_testsupport.zappa_lambda import LAMBDA_RUNTIME_PACKAGES

    runtime = run.workdir / "lambda-runtime"
    runtime.mkdir(exist_ok=True)
    site_packages = Path(next(p for p in sys.path if p.endswith("site-packages")))
    for name in LAMBDA_RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site_packages / name)
    return webhook, trivial, runtime


def cold_start_once(code: Path, runtime: Path, run: Run) -> dict[str, float]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "WEBHOOKS_BROKER_URL": run.broker_url,
        "PAYMENT_WEBHOOK_SECRETS": PAYMENT_SECRET,
        "CARRIER_WEBHOOK_SECRETS": run.carrier_secret,
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            COLD_RUNNER,
            str(code),
            str(runtime),
            json.dumps(healthz_event()),
        ],
        env=environment,
        cwd=code,
        capture_output=True,
        text=True,
        check=False,
    )
    wall_ms = (time.perf_counter() - started) * 1000
    if completed.returncode != 0:
        raise BenchmarkFailure(f"cold start failed:\n{completed.stderr[-3000:]}")
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    if measured["status"] != 200:
        raise BenchmarkFailure(f"cold start answered {measured['status']}")
    return {
        "import_ms": measured["import_ms"],
        "total_ms": measured["total_ms"],
        "wall_ms": wall_ms,
    }


def lambda_measure(arguments: argparse.Namespace, run: Run) -> dict[str, Any]:
    with phase(BENCHMARK, "Lambda zip: package_lambda.py"):
        archive = lambda_zip_build(run)
    size = archive.stat().st_size
    print(f"    {size:,} bytes", flush=True)
    webhook, trivial, runtime = lambda_folders(archive, run)
    samples: dict[str, list[dict[str, float]]] = {"webhook app": [], "trivial WSGI app": []}
    try:
        with phase(BENCHMARK, f"cold start: {arguments.cold_starts} fresh interpreters per app"):
            # Alternated, so a slower moment of the machine hits both alike.
            for _ in range(arguments.cold_starts):
                samples["webhook app"].append(cold_start_once(webhook, runtime, run))
                samples["trivial WSGI app"].append(cold_start_once(trivial, runtime, run))
    finally:
        shutil.rmtree(webhook, ignore_errors=True)
        shutil.rmtree(trivial, ignore_errors=True)
    medians = {
        app: {key: round(statistics.median(s[key] for s in runs), 1) for key in runs[0]}
        for app, runs in samples.items()
    }
    return {
        "zip_bytes": size,
        "zip_budget_bytes": 15 * 1024 * 1024,
        "cold_start_median_ms": medians,
        "cold_start_ratio": round(
            medians["webhook app"]["total_ms"] / medians["trivial WSGI app"]["total_ms"], 2
        ),
        "repetitions": arguments.cold_starts,
    }
