"""WSGI entry point for gunicorn and the Lambda-free deployments."""

import os

from django.core.wsgi import get_wsgi_application
from tessera_runtime.telemetry.tracing import telemetry_configure, telemetry_instrument

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings.production")
# Before the application is built: the Django instrumentation adds its middleware to settings.
if telemetry_configure(service_name="tessera-monolith"):
    telemetry_instrument(django=True, celery=True, httpx=True, psycopg=True)
application = get_wsgi_application()
