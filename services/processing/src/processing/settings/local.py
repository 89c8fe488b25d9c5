"""The embedded default used by `make run`: debug on, SQLite, filesystem broker."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A fixed key is fine here: local settings never serve real users.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-a-secret")
# WhiteNoise serves the admin's files from the apps' own folders, re-read on each request:
# no collectstatic here (and no warning that STATIC_ROOT does not exist yet).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
