"""Production settings, changed only where serving a benchmark on loopback needs it.

The harness (`bench/pages.py`) sets every variable read here, and the ones production
settings require (a per-run DJANGO_SECRET_KEY among them), before it starts anything.
"""

from pathlib import Path

from monolith.settings.production import *  # noqa: F403
from monolith.settings.production import DATABASES, env

ROOT_URLCONF = "benchsite.urls"

# A dedicated database that the harness creates and seeds, so a run never touches real data.
# Replaced, not updated: the OPTIONS production gives the SQLite default (a busy timeout) are
# not PostgreSQL's; how production holds connections is kept.
DATABASES["default"] = {
    **env.db_url("TESSERA_BENCH_DATABASE_URL"),
    **{
        key: DATABASES["default"][key]
        for key in ("ATOMIC_REQUESTS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS")
    },
}

ALLOWED_HOSTS = ["127.0.0.1"]
# Plain HTTP on loopback: a redirect to HTTPS would measure nothing but the redirect.
SECURE_SSL_REDIRECT = False

# Collected and seeded files go to the run's temporary directory, not to the repository.
STATIC_ROOT = Path(env.str("TESSERA_BENCH_STATIC_ROOT"))
MEDIA_ROOT = Path(env.str("TESSERA_BENCH_MEDIA_ROOT"))
