"""The embedded default used by `make run`: debug on, SQLite, console email."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A fixed key is fine here: local settings never serve real users.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-a-secret")
# The processing service's local defaults (services/processing settings), so that the monolith
# and processing started by hand on a laptop trust each other; make run sets them explicitly.
PROCESSING_SERVICE_TOKEN_KEYS = env.str(
    "SERVICE_TOKEN_KEYS", default="local:local-development-only-service-token-key-32b"
)
JOB_RESULT_CALLBACK_SECRETS = env.str(
    "JOB_RESULT_CALLBACK_SECRETS", default="whsec_bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1jYWxsYmFjaw=="
)
