"""WSGI entry point of the processing API (gunicorn processing.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "processing.settings.local")
application = get_wsgi_application()
