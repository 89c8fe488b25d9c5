"""Settings shared by every environment, read from environment variables in one place.

A `.env` file is read only when DJANGO_READ_DOT_ENV_FILE=true; real environment variables win.
"""

import os
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue
from tessera_contract import messaging
from tessera_runtime.brokers import (
    CELERY_RELIABILITY_SETTINGS,
    REDIS_VISIBILITY_TIMEOUT_SECONDS,
    broker_transport_options,
)
from tessera_runtime.databases import database_for_several_processes
from tessera_runtime.telemetry.log_config import telemetry_logging

django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _checkout_root() -> Path:
    """The checkout this package runs from (``<repo>/services/processing/src/processing``), or
    the working folder when it is installed elsewhere: Lambda's /var/task is too shallow to
    have a checkout above it, and sets TESSERA_VAR_DIR instead."""
    parents = PACKAGE_DIR.parents
    if len(parents) > 3 and (parents[3] / "services" / "processing").is_dir():
        return parents[3]
    return Path.cwd()


REPO_ROOT = _checkout_root()

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(REPO_ROOT / ".env"), overwrite=False)

VAR_DIR = Path(env.str("TESSERA_VAR_DIR", default=str(REPO_ROOT / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "processing.jobs",
]

MIDDLEWARE = [
    # First, so the latency it records (tessera_http_request_duration_seconds) includes the rest.
    "tessera_runtime.telemetry.django.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The admin's CSS and scripts, from STATIC_ROOT (collectstatic) with DEBUG off: the
    # service runs behind no web server of its own.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "processing.urls"
WSGI_APPLICATION = "processing.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The service owns its database: never the monolith's. DATABASE_URL names the monolith's in
# every environment file of this project, so finding it without PROCESSING_DATABASE_URL means
# a copied environment that would put the service's tables into the monolith's database.
if "DATABASE_URL" in os.environ and "PROCESSING_DATABASE_URL" not in os.environ:
    raise ImproperlyConfigured(
        "DATABASE_URL is set but PROCESSING_DATABASE_URL is not: the processing service never "
        "uses the monolith's database. Set PROCESSING_DATABASE_URL to the service's own."
    )
DATABASES = {
    "default": env.db_url(
        "PROCESSING_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'processing.sqlite3'}"
    ),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# API and workers write from several processes: on SQLite they wait for the lock, not fail.
DATABASES["default"] = database_for_several_processes(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The admin's files: served by WhiteNoise from STATIC_ROOT, or from a bucket/CDN when the
# API runs where it has no files of its own (Lambda: PROCESSING_STATIC_URL=https://…/static/).
STATIC_URL = env.str("PROCESSING_STATIC_URL", default="/static/")
if "://" in STATIC_URL:
    # Served from elsewhere: this process has no static files for WhiteNoise to serve.
    MIDDLEWARE.remove("whitenoise.middleware.WhiteNoiseMiddleware")
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "processing-static")))
# Sources (uploads the monolith wrote) and results live in the same storage.
MEDIA_URL = env.str("PROCESSING_MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("PROCESSING_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# nginx serves /media/ (renditions) as a user of its own (in docker compose `nginx`, not the
# `tessera` user that writes them): what the storage writes must be readable by others
# whatever the process's umask.
FILE_UPLOAD_PERMISSIONS = 0o644
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755
STORAGES: dict[str, dict[str, Any]] = {
    "default": {
        # e.g. storages.backends.s3.S3Storage with the `s3` extra (AWS_* variables).
        "BACKEND": env.str(
            "PROCESSING_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# S3Storage (django-storages) reads its bucket from settings; credentials and region come from
# the environment or the process's role (Lambda's), as boto3 finds them.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")

DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # the contract's 1 MiB limit on job creation

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["processing.jobs.authentication.ServiceTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["processing.jobs.authentication.IsAllowedService"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "EXCEPTION_HANDLER": "tessera_runtime.problems.drf.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

# Service tokens: "<kid>:<secret>,..." (first key signs); callers must name this audience.
PROCESSING_SERVICE_TOKEN_KEYS = env.str(
    "SERVICE_TOKEN_KEYS", default="local:local-development-only-service-token-key-32b"
)
PROCESSING_TOKEN_AUDIENCE = "processing"  # noqa: S105 - an audience name, not a secret
PROCESSING_TOKEN_KNOWN_ISSUERS = env.list(
    "PROCESSING_TOKEN_KNOWN_ISSUERS", default=["monolith", "functions", "sandbox"]
)
# Of the known services, only these may use the jobs API; the rest get 403.
PROCESSING_TOKEN_ALLOWED_ISSUERS = env.list(
    "PROCESSING_TOKEN_ALLOWED_ISSUERS", default=["monolith"]
)

PROCESSING_JOB_MAX_ATTEMPTS = env.int("PROCESSING_JOB_MAX_ATTEMPTS", default=3)
PROCESSING_RETRY_BACKOFF_SECONDS = env.float("PROCESSING_RETRY_BACKOFF_SECONDS", default=2.0)
# Decompression-bomb guard: refuse images with more pixels than this before decoding them.
PROCESSING_IMAGE_MAX_PIXELS = env.int("PROCESSING_IMAGE_MAX_PIXELS", default=40_000_000)
# The outbox (jobs.OutboxMessage): a message is published right after its commit; when that
# fails (broker down), the relay in every worker retries it every RELAY_INTERVAL seconds.
# GRACE: how long the relay leaves a new message to the publish after commit; LEASE: how
# long a publisher holds a message it is sending; MAX_BACKOFF caps the wait between tries.
PROCESSING_OUTBOX_RELAY_INTERVAL_SECONDS = env.float(
    "PROCESSING_OUTBOX_RELAY_INTERVAL_SECONDS", default=2.0
)
PROCESSING_OUTBOX_GRACE_SECONDS = env.float("PROCESSING_OUTBOX_GRACE_SECONDS", default=5.0)
PROCESSING_OUTBOX_LEASE_SECONDS = env.float("PROCESSING_OUTBOX_LEASE_SECONDS", default=60.0)
PROCESSING_OUTBOX_MAX_BACKOFF_SECONDS = env.float(
    "PROCESSING_OUTBOX_MAX_BACKOFF_SECONDS", default=30.0
)

MONOLITH_CALLBACK_URL = env.str("MONOLITH_CALLBACK_URL", default="http://127.0.0.1:8000")
PROCESSING_CALLBACK_SECRETS = env.list(
    "JOB_RESULT_CALLBACK_SECRETS",
    default=["whsec_bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1jYWxsYmFjaw=="],
)

# Celery: the platform's reliability rules (JSON only, acknowledged after the work so a killed
# worker's job is delivered again, one message at a time per process; see
# tessera_runtime.brokers), and one queue per kind so a flood of one cannot starve others.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(
    CELERY_BROKER_URL,
    filesystem_folder=VAR_DIR / "processing-broker",
    visibility_timeout=env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=REDIS_VISIBILITY_TIMEOUT_SECONDS
    ),
)
globals().update(CELERY_RELIABILITY_SETTINGS)
# An attempt killed at its hard time limit (its soft limit not handled in time, e.g. stuck in a
# C call) goes back to the queue, flagged redelivered, like one whose worker died: its next
# delivery counts the next attempt, and the last one dead-letters the job. Celery's default
# acknowledges it instead, which left the job `running` for ever. (Delivering a result is
# idempotent, so its task may run again too.)
CELERY_TASK_ACKS_ON_TIMEOUT = False
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
CELERY_TIMEZONE = TIME_ZONE
# Per-kind limits ("sales_report=600,invoice_pdf=30") override the global ones. Celery writes a
# task's limits into its message when it is sent, so the sender (the API) must know them.
PROCESSING_SOFT_TIME_LIMITS: dict[str, int] = env.dict(
    "PROCESSING_SOFT_TIME_LIMITS", cast={"value": int}, default={}
)
PROCESSING_TIME_LIMITS: dict[str, int] = env.dict(
    "PROCESSING_TIME_LIMITS", cast={"value": int}, default={}
)
# The queues by job kind, and the one for finished jobs' results (tessera_contract.messaging).
PROCESSING_QUEUES = dict(messaging.PROCESSING_JOB_QUEUES)
PROCESSING_RESULTS_QUEUE = messaging.PROCESSING_RESULTS_QUEUE
_exchange = Exchange(messaging.PROCESSING_EXCHANGE, type="direct")
CELERY_TASK_QUEUES = [
    Queue(name, _exchange, routing_key=name) for name in messaging.PROCESSING_QUEUES
]
CELERY_TASK_DEFAULT_QUEUE = PROCESSING_QUEUES["image_renditions"]

# Plain text by default (make run); TESSERA_LOG_FORMAT=json writes one JSON object per line
# with the trace_id and span_id of the current span (docs/observability.md).
TESSERA_LOG_FORMAT = env.str("TESSERA_LOG_FORMAT", default="plain")
# Celery replaces the root logger's handlers with its own plain ones unless told not to.
CELERY_WORKER_HIJACK_ROOT_LOGGER = TESSERA_LOG_FORMAT != "json"
LOGGING = {
    **telemetry_logging(
        log_format=TESSERA_LOG_FORMAT, level=env.str("DJANGO_LOG_LEVEL", default="INFO")
    ),
    # pyvips logs libvips' trace of every operation at INFO: about 30 lines a rendition job,
    # formatted on the worker's critical path.
    "loggers": {"pyvips": {"level": "WARNING"}},
}

# The queues whose depth GET /metrics reads from the broker (tessera_queue_depth).
TESSERA_METRICS_QUEUES = list(messaging.PROCESSING_QUEUES)
# When set, each worker's main process serves its job metrics on this port (GET /metrics);
# with the prefork pool set PROMETHEUS_MULTIPROC_DIR too, so the children's samples are summed.
TESSERA_WORKER_METRICS_PORT = env.int("TESSERA_WORKER_METRICS_PORT", default=0)
TESSERA_WORKER_METRICS_BIND = env.str("TESSERA_WORKER_METRICS_BIND", default="127.0.0.1")
