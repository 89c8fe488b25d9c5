"""How a WSGI application tells the metrics wrapper what became of a webhook delivery.

The application sets ``environ[WEBHOOK_OUTCOME_KEY]`` to ``(source, result)``;
``telemetry.wsgi.MetricsWsgiMiddleware`` counts it. A plain string in a module of its own, so
setting it costs no import: the application also runs on Lambda, without prometheus_client.
"""

__all__ = ["WEBHOOK_OUTCOME_KEY"]

WEBHOOK_OUTCOME_KEY = "tessera.webhook_outcome"
