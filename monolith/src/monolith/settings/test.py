"""Settings for the test suite: fast hashing, in-memory email, same code paths as production."""

import os
import re

from .base import *  # noqa: F403
from .base import DATABASES, REST_FRAMEWORK, env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="test-only-not-a-secret")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
# Serve static files straight from the sources, as in development: no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Each test process's own memory: a file cache under var/ would outlive the test database, and
# a cached page of an earlier run could answer for this one. Tests that need a shared cache
# (Redis) set it themselves; the running stack's workers share the live server's through
# TESSERA_TEST_CACHE_URL (a folder of the test's own): a worker that records a job result
# moves the catalog version the live server's pages are cached under, as in a deployment.
CACHES = {
    "default": env.cache_url("TESSERA_TEST_CACHE_URL")
    if env.str("TESSERA_TEST_CACHE_URL", default="")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# The suite and schemathesis make thousands of API calls a minute from one address; the
# throttling test sets its own low rate.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min", "auth": "100000/min"},
}
# Schemathesis sends wrong passwords by the hundred; the lock-out tests set the real limit.
AXES_FAILURE_LIMIT = 100000

# The test database is this run's own (TESSERA_RUN_ID, set once per `make test`, else this
# process's id), created and dropped by pytest-django: two runs on one machine never share
# rows. tessera_testsupport.run_id names the run's RabbitMQ vhosts the same way.
# (SQLite's test database is in memory, each process's own already.)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _run = re.sub(r"[^a-z0-9_]", "_", env.str("TESSERA_RUN_ID", default="").lower())[:24]
    DATABASES["default"]["TEST"] = {
        "NAME": f"test_{DATABASES['default']['NAME']}_{_run or f'pid{os.getpid()}'}"[:63]
    }
