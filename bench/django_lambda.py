"""Django on Lambda: the processing jobs API's zip and cold start through Zappa's handler,
against the slim webhook receivers and Zappa's trivial apps, in one run.

    .venv/bin/python bench/run.py --only django-lambda

(a) Zip sizes: the processing API as shipped (its stage's ``exclude`` trims what only the
    workers import and the static files), the same without that trimming, and the webhook
    functions' zip.
(b) Cold start: a fresh interpreter that sees only an unpacked zip (and the runtime's boto3)
    imports Zappa's ``handler`` and serves one API Gateway v2 ``GET /healthz``; p50/p95 over
    ``--lambda-cold-starts`` runs, the apps alternating so a slower moment hits all alike.
    Apps: the processing API (trimmed, untrimmed, and with fewer installed apps: no admin,
    sessions or messages, a bench-only settings module), the webhook receivers, a trivial
    WSGI app under the same handler, and a minimal Django project (one view, no apps).
(c) Warm requests per second through the handler in one interpreter: ``GET /healthz`` for
    each app, and the processing API's authenticated job creation repeated with its
    idempotency key (token verified, the job read from PostgreSQL).
(d) Where the processing API's cold import goes: ``-X importtime`` by top-level package.

Needs PostgreSQL (a database of its own, dropped and recreated); no broker (``memory://``).
The report is written by bench/django_lambda_report.py.
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
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import django_lambda_report, machine
from bench.functions_lambda import TRIVIAL_APP, healthz_event
from bench.percentiles import percentile
from bench.progress import BenchmarkFailure, phase

NAME = "django-lambda"
DESCRIPTION = "the processing API as a Django Lambda: zip, cold start p50/p95 vs slim and trivial"
REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPTS_DIR = REPO_ROOT / "functions" / "scripts"
# Signs and verifies within one run; nothing outside the run knows them.
SERVICE_TOKEN_KEYS = "bench:bench-only-service-token-key-of-32-bytes!"  # noqa: S105
PAYMENT_SECRET = "whsec_bench_payments"  # noqa: S105
CARRIER_SECRET = "whsec_YmVuY2gtY2Fycmllci1zZWNyZXQtMzItYnl0ZXM="  # noqa: S105

RUNNER = """
import json, sys, time
started = time.perf_counter()
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from handler import lambda_handler
imported = time.perf_counter()
plan = json.loads(sys.stdin.read())
first = lambda_handler(plan["event"], None)
served = time.perf_counter()
statuses = set()
warm_started = time.perf_counter()
for _ in range(plan["warm_requests"]):
    statuses.add(lambda_handler(plan["warm_event"] or plan["event"], None)["statusCode"])
warm_s = time.perf_counter() - warm_started
rate = plan["warm_requests"] / warm_s if plan["warm_requests"] else None
print(json.dumps({"status": first.get("statusCode"), "warm_statuses": sorted(statuses),
                  "import_ms": (imported - started) * 1000,
                  "total_ms": (served - started) * 1000, "warm_per_second": rate}))
"""

DJANGO_HELLO = '''"""A minimal Django project: settings, one URL and its view in one module."""
from django.http import JsonResponse
from django.urls import path

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("healthz", healthz)]
'''

# The trimming attempt "fewer installed apps": the API without the staff admin and what only
# it needs (sessions, messages, their middleware). Bench-only: the shipped settings keep them.
API_ONLY_SETTINGS = '''"""The processing API without admin, sessions and messages (bench only)."""
from django.urls import path, re_path
from tessera_runtime.problems.django import api_not_found

from processing.settings.production import *  # noqa: F403

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework",
                  "processing.jobs"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware",
              "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = __name__


def _urls():
    from importlib.metadata import version
    from tessera_runtime.health.django import health_views
    from processing.jobs import views
    from processing.jobs.readiness import CHECKS
    health = health_views(
        component="processing", version=version("tessera-processing"), checks=CHECKS
    )
    return [
        path("api/v1/jobs", views.JobCollectionView.as_view()),
        path("api/v1/jobs/<str:job_id>", views.JobDetailView.as_view()),
        path("healthz", health.healthz),
        re_path(r"^[\\s\\S]*$", api_not_found),
    ]


def __getattr__(name):
    # urlpatterns is read once settings are loaded: the views import models.
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)
'''


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--lambda-database-url",
        default="postgres://postgres@127.0.0.1:5432/tessera_lambda_bench",
        help="PostgreSQL database of the processing API's warm runs (dropped and recreated)",
    )
    group.add_argument("--lambda-cold-starts", type=int, default=15, help="runs per app")
    group.add_argument(
        "--lambda-warm-requests", type=int, default=300, help="requests per warm measure"
    )


def _packaging(script: str = "package_processing_lambda.py") -> Any:
    from tessera_testsupport.zappa_lambda import packaging_script_load

    return packaging_script_load(SCRIPTS_DIR / script)


def zips_build(workdir: Path) -> dict[str, Path]:
    """The processing API trimmed (as shipped) and untrimmed, and the webhook functions'.

    The trimming is what the processing stage excludes beyond the functions' list (what the
    runtime provides and what only deploying needs): the workers' libraries, static files.
    """
    packaging = _packaging()
    stages = packaging.processing_zappa_settings()
    functions_exclude = set(
        packaging.zappa_settings_read(REPO_ROOT / "functions" / "zappa_settings.json")["dev"][
            "exclude"
        ]
    )
    untrimmed = json.loads(json.dumps(stages))
    untrimmed["dev"]["exclude"] = [
        name
        for name in stages["dev"]["exclude"]
        if name in functions_exclude or name in {"click", "idna", "certifi"}
    ]
    return {
        "processing API": packaging.processing_zip_build(
            "dev", workdir / "processing.zip", workdir / "processing-build"
        ),
        "processing API, untrimmed": packaging.processing_zip_build(
            "dev",
            workdir / "processing-untrimmed.zip",
            workdir / "processing-untrimmed-build",
            zappa_settings=untrimmed,
        ),
        "webhook functions": _packaging("package_lambda.py").lambda_zip_build(
            "dev", workdir / "functions.zip", workdir / "functions-build"
        ),
    }


def _settings_point_at(code: Path, old: str, new: str) -> None:
    """Point the zip's generated zappa_settings.py at another app or settings module."""
    settings_file = code / "zappa_settings.py"
    text = settings_file.read_text()
    if old not in text:
        raise BenchmarkFailure(f"{settings_file} has no {old}")
    settings_file.write_text(text.replace(old, new))


def apps_unpack(zips: dict[str, Path], stack: ExitStack, workdir: Path) -> dict[str, Any]:
    """Every measured app as an unpacked Lambda folder (variants are edited copies)."""
    from tessera_testsupport.zappa_lambda import UnpackedLambda, lambda_unpacked

    apps: dict[str, UnpackedLambda] = {}
    for name, archive in zips.items():
        folder = workdir / f"unpacked-{len(apps)}"
        folder.mkdir()
        apps[name] = stack.enter_context(lambda_unpacked(archive, folder))

    def variant(base: str, module: str, source: str, old: str, new: str) -> UnpackedLambda:
        code = Path(tempfile.mkdtemp(prefix="task-", dir="/tmp"))
        stack.callback(shutil.rmtree, code, True)
        shutil.rmtree(code)
        shutil.copytree(apps[base].code, code, symlinks=True)
        (code / f"{module}.py").write_text(source)
        _settings_point_at(code, old, new)
        return UnpackedLambda(code=code, runtime=apps[base].runtime, zip_bytes=0)

    django_settings = "DJANGO_SETTINGS='processing.settings.production'"
    apps["processing API, fewer installed apps"] = variant(
        "processing API",
        "bench_api_only",
        API_ONLY_SETTINGS,
        django_settings,
        "DJANGO_SETTINGS='bench_api_only'",
    )
    apps["minimal Django project"] = variant(
        "processing API",
        "bench_django_hello",
        DJANGO_HELLO,
        django_settings,
        "DJANGO_SETTINGS='bench_django_hello'",
    )
    apps["trivial WSGI app"] = variant(
        "webhook functions",
        "bench_trivial_app",
        TRIVIAL_APP,
        "APP_MODULE='tessera_functions.wsgi'",
        "APP_MODULE='bench_trivial_app'",
    )
    return apps


def environment_for(app: str, database_url: str) -> dict[str, str]:
    """The function's configuration: the processing stage's variables plus its secrets, or
    the receivers' secrets."""
    if app.startswith(("processing", "minimal Django")):
        stage = _packaging().processing_zappa_settings()["dev"]
        return {
            **stage["aws_environment_variables"],
            "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
            "SERVICE_TOKEN_KEYS": SERVICE_TOKEN_KEYS,
            "JOB_RESULT_CALLBACK_SECRETS": "whsec_YmVuY2gtb25seS1jYWxsYmFjay1zZWNyZXQ=",
            "PROCESSING_DATABASE_URL": database_url,
            "CELERY_BROKER_URL": "memory://",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    return {
        "WEBHOOKS_BROKER_URL": "memory://",
        "PAYMENT_WEBHOOK_SECRETS": PAYMENT_SECRET,
        "CARRIER_WEBHOOK_SECRETS": CARRIER_SECRET,
        "AWS_DEFAULT_REGION": "eu-west-1",
    }


def handler_run(
    package: Any,
    environment: dict[str, str],
    *,
    event: dict[str, Any],
    warm_event: dict[str, Any] | None = None,
    warm_requests: int = 0,
    python_options: tuple[str, ...] = (),
    expect_status: int | None = 200,
) -> tuple[dict[str, Any], str]:
    """One fresh interpreter: import the handler, serve ``event``, then ``warm_requests``."""
    completed = subprocess.run(
        [sys.executable, "-I", "-S", *python_options, "-c", RUNNER, str(package.code),
         str(package.runtime)],
        input=json.dumps({"event": event, "warm_event": warm_event,
                          "warm_requests": warm_requests}),
        env={"PATH": os.environ.get("PATH", ""), **environment},
        cwd=package.code,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )  # fmt: skip
    if completed.returncode != 0:
        raise BenchmarkFailure(f"the handler failed:\n{completed.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    if measured["status"] != expect_status:
        raise BenchmarkFailure(f"the handler answered {measured['status']}")
    return measured, completed.stderr


def database_recreate(database_url: str) -> None:
    import psycopg

    server_url, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.execute(f"CREATE DATABASE {name}")


def job_create_event() -> dict[str, Any]:
    """The monolith's signed request for an invoice job, as an HTTP API (v2) event."""
    from tessera_contract.signing.service_tokens import ServiceTokenIssuer, ServiceTokenKeyring
    from tessera_testsupport.zappa_lambda import http_api_event

    issuer = ServiceTokenIssuer(
        ServiceTokenKeyring.parse(SERVICE_TOKEN_KEYS), issuer="monolith", audience="processing"
    )
    body = {
        "kind": "image_renditions",
        "subject": {"type": "product_image", "reference": "bench"},
        "input": {"source_location": "sources/bench.jpg", "widths": [320], "formats": ["webp"]},
    }
    return http_api_event(
        "POST",
        "/api/v1/jobs",
        json.dumps(body).encode(),
        {
            "Authorization": issuer.authorization_header(now=time.time()),
            "Content-Type": "application/json",
            "Idempotency-Key": "bench-warm",
        },
    )


def import_breakdown(stderr: str, top: int = 8) -> list[dict[str, Any]]:
    """``-X importtime``'s cumulative milliseconds by top-level package, the largest first."""
    by_package: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        # Only imports made at the top level: nested ones are inside their parent's figure.
        if cumulative.isdigit() and not line.split("|")[2].startswith("  "):
            by_package[name.split(".")[0]] += int(cumulative) / 1000
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    return [{"package": name, "cumulative_ms": round(ms, 1)} for name, ms in ranked]


def run(arguments: argparse.Namespace) -> None:
    """Run (a)–(d); write docs/benchmarks/django-lambda.json and .md."""
    described = machine.machine_describe()
    output_dir = Path(arguments.output_dir)
    database_url = arguments.lambda_database_url
    with (
        tempfile.TemporaryDirectory(prefix="tessera-bench-lambda-") as folder,
        ExitStack() as stack,
    ):
        workdir = Path(folder)
        with phase(NAME, "zips: zappa package (processing trimmed, untrimmed; functions)"):
            zips = zips_build(workdir)
        sizes = {name: archive.stat().st_size for name, archive in zips.items()}
        apps = apps_unpack(zips, stack, workdir)
        database_recreate(database_url)
        processing_environment = environment_for("processing API", database_url)
        handler_run(
            apps["processing API"],
            processing_environment,
            event={"manage": "migrate --noinput -v 0"},
            expect_status=None,  # a management command answers no HTTP status
        )
        samples: dict[str, list[float]] = {name: [] for name in apps}
        with phase(NAME, f"cold start: {arguments.lambda_cold_starts} fresh interpreters per app"):
            for _ in range(arguments.lambda_cold_starts):
                for name, package in apps.items():
                    measured, _ = handler_run(
                        package, environment_for(name, database_url), event=healthz_event()
                    )
                    samples[name].append(measured["total_ms"])
        warm: dict[str, float] = {}
        with phase(NAME, f"warm: {arguments.lambda_warm_requests} requests per app"):
            for name, package in apps.items():
                measured, _ = handler_run(
                    package,
                    environment_for(name, database_url),
                    event=healthz_event(),
                    warm_requests=arguments.lambda_warm_requests,
                )
                warm[f"{name}: GET /healthz"] = measured["warm_per_second"]
            measured, _ = handler_run(
                apps["processing API"],
                processing_environment,
                event=healthz_event(),
                warm_event=job_create_event(),
                warm_requests=arguments.lambda_warm_requests,
            )
            if measured["warm_statuses"] != [200, 201]:
                raise BenchmarkFailure(f"job creation answered {measured['warm_statuses']}")
            warm["processing API: POST /api/v1/jobs (signed, PostgreSQL)"] = measured[
                "warm_per_second"
            ]
        with phase(NAME, "import time by package (-X importtime)"):
            _, stderr = handler_run(
                apps["processing API"],
                processing_environment,
                event=healthz_event(),
                python_options=("-X", "importtime"),
            )
            breakdown = import_breakdown(stderr)
    cold = {
        name: {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
        }
        for name, values in samples.items()
    }
    trivial = cold["trivial WSGI app"]["p50_ms"]
    report = {
        "benchmark": NAME,
        "machine": described,
        "software": machine.package_versions("django", "djangorestframework", "zappa", "celery"),
        "cold_starts": arguments.lambda_cold_starts,
        "warm_requests": arguments.lambda_warm_requests,
        "zip_bytes": sizes,
        "cold_start_ms": cold,
        "cold_start_ratio_to_trivial_wsgi": {
            name: round(values["p50_ms"] / trivial, 2) for name, values in cold.items()
        },
        "warm_requests_per_second": {name: round(value, 1) for name, value in warm.items()},
        "processing_import_ms_by_package": breakdown,
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / f"{NAME}.json").write_text(json.dumps(report, indent=2) + "\n")
    (output_dir / f"{NAME}.md").write_text(django_lambda_report.markdown_render(report))
    django_lambda_report.index_update(output_dir)
    print(json.dumps({key: report[key] for key in ("zip_bytes", "cold_start_ms")}, indent=2))
