"""Sign-up; log-in, log-out and password reset are Django's own views (see urls.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .forms import SignUpForm


def _next_url(request: HttpRequest) -> str:
    """The page to continue to after sign-up: a posted or linked `next` of ours, else the shop."""
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url("catalog:product_list")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign the shopper in; their session cart joins the new account."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Logging in sends user_logged_in, whose receiver merges the session cart.
        # The model backend signed them up; axes, listed first, authenticates no one.
        login(request, user, backend="monolith.accounts.backends.CachedModelBackend")
        messages.success(request, f"Welcome to Tessera, {user.get_username()}!")
        return redirect(_next_url(request))
    return render(
        request,
        "accounts/signup.html",
        {"form": form, "redirect_field_name": REDIRECT_FIELD_NAME, "next": _next_url(request)},
    )
