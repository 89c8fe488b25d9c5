"""Service-token authentication: only internal services with a valid token reach the API."""

from functools import lru_cache
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from tessera_contract.signing.errors import ServiceTokenError
from tessera_contract.signing.service_tokens import (
    ServiceTokenClaims,
    ServiceTokenKeyring,
    ServiceTokenVerifier,
)
from tessera_runtime.problems.answers import ProblemType


@lru_cache(maxsize=1)
def service_token_verifier() -> ServiceTokenVerifier:
    """The verifier built from settings once per process."""
    return ServiceTokenVerifier(
        ServiceTokenKeyring.parse(settings.PROCESSING_SERVICE_TOKEN_KEYS),
        audience=settings.PROCESSING_TOKEN_AUDIENCE,
        issuers=settings.PROCESSING_TOKEN_KNOWN_ISSUERS,
    )


class ServiceCaller:
    """The authenticated caller: an internal service, named by its token's issuer."""

    is_authenticated = True

    def __init__(self, claims: ServiceTokenClaims) -> None:
        self.claims = claims

    @property
    def service(self) -> str:
        return self.claims.issuer


# Subclasses of DRF's own, so DRF still answers 401 with WWW-Authenticate; the contract names
# the problem token-invalid, whether the token is missing or refused.
class ServiceTokenMissingError(exceptions.NotAuthenticated):
    problem_type = ProblemType.TOKEN_INVALID


class ServiceTokenRefusedError(exceptions.AuthenticationFailed):
    problem_type = ProblemType.TOKEN_INVALID


class ServiceTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <service token>``; any failure is 401 (token-invalid)."""

    def authenticate(self, request: Request) -> tuple[ServiceCaller, ServiceTokenClaims]:
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            raise ServiceTokenMissingError("A service token is required.")
        try:
            claims = service_token_verifier().verify_authorization_header(header)
        except ServiceTokenError as error:
            raise ServiceTokenRefusedError(str(error)) from None
        return ServiceCaller(claims), claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="processing"'


class IsAllowedService(BasePermission):
    """A valid token whose issuer is not allowed to use the jobs API gets 403."""

    message = "This service may not call the processing API."

    def has_permission(self, request: Request, view: Any) -> bool:
        caller = request.user
        return isinstance(caller, ServiceCaller) and (
            caller.service in settings.PROCESSING_TOKEN_ALLOWED_ISSUERS
        )
