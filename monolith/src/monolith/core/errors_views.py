"""Error pages: HTML for the shop, RFC 9457 problems for the API under /api/."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views import defaults

from monolith.api.problems import api_forbidden, api_not_found, api_server_error, is_api_request


def not_found(request: HttpRequest, exception: Http404) -> HttpResponse:
    if is_api_request(request):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def forbidden(request: HttpRequest, exception: PermissionDenied) -> HttpResponse:
    if is_api_request(request):
        return api_forbidden(request, exception)
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return api_server_error(request)
    return defaults.server_error(request)
