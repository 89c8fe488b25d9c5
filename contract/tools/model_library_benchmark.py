"""Measure the candidate libraries for the contract's models on realistic webhook payloads.

For each candidate this reports:
- decode + validate time of a recorded payment event (2.5 KB, Stripe's full shape) and of a
  carrier event, from raw bytes to a typed object, every constraint of the schema checked;
- cold start: a fresh interpreter importing the library, building the models or validator and
  decoding one event, minus the interpreter's own start-up;
- installed size, as it would go into a Lambda package (``pip install --target``), unzipped
  and zipped.

It then times the signing code on the same payloads (both webhook schemes and the service
tokens, the latter through PyJWT) and the cold start of each hot-path module.

Run it in a scratch virtualenv that has all candidates installed (it needs network access to
the package index for the size measurement)::

    python3 -m venv /tmp/bench && /tmp/bench/bin/pip install -e 'contract' \
        pydantic fastjsonschema jsonschema rfc3339-validator
    /tmp/bench/bin/python contract/tools/model_library_benchmark.py  # from the repository root

The figures go into docs/contract.md.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import zipfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from model_candidates import CANDIDATES, CARRIER_BODY, PACKAGES, PAYMENT_BODY


def decode_microseconds(decode: Callable[[bytes], Any], body: bytes) -> float:
    """Median time of one decode, in microseconds, over 7 runs of an auto-sized loop."""
    timer = timeit.Timer(lambda: decode(body))
    loops, _ = timer.autorange()
    runs = timer.repeat(repeat=7, number=loops)
    return statistics.median(runs) / loops * 1e6


def cold_start_milliseconds(candidate: str, repeats: int = 21) -> float:
    """Median wall time of a fresh interpreter that imports the candidate, builds its models
    and decodes one event, minus that of one that only imports the candidates module."""
    tools = str(Path(__file__).resolve().parent)

    def wall(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=tools)  # noqa: S603
        return time.perf_counter() - started

    baseline = statistics.median(wall("import model_candidates") for _ in range(repeats))
    measured = statistics.median(
        wall(f"import model_candidates; model_candidates.first_decode({candidate!r})")
        for _ in range(repeats)
    )
    return (measured - baseline) * 1000


def installed_bytes(candidate: str) -> tuple[int, int]:
    """Unzipped and zipped size of the candidate's packages, installed as for a Lambda."""
    return installed_bytes_of(PACKAGES[candidate])


def installed_bytes_of(packages: list[str]) -> tuple[int, int]:
    """Unzipped and zipped size of ``packages`` (at their installed versions) and their
    dependencies, installed with ``pip install --target`` as for a Lambda package."""
    requirements = [f"{name}=={version(name)}" for name in packages]
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "package"
        subprocess.run(  # noqa: S603 - fixed pip invocation
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-compile",
                "--target",
                str(target),
                *requirements,
            ],
            check=True,
        )
        shutil.rmtree(target / "bin", ignore_errors=True)
        unzipped = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
        archive = Path(scratch) / "package.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in target.rglob("*"):
                if path.is_file():
                    bundle.write(path, path.relative_to(target))
        return unzipped, archive.stat().st_size


def signing_figures() -> None:
    """Print the cost of verifying each scheme, and of importing each hot-path module."""
    from tessera_contract.signing import (
        StandardWebhookSigner,
        StandardWebhookVerifier,
        StripeSignatureSigner,
        StripeSignatureVerifier,
        standard_webhook_secret_generate,
    )
    from tessera_contract.signing.service_tokens import (
        ServiceTokenIssuer,
        ServiceTokenKeyring,
        ServiceTokenVerifier,
    )

    stripe_secrets = ["whsec_benchmark_secret_0123456789abcdef"]
    stripe_header = StripeSignatureSigner(stripe_secrets).header(PAYMENT_BODY)
    stripe_verifier = StripeSignatureVerifier(stripe_secrets)
    standard_secrets = [standard_webhook_secret_generate()]
    standard_headers = StandardWebhookSigner(standard_secrets).headers(
        CARRIER_BODY, message_id="msg_benchmark"
    )
    standard_verifier = StandardWebhookVerifier(standard_secrets)
    keyring = ServiceTokenKeyring.parse("k1:" + "k" * 40)
    issuer = ServiceTokenIssuer(keyring, issuer="tessera-monolith", audience="tessera-processing")
    token_verifier = ServiceTokenVerifier(
        keyring, audience="tessera-processing", issuers=["tessera-monolith"]
    )
    token = issuer.issue()
    operations: dict[str, Callable[[bytes], Any]] = {
        "Stripe-Signature verify (payment event)": lambda body: stripe_verifier.verify(
            body, stripe_header
        ),
        "Standard Webhooks verify (carrier event)": lambda _: standard_verifier.verify(
            CARRIER_BODY, standard_headers
        ),
        "service token issue (PyJWT HS256)": lambda _: issuer.issue(),
        "service token verify (PyJWT HS256)": lambda _: token_verifier.verify(token),
    }
    print("\n| operation | µs |\n|---|---:|")
    for name, operation in operations.items():
        print(f"| {name} | {decode_microseconds(operation, PAYMENT_BODY):.1f} |")

    print("\n| import (fresh interpreter, minus `python -c pass`) | ms |\n|---|---:|")
    for module in (
        "tessera_contract.webhooks",
        "tessera_contract.signing",
        "tessera_contract.signing.service_tokens",
        "tessera_contract.client",
    ):
        print(f"| `{module}` | {import_milliseconds(module):.0f} |")
    unzipped, zipped = installed_bytes_of(["PyJWT"])
    print(
        f"\nPyJWT {version('PyJWT')} installed: {unzipped / 1024:.0f} KiB, "
        f"zipped {zipped / 1024:.0f} KiB"
    )


def import_milliseconds(module: str, repeats: int = 21) -> float:
    """Median wall time of importing ``module`` in a fresh interpreter, start-up subtracted."""

    def wall(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603
        return time.perf_counter() - started

    baseline = statistics.median(wall("pass") for _ in range(repeats))
    return (statistics.median(wall(f"import {module}") for _ in range(repeats)) - baseline) * 1000


def main() -> None:
    """Print a Markdown table of every candidate's figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--skip-size", action="store_true", help="skip the install-size step")
    arguments = parser.parse_args()

    print(f"Python {sys.version.split()[0]} on {os.uname().machine}")
    print(f"payment event {len(PAYMENT_BODY)} bytes, carrier event {len(CARRIER_BODY)} bytes\n")
    print(
        "| candidate | version | payment event µs | carrier event µs | cold start ms "
        "| installed KiB | zipped KiB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for candidate, build in CANDIDATES.items():
        payment, carrier = build()
        payment_us = decode_microseconds(payment, PAYMENT_BODY)
        carrier_us = decode_microseconds(carrier, CARRIER_BODY)
        cold_ms = cold_start_milliseconds(candidate)
        unzipped, zipped = (0, 0) if arguments.skip_size else installed_bytes(candidate)
        packages = ", ".join(f"{name} {version(name)}" for name in PACKAGES[candidate])
        print(
            f"| {candidate} | {packages} | {payment_us:.1f} | {carrier_us:.1f} | {cold_ms:.0f} "
            f"| {unzipped / 1024:.0f} | {zipped / 1024:.0f} |"
        )
    signing_figures()


if __name__ == "__main__":
    main()
