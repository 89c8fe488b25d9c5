"""Settings shared by every environment, read from environment variables in one place.

A `.env` file is read only when DJANGO_READ_DOT_ENV_FILE=true; real environment variables win.
"""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from tessera_contract.messaging import MONOLITH_TASK_QUEUE, WEBHOOK_QUEUE
from tessera_runtime.brokers import (
    CELERY_RELIABILITY_SETTINGS,
    REDIS_VISIBILITY_TIMEOUT_SECONDS,
    broker_transport_options,
)
from tessera_runtime.databases import database_for_several_processes
from tessera_runtime.telemetry.log_config import telemetry_logging

# Lets admin and other generic classes be subscripted at runtime, as django-stubs types them.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = PACKAGE_DIR.parents[2]

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(REPO_ROOT / ".env"), overwrite=False)

# Runtime state of the embedded default (SQLite database, uploaded media) lives here.
VAR_DIR = Path(env.str("TESSERA_VAR_DIR", default=str(REPO_ROOT / "var")))
FRONTEND_DIR = Path(env.str("TESSERA_FRONTEND_DIR", default=str(REPO_ROOT / "frontend")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The headless storefront (frontend/headless) is served on its own origin and calls /api/v1/
# across origins. Only origins on this allow-list get CORS headers; the app authenticates with
# the API's token scheme (Authorization header), so no cookies cross origins and no cookie CSRF
# applies to it.
CORS_ALLOWED_ORIGINS = env.list(
    "TESSERA_CORS_ALLOWED_ORIGINS", default=["http://127.0.0.1:8004", "http://localhost:8004"]
)
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_CREDENTIALS = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "corsheaders",
    "axes",
    "csp",
    "monolith.core",
    "monolith.accounts",
    "monolith.catalog",
    "monolith.cart",
    "monolith.orders",
    "monolith.inbox",
    "monolith.jobs",
    "monolith.demo",
    "monolith.api",
]

MIDDLEWARE = [
    # First, so the latency it records (tessera_http_request_duration_seconds) includes the rest.
    "tessera_runtime.telemetry.django.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header on every answer (django-csp; the policy is below).
    "csp.middleware.CSPMiddleware",
    # Before CommonMiddleware, so preflight and error answers carry the CORS headers too.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # After CsrfViewMiddleware: fills the token slots before it sets the cookie they ask for.
    "monolith.core.csrf_token_slot.CsrfTokenSlotMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the user and the messages: fills in the shopper's own parts of a shared page (and the
    # CSP nonce), marking the messages shown before MessageMiddleware stores what is left.
    "monolith.core.shopper_parts.ShopperPartsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lock-out answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "monolith.urls"
WSGI_APPLICATION = "monolith.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [FRONTEND_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "monolith.cart.context_processors.mini_cart",
                # `csp_nonce` renders as a slot, filled with each response's nonce.
                "monolith.core.shopper_parts.shopper_parts",
                # Last: `csrf_token` renders as a slot, so rendered markup can be shared.
                "monolith.core.csrf_token_slot.csrf_token_slot",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'monolith.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# The web process and the worker write at once under `make run`: on SQLite they wait for the
# lock (WAL, immediate transactions, a busy timeout) instead of answering 503.
DATABASES["default"] = database_for_several_processes(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out account or address before any password is checked.
# Then Django's ModelBackend, reading each request's user from the cache (accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "monolith.accounts.backends.CachedModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes) on every form and endpoint that checks a password: the
# admin, the shop's login and the API token. A username, and separately a client address,
# with TESSERA_SIGN_IN_FAILURE_LIMIT failures is locked out for the cool-off; a success
# clears the count.
AXES_FAILURE_LIMIT = env.int("TESSERA_SIGN_IN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("TESSERA_SIGN_IN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "monolith.accounts.lockout.sign_in_locked_out"
AXES_CLIENT_IP_CALLABLE = "monolith.core.client_address.client_address"
# How many proxies in front of this process append to X-Forwarded-For (nginx in the
# distributed run and compose: 1). 0 reads the socket's address and ignores the header.
TESSERA_TRUSTED_PROXY_COUNT = env.int("TESSERA_TRUSTED_PROXY_COUNT", default=0)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "orders:mine"
LOGOUT_REDIRECT_URL = "catalog:product_list"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [FRONTEND_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# nginx serves /static/ and /media/ as a user of its own (in docker compose `nginx`, not the
# `tessera` user that writes them): what the storage writes must be readable by others
# whatever the process's umask.
FILE_UPLOAD_PERMISSIONS = 0o644
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="shop@tessera.invalid")

SESSION_COOKIE_HTTPONLY = True
# Sessions read from the shared cache, written through to the database: a signed-in page makes
# no query for its session (nor for its user and cart count, cached too), and a flushed cache
# loses no session. Django's cached_db, except that a connection lost while saving is a 503
# (monolith/core/sessions.py).
SESSION_ENGINE = "monolith.core.sessions"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp) on every page, the admin's included. Scripts come from
# this origin only (htmx, tessera.js, the admin's), or inline with the response's nonce
# ({{ csp_nonce }}: a slot that each response fills with its own, so a cached page never holds
# an old one; core/shopper_parts.py. The header names a nonce only on a page that used one). Styles
# allow inline: htmx injects its indicator style and product images carry their placeholder
# colour in a style attribute. No form-action: checkout's form redirects to the payment
# provider, which form-action would block in Chromium.
CSP_DIRECTIVES = {
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF, UNSAFE_INLINE],
    "img-src": [SELF, "data:"],
    "connect-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "frame-ancestors": [NONE],
}
# Enforced unless DJANGO_CSP_REPORT_ONLY=true (allowed locally to try a policy change out:
# violations are then only reported in the browser's console).
_CSP_REPORT_ONLY = env.bool("DJANGO_CSP_REPORT_ONLY", default=False)
CONTENT_SECURITY_POLICY: dict[str, object] | None = (
    None if _CSP_REPORT_ONLY else {"DIRECTIVES": CSP_DIRECTIVES}
)
CONTENT_SECURITY_POLICY_REPORT_ONLY: dict[str, object] | None = (
    {"DIRECTIVES": CSP_DIRECTIVES} if _CSP_REPORT_ONLY else None
)

# The shop's money rules: one currency, a flat shipping fee waived above a threshold, VAT.
TESSERA_CURRENCY = env.str("TESSERA_CURRENCY", default="EUR")
TESSERA_SHIPPING_FEE = env.str("TESSERA_SHIPPING_FEE", default="4.90")
TESSERA_FREE_SHIPPING_FROM = env.str("TESSERA_FREE_SHIPPING_FROM", default="50.00")
TESSERA_TAX_RATE = env.str("TESSERA_TAX_RATE", default="0.20")
TESSERA_CATALOG_PAGE_SIZE = env.int("TESSERA_CATALOG_PAGE_SIZE", default=24)

# Every process that serves or changes the catalog must share one cache: the catalog's pages
# are cached under a version that each change moves on (catalog/catalog_version.py), and the
# worker changes stock too. Files under var/ by default (one machine: the web server, the
# worker, management commands); Redis when replicas run on several (the distributed run).
# Django's file and memory caches keep 300 entries unless told otherwise, fewer than one
# catalog's product cards: past the bound each write culls a third of the files at random.
CACHES = {
    "default": env.cache_url(
        "CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}?max_entries=50000"
    )
}

# The storefront API: JSON only, errors as RFC 9457 problems, throttled per client.
REST_FRAMEWORK = {
    # Token first: an unauthenticated call then gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Refuses a body nested past the platform's limit before parsing it (json_limits).
    "DEFAULT_PARSER_CLASSES": ["tessera_runtime.problems.drf.BoundedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("TESSERA_API_THROTTLE_ANON", default="120/min"),
        "user": env.str("TESSERA_API_THROTTLE_USER", default="600/min"),
        "auth": env.str("TESSERA_API_THROTTLE_AUTH", default="10/min"),
    },
    "EXCEPTION_HANDLER": "monolith.core.errors_views.api_exception_handler",
    # Throttles key on the client address through this many trusted proxies only.
    "NUM_PROXIES": TESSERA_TRUSTED_PROXY_COUNT,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tessera storefront API",
    "VERSION": "1.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "TAGS": [{"name": "storefront"}],
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "monolith.orders.state_machine.OrderStatus"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "monolith.api.schema.blank_strings_any_of",
        "monolith.api.schema.document_problems",
        "monolith.api.schema.storefront_links",
    ],
}

# Celery: the platform's reliability rules (JSON only, acknowledged after the work so a dead
# worker's task is delivered again, one message at a time per worker process; see
# tessera_runtime.brokers), bounded in time here.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(
    CELERY_BROKER_URL,
    filesystem_folder=VAR_DIR / "broker",
    visibility_timeout=env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=REDIS_VISIBILITY_TIMEOUT_SECONDS
    ),
)
globals().update(CELERY_RELIABILITY_SETTINGS)
CELERY_TASK_DEFAULT_QUEUE = MONOLITH_TASK_QUEUE
# A task cut off by a lost broker connection is redelivered anyway (acks late): stop it.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TIMEZONE = TIME_ZONE

# The webhook inbox. The worker takes envelopes in batches of up to INBOX_BATCH_SIZE (its
# prefetch), recorded, applied and then acknowledged, and takes a part-filled batch once its
# oldest envelope has waited INBOX_BATCH_WAIT_SECONDS.
INBOX_BATCH_SIZE = env.int("INBOX_BATCH_SIZE", default=100)
INBOX_BATCH_WAIT_SECONDS = env.float("INBOX_BATCH_WAIT_SECONDS", default=0.2)
# How often an event is tried before it is dead-lettered, and the first retry delay (doubled
# on each attempt).
INBOX_MAX_ATTEMPTS = env.int("INBOX_MAX_ATTEMPTS", default=5)
INBOX_RETRY_BASE_SECONDS = env.float("INBOX_RETRY_BASE_SECONDS", default=2.0)
# The worker's sweep applies failed events again once their backoff has passed, and a
# `received` event nobody touched for the grace period: how often it runs (0 turns it off).
INBOX_SWEEP_INTERVAL_SECONDS = env.float("INBOX_SWEEP_INTERVAL_SECONDS", default=30.0)
INBOX_SWEEP_GRACE_SECONDS = env.float("INBOX_SWEEP_GRACE_SECONDS", default=120.0)
# An event still received, failed or parked this long after it was recorded is overdue: the
# admin's "Past its budget" filter and the tessera_overdue gauge show it.
INBOX_EVENT_BUDGET_SECONDS = env.float("INBOX_EVENT_BUDGET_SECONDS", default=600.0)

# The payment provider's pay page (the sandbox locally) and the carrier's shipment API.
PAYMENT_PROVIDER_URL = env.str("PAYMENT_PROVIDER_URL", default="http://127.0.0.1:8003")
CARRIER_API_URL = env.str("CARRIER_API_URL", default="http://127.0.0.1:8003")
CARRIER_API_TIMEOUT_SECONDS = env.float("CARRIER_API_TIMEOUT_SECONDS", default=3.0)

# Where each part runs (docs/architecture.md, "Placements"): processing jobs on the
# processing ``service`` or ``inline`` in this project's worker; the webhook receivers as
# separate ``function``s or ``inline`` in this project's web process at /webhooks/….
PROCESSING_PLACEMENT = env.str("PROCESSING_PLACEMENT", default="service")
WEBHOOK_RECEIVERS_PLACEMENT = env.str("WEBHOOK_RECEIVERS_PLACEMENT", default="function")
# Inline jobs, read from the variables the processing service reads for its own: how often a
# job is tried before it is dead-lettered, the first wait between attempts (doubled on each),
# the largest image the renditions open; and how long a running job holds its row (beyond
# CELERY_TASK_TIME_LIMIT, so only a dead worker's row is run again).
PROCESSING_JOB_MAX_ATTEMPTS = env.int("PROCESSING_JOB_MAX_ATTEMPTS", default=3)
PROCESSING_RETRY_BACKOFF_SECONDS = env.float("PROCESSING_RETRY_BACKOFF_SECONDS", default=2.0)
PROCESSING_IMAGE_MAX_PIXELS = env.int("PROCESSING_IMAGE_MAX_PIXELS", default=40_000_000)
PROCESSING_INLINE_LEASE_SECONDS = env.float("PROCESSING_INLINE_LEASE_SECONDS", default=180.0)
# Inline receivers verify with the secrets the functions read under the same names.
PAYMENT_WEBHOOK_SECRETS = env.str("PAYMENT_WEBHOOK_SECRETS", default="")
CARRIER_WEBHOOK_SECRETS = env.str("CARRIER_WEBHOOK_SECRETS", default="")

# The processing service (monolith.jobs): where its jobs API is, the service-token keys it
# verifies ("<kid>:<secret>,...", the first signs; the same SERVICE_TOKEN_KEYS it reads) and
# the audience it expects. Empty keys: jobs stay pending (and say why) until they are set.
PROCESSING_API_URL = env.str("PROCESSING_API_URL", default="http://127.0.0.1:8001")
PROCESSING_SERVICE_TOKEN_KEYS = env.str("SERVICE_TOKEN_KEYS", default="")
PROCESSING_TOKEN_AUDIENCE = env.str("PROCESSING_TOKEN_AUDIENCE", default="processing")
PROCESSING_TOKEN_ISSUER = "monolith"  # noqa: S105 - a service name, not a secret
PROCESSING_REQUEST_TIMEOUT_SECONDS = env.float("PROCESSING_REQUEST_TIMEOUT_SECONDS", default=5.0)
# After 5 failed calls in a row the client stops calling for this long (circuit breaker).
PROCESSING_CIRCUIT_RESET_SECONDS = env.float("PROCESSING_CIRCUIT_RESET_SECONDS", default=30.0)
# The outbox relay: submission retries back off from BASE, doubling up to MAX seconds; the
# worker's sweep runs every INTERVAL seconds (0 turns it off) and re-queues pending rows left
# untouched for GRACE seconds.
PROCESSING_JOBS_RETRY_BASE_SECONDS = env.float("PROCESSING_JOBS_RETRY_BASE_SECONDS", default=2.0)
PROCESSING_JOBS_RETRY_MAX_SECONDS = env.float("PROCESSING_JOBS_RETRY_MAX_SECONDS", default=300.0)
PROCESSING_JOBS_SWEEP_INTERVAL_SECONDS = env.float(
    "PROCESSING_JOBS_SWEEP_INTERVAL_SECONDS", default=15.0
)
PROCESSING_JOBS_SWEEP_GRACE_SECONDS = env.float("PROCESSING_JOBS_SWEEP_GRACE_SECONDS", default=60.0)
# A job still pending or submitted this long after it was asked for is overdue (as above).
PROCESSING_JOB_BUDGET_SECONDS = env.float("PROCESSING_JOB_BUDGET_SECONDS", default=900.0)
# The job-result callback: Standard Webhooks secrets ("whsec_new, whsec_old" during a
# rotation; the same JOB_RESULT_CALLBACK_SECRETS processing signs with) and the tolerated
# clock difference. Empty: the callback answers 503 until they are set.
JOB_RESULT_CALLBACK_SECRETS = env.str("JOB_RESULT_CALLBACK_SECRETS", default="")
JOB_RESULT_TOLERANCE_SECONDS = env.int("JOB_RESULT_TOLERANCE_SECONDS", default=300)

# Plain text by default (make run); TESSERA_LOG_FORMAT=json writes one JSON object per line
# with the trace_id and span_id of the current span (docs/observability.md).
TESSERA_LOG_FORMAT = env.str("TESSERA_LOG_FORMAT", default="plain")
LOGGING = telemetry_logging(
    log_format=TESSERA_LOG_FORMAT, level=env.str("DJANGO_LOG_LEVEL", default="INFO")
)
# Celery replaces the root logger's handlers with its own plain ones unless told not to.
CELERY_WORKER_HIJACK_ROOT_LOGGER = TESSERA_LOG_FORMAT != "json"

# Who may read GET /metrics (core/metrics_access.py): with a token, only a scrape that sends it
# as a bearer token; without one, everyone where TESSERA_METRICS_PUBLIC is on (not in
# production, where a process without a token serves no metrics).
TESSERA_METRICS_TOKEN = env.str("TESSERA_METRICS_TOKEN", default="")
TESSERA_METRICS_PUBLIC = env.bool("TESSERA_METRICS_PUBLIC", default=True)
# The queues whose depth GET /metrics reads from the broker (tessera_queue_depth).
TESSERA_METRICS_QUEUES = [WEBHOOK_QUEUE, MONOLITH_TASK_QUEUE]
# When set, each worker's main process serves the inbox metrics on this port (GET /metrics);
# with the prefork pool set PROMETHEUS_MULTIPROC_DIR too, so the children's counts are summed.
TESSERA_WORKER_METRICS_PORT = env.int("TESSERA_WORKER_METRICS_PORT", default=0)
TESSERA_WORKER_METRICS_BIND = env.str("TESSERA_WORKER_METRICS_BIND", default="127.0.0.1")
