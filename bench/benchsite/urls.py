"""The whole monolith, plus `/bench/ok`: the baseline served by the same server and middleware."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def ok(request: HttpRequest) -> HttpResponse:
    """The baseline: every middleware runs, but no template, no query, no session write."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/ok", ok, name="bench_ok"),
    path("", include("monolith.urls")),
]
