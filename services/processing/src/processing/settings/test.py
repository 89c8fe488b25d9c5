"""Settings for the test suite: the same code paths as production, fast retries."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="test-only-not-a-secret")
ALLOWED_HOSTS = ["*"]
PROCESSING_RETRY_BACKOFF_SECONDS = 0.2
# Jobs created by API tests go to an in-process broker; the worker tests start real workers
# against Redis or RabbitMQ with CELERY_BROKER_URL of their own.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
MEDIA_ROOT = Path(env.str("PROCESSING_MEDIA_ROOT", default=str(VAR_DIR / "processing-test-media")))  # noqa: F405
# WhiteNoise serves the admin's files from the apps' own folders, re-read on each request:
# no collectstatic here (and no warning that STATIC_ROOT does not exist yet).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
