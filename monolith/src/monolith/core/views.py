from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .readiness import readiness_report

READY_RETRY_AFTER_SECONDS = 5


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Alive: the process answers. Touches no dependency, so a broken database cannot fail it."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready: database reachable, migrations applied, storage reachable; else 503 + Retry-After."""
    checks = readiness_report()
    ready = all(outcome == "ok" for outcome in checks.values())
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
    if not ready:
        response["Retry-After"] = str(READY_RETRY_AFTER_SECONDS)
    return response
