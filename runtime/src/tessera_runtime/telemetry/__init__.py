"""Tracing, JSON logs and metrics shared by every long-running Tessera component.

- ``tracing``: the tracer provider (on when the standard ``OTEL_*`` variables ask for it),
  library instrumentation, ``traced_span`` and the current trace context for a queue message;
- ``log_config``: the logging configuration, plain or JSON lines with trace ids (``logs``);
- ``metrics``: the Prometheus metrics, with ``django`` (middleware and ``/metrics`` view),
  ``wsgi`` (the same for a plain WSGI application) and ``celery_worker`` (the signal handlers
  both Celery workers connect);
- ``webhook_outcome``: the key a WSGI application reports a webhook's outcome under.

The libraries come with the ``telemetry`` extra. Importing this package, ``tracing``,
``log_config`` or ``webhook_outcome`` imports none of them.
"""
