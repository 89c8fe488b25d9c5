"""The Kubernetes dev overlay played for real on this machine's engine: `podman kube play`.

scripts/kube_play.py renders infra/k8s/overlays/local-play (the dev overlay on the Debian
stand-ins, with host ports 9080 and 9002) with the locked kubectl, plays what podman 4.3 can run
on the images `make test-containers` built (building them when missing), waits on the pods' own
readiness probes, and tears everything down at the end: no pod, secret, volume or network of
the play may be left. The first test names each kind podman does not run as rendered and why;
the others go through the played pods: the catalog page from the monolith, and a payment
webhook signed as the provider signs it, accepted by the functions and applied by the monolith
worker through RabbitMQ (the order turns paid). Without an engine the tests skip, and fail
under CI=true.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tessera_contract.signing import StripeSignatureSigner, standard_webhook_secret_generate
from tessera_sandbox.events import Checkout, payment_event_body
from tessera_testsupport import service_missing
from tessera_testsupport.shop_http import csrf_token, guest_checks_out

from scripts.container_stack import StackError, ports_taken
from scripts.kube_play import (
    DEMO_PRODUCTS,
    FUNCTIONS_URL,
    MONOLITH_URL,
    PLAY_ADAPTATIONS,
    PUBLISHED_PORTS,
    SEED_DEMO,
    KubePlay,
    left_out_report,
    play_plan,
    play_prepare,
    rendered,
)

# Webhook → functions → RabbitMQ → monolith worker → order paid: seconds when idle.
APPLIED_TIMEOUT_SECONDS = 60
# What a cluster runs that podman 4.3 has no controller for.
LEFT_OUT_KINDS = {"Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"}


@pytest.fixture(scope="module")
def kube_play() -> Iterator[KubePlay]:
    try:
        play = play_prepare()
    except StackError as error:
        service_missing(str(error))
    # A play that was interrupted leaves its pods behind: remove them before starting anew.
    play.down()
    if taken := ports_taken(PUBLISHED_PORTS):
        pytest.fail(f"ports the play publishes are in use: {taken}")
    print(f"\n{left_out_report(play.plan)}")
    started = time.monotonic()
    try:
        play.up()
        play.exec("monolith", "monolith", *SEED_DEMO, "--products", str(DEMO_PRODUCTS))
        phases = ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in play.seconds.items())
        ready = time.monotonic() - started
        print(f"\nkube play: every pod ready {ready:.0f} s after the play ({phases})")
        yield play
    except StackError as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        play.down()
        print(f"\nkube play: {time.monotonic() - started:.0f} s from the play to torn down")
    leftovers = play.leftovers()
    assert leftovers == [], f"left behind after the teardown: {leftovers}"


def test_the_play_names_every_kind_podman_does_not_run_and_runs_every_workload() -> None:
    objects = rendered()
    plan = play_plan(objects)
    assert set(plan.left_out) == LEFT_OUT_KINDS
    assert set(plan.left_out) <= set(PLAY_ADAPTATIONS)
    workloads = {
        item["metadata"]["name"]
        for item in objects
        if item["kind"] in {"Deployment", "StatefulSet", "Job"}
    }
    played = {pod.workload["metadata"]["name"] for pod in plan.pods()}
    assert played == workloads
    # Each Service's name is a pod's, so the network's DNS answers it as a cluster would; that
    # holds for its callers only where the Service's port is the container's.
    pods = {pod.name: pod for pod in plan.pods()}
    for service in (item for item in objects if item["kind"] == "Service"):
        name = service["metadata"]["name"]
        assert name in pods, f"no played pod is named after the Service {name}"
        container_ports = {
            port.get("name"): port["containerPort"]
            for container in pods[name].containers
            for port in container.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            resolved = container_ports.get(target, target) if isinstance(target, str) else target
            assert resolved == port["port"], f"Service {name}: {port['port']} → {target}"


def test_the_played_monolith_serves_the_catalog(kube_play: KubePlay) -> None:
    catalog = httpx.get(f"{MONOLITH_URL}/", timeout=10)
    assert catalog.status_code == 200, catalog.text[-2000:]
    assert catalog.headers["content-type"].startswith("text/html")
    products = set(re.findall(r'href="(/products/[^"]+)"', catalog.text))
    assert products, "no product on the catalog page"


def test_a_signed_payment_webhook_through_the_played_functions_turns_the_order_paid(
    kube_play: KubePlay,
) -> None:
    with httpx.Client(base_url=MONOLITH_URL, timeout=10) as shopper:
        add = re.search(r"/cart/add/\d+/", shopper.get("/").text)
        assert add, "no add-to-cart form on the catalog page"
        added = shopper.post(add.group(0), data={"csrfmiddlewaretoken": csrf_token(shopper, "/")})
        assert added.status_code in (200, 302), added.text[-2000:]
        # The pay page the shop sends the shopper to carries what the provider is paid for.
        pay_page = parse_qs(urlsplit(guest_checks_out(shopper)).query)
        checkout = Checkout(
            payment_reference=pay_page["reference"][0],
            amount_minor=round(float(pay_page["amount"][0]) * 100),
            currency=pay_page["currency"][0],
            order_number=pay_page["order"][0],
        )
        order_status = f"{urlsplit(pay_page['return_url'][0]).path}status/"
        assert "badge--paid" not in shopper.get(order_status).text

        body = payment_event_body(checkout, outcome="succeeded")
        secret = kube_play.secrets["tessera-functions"]["PAYMENT_WEBHOOK_SECRETS"]
        webhook = f"{FUNCTIONS_URL}/webhooks/payments"
        # Signed with another secret: refused before anything is queued.
        forged = StripeSignatureSigner([standard_webhook_secret_generate()]).header(body)
        refused = httpx.post(webhook, content=body, headers={"Stripe-Signature": forged})
        assert 400 <= refused.status_code < 500, refused.text
        signature = StripeSignatureSigner([secret]).header(body)
        accepted = httpx.post(
            webhook,
            content=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            timeout=10,
        )
        assert 200 <= accepted.status_code < 300, accepted.text

        deadline = time.monotonic() + APPLIED_TIMEOUT_SECONDS
        while "badge--paid" not in shopper.get(order_status).text:
            assert time.monotonic() < deadline, (
                f"order {checkout.order_number} not paid {APPLIED_TIMEOUT_SECONDS} s after "
                "the functions accepted its payment webhook"
            )
            time.sleep(0.5)
