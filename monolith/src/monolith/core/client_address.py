"""The client's address, read one way by everything that keys on it (API throttles, sign-in
lock-outs).

X-Forwarded-For is trusted only through ``TESSERA_TRUSTED_PROXY_COUNT`` proxies (REST
framework's ``NUM_PROXIES``): the entry that the outermost trusted proxy appended. With no
proxy configured, the socket's address: a header the client wrote itself would otherwise let it
pick a fresh address for every guess.
"""

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str:
    """The address to throttle ``request`` by (DRF's own reading of NUM_PROXIES)."""
    # DRF's get_ident reads only request.META; a plain HttpRequest is enough.
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]
