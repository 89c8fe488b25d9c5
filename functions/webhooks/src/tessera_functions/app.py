"""The webhook functions' WSGI application: plain WSGI, no framework.

Four routes, each a few lines; a framework would add import time to every Lambda cold start
and megabytes to the zip for routing this small (figures in ``functions/README.md``).

Per delivery: body size limit (413) -> a JSON Content-Type (415) -> signature over the raw
bytes (401, no details) -> nesting depth, then validation against the contract (400) ->
envelope published and confirmed by the broker (503 with Retry-After when it is not) -> 202.
A body that can never be accepted never gets a 5xx: that would tell the sender to retry it.
Errors are problems built by ``tessera_runtime.problems.answers``, as in every component.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from tessera_contract.json_limits import json_media_type_accepted
from tessera_contract.models.codec import MalformedPayloadError, PayloadError, payload_encode
from tessera_contract.models.envelopes import WebhookAcknowledgement
from tessera_contract.signing import SignatureError
from tessera_runtime.health.answers import HealthAnswer, liveness_answer, readiness_answer
from tessera_runtime.problems.answers import ProblemType
from tessera_runtime.problems.wsgi import problem_wsgi_answer
from tessera_runtime.telemetry.tracing import trace_context_current, traced_span
from tessera_runtime.telemetry.webhook_outcome import WEBHOOK_OUTCOME_KEY

from tessera_functions import __version__
from tessera_functions.carrier import CarrierWebhookReceiver
from tessera_functions.payments import PaymentWebhookReceiver
from tessera_functions.publisher import BrokerUnavailableError, WebhookEnvelopePublisher
from tessera_functions.receipts import WebhookReceipt
from tessera_functions.settings import FunctionSettings
from tessera_functions.tracing import webhook_tracing_start

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
else:
    StartResponse = Callable[..., Any]
    WSGIEnvironment = dict[str, Any]

__all__ = ["COMPONENT", "WebhookApplication", "webhook_application_create"]

logger = logging.getLogger(__name__)

COMPONENT = "functions"
_JSON = "application/json"
# The headers every component's answers carry (the monolith's from Django's
# SecurityMiddleware): an API's answers are never framed, sniffed, or run as a page.
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
]

Response = tuple[int, list[tuple[str, str]], bytes]


def _response(status: int, body: bytes, media_type: str = _JSON, **headers: str) -> Response:
    header_list = [("Content-Type", media_type), ("Content-Length", str(len(body)))]
    header_list += [(name.replace("_", "-"), value) for name, value in headers.items()]
    return status, header_list, body


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    # WSGI spells request headers HTTP_WEBHOOK_ID; the verifiers want webhook-id.
    return {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }


class _BodyTooLargeError(Exception):
    pass


class WebhookApplication:
    """The WSGI callable: routes, the request pipeline and its answers."""

    def __init__(
        self,
        *,
        payments: PaymentWebhookReceiver,
        carrier: CarrierWebhookReceiver,
        publisher: WebhookEnvelopePublisher,
        max_body_bytes: int,
    ) -> None:
        """Serve both integrations, publishing through ``publisher``."""
        self.publisher = publisher
        self._payments = payments
        self._carrier = carrier
        self._max_body_bytes = max_body_bytes
        self._routes: dict[str, tuple[str, Callable[[WSGIEnvironment], Response]]] = {
            "/webhooks/payments": ("POST", self._payment_webhook),
            "/webhooks/carrier": ("POST", self._carrier_webhook),
            "/healthz": ("GET", self._liveness),
            "/readyz": ("GET", self._readiness),
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request; every failure is a problem response, never a stack trace."""
        try:
            status, headers, body = self._dispatch(environ)
        except Exception:
            logger.exception("unhandled error in the webhook application")
            status, headers, body = problem_wsgi_answer(
                HTTPStatus.SERVICE_UNAVAILABLE, ProblemType.SERVICE_UNAVAILABLE
            )
        start_response(f"{status} {HTTPStatus(status).phrase}", [*headers, *SECURITY_HEADERS])
        return [body]

    @property
    def routes(self) -> list[str]:
        """The paths this application answers (metrics label requests by these only)."""
        return list(self._routes)

    def _dispatch(self, environ: WSGIEnvironment) -> Response:
        route = self._routes.get(environ.get("PATH_INFO") or "/")
        if route is None:
            return problem_wsgi_answer(HTTPStatus.NOT_FOUND, ProblemType.NOT_FOUND)
        method, view = route
        request_method = environ.get("REQUEST_METHOD", "GET")
        if request_method != method and not (method == "GET" and request_method == "HEAD"):
            return problem_wsgi_answer(
                HTTPStatus.METHOD_NOT_ALLOWED,
                ProblemType.METHOD_NOT_ALLOWED,
                headers={"Allow": method},
            )
        return view(environ)

    def _body(self, environ: WSGIEnvironment) -> bytes:
        length_text = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        if length_text:
            length = int(length_text)  # ValueError -> 400, below
            if length > self._max_body_bytes:
                raise _BodyTooLargeError()  # refused without reading a byte of it
            body: bytes = stream.read(length) if length > 0 else b""
            return body
        # No Content-Length (chunked): read one byte past the limit to know it was crossed.
        body = stream.read(self._max_body_bytes + 1)
        if len(body) > self._max_body_bytes:
            raise _BodyTooLargeError()
        return body

    def _webhook(
        self,
        environ: WSGIEnvironment,
        source: str,
        receive: Callable[[bytes, WSGIEnvironment], WebhookReceipt],
    ) -> Response:
        # A span only when tracing is on (it continues the sender's traceparent, and the
        # envelope then carries this span's context); otherwise this costs nothing.
        with traced_span(
            f"POST /webhooks/{source}",
            traceparent=environ.get("HTTP_TRACEPARENT"),
            tracestate=environ.get("HTTP_TRACESTATE"),
            kind="server",
            attributes={"webhook.source": source},
        ) as span:
            response, outcome = self._webhook_answer(environ, receive)
            if span is not None:
                span.set_attribute("http.response.status_code", response[0])
                span.set_attribute("webhook.outcome", outcome)
        environ[WEBHOOK_OUTCOME_KEY] = (source, outcome)
        return response

    def _webhook_answer(
        self, environ: WSGIEnvironment, receive: Callable[[bytes, WSGIEnvironment], WebhookReceipt]
    ) -> tuple[Response, str]:
        """The answer to one delivery, and its outcome as the metrics name it."""
        try:
            body = self._body(environ)
        except _BodyTooLargeError:
            too_large = problem_wsgi_answer(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, ProblemType.PAYLOAD_TOO_LARGE
            )
            return too_large, "too_large"
        except ValueError:
            malformed = problem_wsgi_answer(
                HTTPStatus.BAD_REQUEST, ProblemType.MALFORMED_REQUEST, "invalid Content-Length"
            )
            return malformed, "invalid"
        if not json_media_type_accepted(environ.get("CONTENT_TYPE")):
            unsupported = problem_wsgi_answer(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                ProblemType.UNSUPPORTED_MEDIA_TYPE,
                "the body must be application/json",
            )
            return unsupported, "invalid"
        try:
            receipt = receive(body, environ)
        except SignatureError:
            # No detail: telling a forger which check failed helps only the forger.
            forged = problem_wsgi_answer(HTTPStatus.UNAUTHORIZED, ProblemType.SIGNATURE_INVALID)
            return forged, "rejected_signature"
        except MalformedPayloadError:
            malformed = problem_wsgi_answer(
                HTTPStatus.BAD_REQUEST, ProblemType.MALFORMED_REQUEST, "the body is not JSON"
            )
            return malformed, "invalid"
        except PayloadError as error:
            invalid = problem_wsgi_answer(
                HTTPStatus.BAD_REQUEST, ProblemType.VALIDATION_FAILED, str(error)
            )
            return invalid, "invalid"
        if receipt.envelope is None:
            return self._acknowledgement(receipt.event_id, "ignored"), "ignored"
        try:
            self.publisher.webhook_envelope_publish(
                receipt.envelope, event_id=receipt.event_id, traceparent=receipt.traceparent
            )
        except BrokerUnavailableError:
            unavailable = problem_wsgi_answer(
                HTTPStatus.SERVICE_UNAVAILABLE,
                ProblemType.SERVICE_UNAVAILABLE,
                "the event could not be queued; retry later",
            )
            return unavailable, "broker_unavailable"
        return self._acknowledgement(receipt.event_id, "queued"), "accepted"

    @staticmethod
    def _acknowledgement(event_id: str, status: str) -> Response:
        acknowledgement = WebhookAcknowledgement(event_id=event_id, status=status)  # type: ignore[arg-type]
        return _response(HTTPStatus.ACCEPTED, payload_encode(acknowledgement))

    def _payment_webhook(self, environ: WSGIEnvironment) -> Response:
        def receive(body: bytes, environ: WSGIEnvironment) -> WebhookReceipt:
            traceparent, tracestate = _trace_headers(environ)
            return self._payments.payment_webhook_receive(
                body,
                signature=environ.get("HTTP_STRIPE_SIGNATURE"),
                traceparent=traceparent,
                tracestate=tracestate,
                received_at=datetime.now(UTC),
            )

        return self._webhook(environ, "payments", receive)

    def _carrier_webhook(self, environ: WSGIEnvironment) -> Response:
        def receive(body: bytes, environ: WSGIEnvironment) -> WebhookReceipt:
            traceparent, tracestate = _trace_headers(environ)
            return self._carrier.carrier_webhook_receive(
                body,
                headers=_headers(environ),
                traceparent=traceparent,
                tracestate=tracestate,
                received_at=datetime.now(UTC),
            )

        return self._webhook(environ, "carrier", receive)

    def _liveness(self, environ: WSGIEnvironment) -> Response:
        return _health_response(liveness_answer(component=COMPONENT, version=__version__))

    def _readiness(self, environ: WSGIEnvironment) -> Response:
        return _health_response(
            readiness_answer(
                component=COMPONENT,
                version=__version__,
                checks={"broker": self.publisher.broker_check},
            )
        )


def _trace_headers(environ: WSGIEnvironment) -> tuple[str | None, str | None]:
    """The trace context the envelope carries: this function's span, else the sender's."""
    current = trace_context_current()
    if current is None:
        return environ.get("HTTP_TRACEPARENT"), environ.get("HTTP_TRACESTATE")
    tracestate = current.tracestate
    return current.traceparent, tracestate if isinstance(tracestate, str) else None


def _health_response(answer: HealthAnswer) -> Response:
    return _response(
        answer.status,
        answer.body,
        **{name.replace("-", "_"): value for name, value in answer.headers.items()},
    )


def webhook_application_create(settings: FunctionSettings | None = None) -> WebhookApplication:
    """Build the application from ``settings`` (by default, from the environment)."""
    settings = FunctionSettings.from_environment() if settings is None else settings
    webhook_tracing_start()
    return WebhookApplication(
        payments=PaymentWebhookReceiver(settings.payment_secrets),
        carrier=CarrierWebhookReceiver(settings.carrier_secrets),
        publisher=WebhookEnvelopePublisher(
            settings.broker_url, transport_options=settings.broker_options
        ),
        max_body_bytes=settings.max_body_bytes,
    )
