"""Where the webhook receivers run (WEBHOOK_RECEIVERS_PLACEMENT), seen from the monolith.

- ``function``: the webhook functions (Lambda via Zappa, or their own server) receive them;
  this process answers /webhooks/… with a 404 problem that says so.
- ``cloud-function``: the same, the functions running as a Google Cloud Functions HTTP
  function (``tessera_functions.cloud_function`` under functions-framework).
- ``inline``: the functions' own WSGI application (tessera_functions.app) is mounted in this
  process at /webhooks/…: the same verification, validation and contract, publishing the same
  envelopes to the same queue (this project's broker), consumed by the same worker step.

Either way the receiver code is written once; this module only builds and mounts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
else:
    WSGIApplication = Callable[..., Iterable[bytes]]

RECEIVER_PLACEMENTS = ("function", "cloud-function", "inline")

_applications: dict[tuple[Any, ...], WSGIApplication] = {}


def _inline_application() -> WSGIApplication:
    # Imported only in the inline placement: the functions' package is not needed otherwise.
    from tessera_functions.app import webhook_application_create
    from tessera_functions.settings import FunctionSettings

    # The functions' own loader and checks (a missing secret list refuses to start), fed from
    # this project's settings: its broker and var folder, the secrets under the same names.
    return webhook_application_create(
        FunctionSettings.from_environment(
            {
                "WEBHOOKS_BROKER_URL": settings.CELERY_BROKER_URL,
                "TESSERA_VAR_DIR": str(settings.VAR_DIR),
                "PAYMENT_WEBHOOK_SECRETS": settings.PAYMENT_WEBHOOK_SECRETS,
                "CARRIER_WEBHOOK_SECRETS": settings.CARRIER_WEBHOOK_SECRETS,
            }
        )
    )


def inline_receivers() -> WSGIApplication | None:
    """The receivers' WSGI application when they run in this process, else None.

    Built once per configuration and process: it holds the broker connection it publishes on.
    """
    if settings.WEBHOOK_RECEIVERS_PLACEMENT != "inline":
        return None
    identity = (
        settings.CELERY_BROKER_URL,
        str(settings.VAR_DIR),
        settings.PAYMENT_WEBHOOK_SECRETS,
        settings.CARRIER_WEBHOOK_SECRETS,
    )
    application = _applications.get(identity)
    if application is None:
        application = _applications[identity] = _inline_application()
    return application
