"""The local server on port 8002: ``python -m tessera_functions.serve``.

gunicorn (already the monolith's production server) with threaded workers: publishes wait on
the broker's confirm, so threads keep a worker busy while one delivery waits. Lambda does not
use this module; Zappa's handler calls ``tessera_functions.wsgi.application`` directly.
Configuration: ``WEBHOOKS_BIND`` (default ``127.0.0.1:8002``), ``WEBHOOKS_WORKERS`` (2),
``WEBHOOKS_THREADS`` (8), plus the application's own variables (``tessera_functions.settings``).
"""

import os
from collections.abc import Callable
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

        return application


def main() -> None:
    """Serve the webhook application until interrupted."""
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
