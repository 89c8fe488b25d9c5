"""Tessera's processing microservice: jobs API, Celery workers and the work itself."""

from processing.celery_app import app as celery_app

__all__ = ["celery_app"]
