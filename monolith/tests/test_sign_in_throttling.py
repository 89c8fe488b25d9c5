"""Password guessing is locked out on every sign-in: the admin's form, the shop's form and
the API token endpoint, per account and per client address (django-axes). Before, thirty
wrong passwords in a row all got the form again, and the API's throttle keyed on an
X-Forwarded-For that the client could vary at will."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from monolith.settings import base

from .factories import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"
FORMS = {"shop": "/accounts/login/", "admin": "/admin/login/"}


@pytest.fixture(autouse=True)
def _real_failure_limit(settings):
    # The test settings relax it for schemathesis; these tests use the shipped limit.
    settings.AXES_FAILURE_LIMIT = base.AXES_FAILURE_LIMIT


def _form_sign_in(client: Client, path: str, username: str, password: str, address: str):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("form", list(FORMS))
def test_thirty_wrong_passwords_on_a_sign_in_form_lock_the_account_out(form, staff_user):
    client = Client()
    answers = [
        _form_sign_in(client, FORMS[form], staff_user.username, WRONG, "203.0.113.5")
        for _ in range(30)
    ]

    assert answers[0].status_code == 200  # the form again, with its error
    assert answers[-1].status_code == 429
    assert int(answers[-1]["Retry-After"]) > 0
    assert b"Try again in" in answers[-1].content
    # Locked out even with the right password now, and from another address.
    right = _form_sign_in(client, FORMS[form], staff_user.username, PASSWORD, "198.51.100.9")
    assert right.status_code == 429


def test_one_address_guessing_many_accounts_is_locked_out(staff_user):
    client = Client()
    answers = [
        _form_sign_in(client, FORMS["shop"], f"guess-{n}", WRONG, "203.0.113.7") for n in range(30)
    ]

    assert answers[-1].status_code == 429
    elsewhere = _form_sign_in(client, FORMS["shop"], staff_user.username, PASSWORD, "192.0.2.1")
    assert elsewhere.status_code == 302  # the account itself is not locked


def test_thirty_wrong_passwords_on_the_token_endpoint_get_a_429_problem_with_retry_after(
    shopper,
):
    api = APIClient()
    answers = [
        api.post(
            "/api/v1/auth/token",
            {"username": shopper.username, "password": WRONG},
            format="json",
        )
        for _ in range(30)
    ]

    # A wrong password: 401 (it was a 403), with the token scheme's challenge.
    assert answers[0].status_code == 401
    assert answers[0].json()["type"] == "/problems/not-authenticated"
    assert answers[0]["WWW-Authenticate"].startswith("Token")
    locked = answers[-1]
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/problem+json"
    assert locked.json()["type"] == "/problems/rate-limited"
    assert int(locked["Retry-After"]) > 0


def test_a_forged_x_forwarded_for_does_not_escape_the_api_throttle(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "3/min"})
    api = APIClient()

    statuses = [
        api.get("/api/v1/categories", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(4)
    ]

    assert statuses == [200, 200, 200, 429]


def test_behind_one_trusted_proxy_the_address_it_appended_is_the_client(settings, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "3/min"})
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    api = APIClient()

    # The client forges the left entry; the proxy appends the address it saw.
    statuses = [
        api.get(
            "/api/v1/categories", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.{n % 2}"
        ).status_code
        for n in range(8)
    ]

    assert statuses.count(429) == 2  # each of the two real addresses gets its three
