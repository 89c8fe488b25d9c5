"""Each part's environment variables: the settings that differ from `make run`, in one place."""

from __future__ import annotations

import os
import secrets

from scripts.distributed.topology import Topology

# The demo webhook secrets of `make run`: the sandbox signs with them, the functions verify.
# Public on purpose, for loopback only; real environment variables win.
DEMO_WEBHOOK_SECRETS = {
    "PAYMENT_WEBHOOK_SECRETS": "whsec_tessera_local_payments_demo",
    "CARRIER_WEBHOOK_SECRETS": "whsec_dGVzc2VyYS1sb2NhbC1jYXJyaWVyLWRlbW8tc2VjcmV0",
}


def generated_secrets() -> dict[str, str]:
    """The run's own secrets, unless the environment sets them; kept in memory only.

    They change on every start, so sessions and in-flight job callbacks do not survive a
    restart of the run; set them in the environment to keep them.
    """
    from tessera_contract.signing import standard_webhook_secret_generate

    values = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PROCESSING_DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SERVICE_TOKEN_KEYS": f"dist:{secrets.token_urlsafe(32)}",
        "JOB_RESULT_CALLBACK_SECRETS": standard_webhook_secret_generate(),
        **DEMO_WEBHOOK_SECRETS,
    }
    return {name: os.environ.get(name) or value for name, value in values.items()}


def environments(topology: Topology, keys: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each part's variables: the settings that differ from `make run`, in one place."""
    sandbox = f"http://127.0.0.1:{topology.sandbox_port}"
    processing = f"http://127.0.0.1:{topology.processing_port}"
    functions = f"http://127.0.0.1:{topology.functions_port}"
    origins = f"{topology.public_url},http://localhost:{topology.nginx_port}"
    headless_origins = f"{topology.headless_url},http://localhost:{topology.headless_port}"
    shared = {
        "TESSERA_VAR_DIR": str(topology.var_dir),
        "CELERY_BROKER_URL": topology.broker_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "SERVICE_TOKEN_KEYS": keys["SERVICE_TOKEN_KEYS"],
        "JOB_RESULT_CALLBACK_SECRETS": keys["JOB_RESULT_CALLBACK_SECRETS"],
    }
    monolith = {
        **shared,
        "DJANGO_SETTINGS_MODULE": "monolith.settings.production",
        "DJANGO_SECRET_KEY": keys["DJANGO_SECRET_KEY"],
        "DATABASE_URL": topology.database_url(topology.monolith_database),
        "CACHE_URL": topology.redis_url,
        "DJANGO_STATIC_ROOT": str(topology.folder("static")),
        "DJANGO_MEDIA_ROOT": str(topology.folder("media")),
        "DJANGO_CSRF_TRUSTED_ORIGINS": origins,
        # The headless storefront calls the API from its own origin.
        "TESSERA_CORS_ALLOWED_ORIGINS": headless_origins,
        # Plain HTTP on loopback: no TLS redirect, cookies without the Secure flag.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        # nginx sets X-Forwarded-For to the address it saw: the client, for throttles and
        # sign-in lock-outs.
        "TESSERA_TRUSTED_PROXY_COUNT": "1",
        "PAYMENT_PROVIDER_URL": sandbox,
        "CARRIER_API_URL": sandbox,
        "PROCESSING_API_URL": processing,
    }
    processing_env = {
        **shared,
        "DJANGO_SETTINGS_MODULE": "processing.settings.production",
        "DJANGO_SECRET_KEY": keys["PROCESSING_DJANGO_SECRET_KEY"],
        "PROCESSING_DATABASE_URL": topology.database_url(topology.processing_database),
        "PROCESSING_MEDIA_ROOT": str(topology.folder("media")),
        "DJANGO_STATIC_ROOT": str(topology.folder("processing-static")),
        # Results are called back through nginx, so either replica accepts them.
        "MONOLITH_CALLBACK_URL": topology.public_url,
    }
    functions_env = {
        "TESSERA_VAR_DIR": str(topology.var_dir),
        "WEBHOOKS_BROKER_URL": topology.broker_url,
        "WEBHOOKS_BIND": f"127.0.0.1:{topology.functions_port}",
        "PAYMENT_WEBHOOK_SECRETS": keys["PAYMENT_WEBHOOK_SECRETS"],
        "CARRIER_WEBHOOK_SECRETS": keys["CARRIER_WEBHOOK_SECRETS"],
    }
    sandbox_env = {
        "SANDBOX_PAYMENT_SECRETS": keys["PAYMENT_WEBHOOK_SECRETS"],
        "SANDBOX_CARRIER_SECRETS": keys["CARRIER_WEBHOOK_SECRETS"],
        "SANDBOX_PAYMENTS_WEBHOOK_URL": f"{functions}/webhooks/payments",
        "SANDBOX_CARRIER_WEBHOOK_URL": f"{functions}/webhooks/carrier",
        # The pay page sends the shopper back to the shop, which is nginx now, or to the
        # headless storefront.
        "SANDBOX_RETURN_ORIGINS": f"{origins},{headless_origins}",
    }
    return {
        "monolith": monolith,
        "processing": processing_env,
        "functions": functions_env,
        "sandbox": sandbox_env,
    }
