"""The local server on port 8002: ``python -m tessera_functions.serve``.

gunicorn (already the monolith's production server) with threaded workers: publishes wait on
the broker's confirm, so threads keep a worker busy while one delivery waits. Lambda does not
use this module; Zappa's handler calls ``tessera_functions.wsgi.application`` directly.
Configuration: ``WEBHOOKS_BIND`` (default ``127.0.0.1:8002``), ``WEBHOOKS_WORKERS`` (2),
``WEBHOOKS_THREADS`` (8), plus the application's own variables (``tessera_functions.settings``).

This server, unlike Lambda, also answers ``GET /metrics`` (Prometheus) when prometheus-client
is installed (the ``telemetry`` extra). Its workers share their samples through
``PROMETHEUS_MULTIPROC_DIR``; when it is not set, a temporary folder is used for the run.
"""

import os
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from gunicorn.app.base import BaseApplication

__all__ = ["main"]


class _FunctionsServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Callable[..., Any]:
        # Imported in each worker, so every process builds its own broker connection.
        from tessera_functions.wsgi import application

        try:
            from tessera_runtime.telemetry.wsgi import MetricsWsgiMiddleware
        except ImportError:  # prometheus-client not installed: no /metrics, same webhooks
            return application
        return MetricsWsgiMiddleware(application, routes=application.routes)


def main() -> None:
    """Serve the webhook application until interrupted."""
    with ExitStack() as stack:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Set before any worker imports prometheus_client, which reads it at import.
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="tessera-metrics-"))
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        _serve()


def _serve() -> None:
    _FunctionsServer(
        {
            "bind": os.environ.get("WEBHOOKS_BIND", "127.0.0.1:8002"),
            "workers": int(os.environ.get("WEBHOOKS_WORKERS", "2")),
            "threads": int(os.environ.get("WEBHOOKS_THREADS", "8")),
            "worker_class": "gthread",
            # A request waits at most ~1 s on the broker; anything slower is a stuck worker.
            "timeout": 30,
            "accesslog": "-",
            "proc_name": "tessera-functions",
        }
    ).run()


if __name__ == "__main__":
    main()
