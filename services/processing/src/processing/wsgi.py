"""WSGI entry point of the processing API (gunicorn processing.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application
from tessera_runtime.telemetry.tracing import telemetry_configure, telemetry_instrument

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "processing.settings.local")
# Before the application is built: the Django instrumentation adds its middleware to settings.
if telemetry_configure(service_name="tessera-processing"):
    telemetry_instrument(django=True, celery=True, httpx=True, psycopg=True)
application = get_wsgi_application()
