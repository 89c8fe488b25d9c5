"""The webhook receivers as a Google Cloud Functions HTTP function (``functions-framework``).

The same WSGI application as on Lambda and the local server, built from the same environment
at import (a function with missing secrets fails its cold start): functions-framework hands
each request to ``webhooks`` as a Flask request on any path, and the application answers it
from the request's WSGI environment, so routing, the size limit, signatures and problems are
the receivers' own. Serve it with ``functions-framework --target webhooks --source
<this file>``; Cloud Functions runs the same framework (docs/deploy/cloud-functions.md).
"""

import functions_framework
from flask import Request
from werkzeug.wrappers import Response

from tessera_functions.wsgi import application

__all__ = ["webhooks"]


@functions_framework.http
def webhooks(request: Request) -> Response:
    """Answer one delivery (or health probe) with the receivers' WSGI application.

    Unbuffered on purpose: the framework drains the rest of a request body after a buffered
    answer, which would read the oversized deliveries the application refuses unread (413).
    """
    return Response.from_app(application, request.environ, buffered=False)
