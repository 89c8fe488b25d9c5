"""Reading lists of active secrets from configuration.

Every scheme accepts several secrets at once so that a secret can be rotated without
downtime: add the new one everywhere, start signing with it, then drop the old one.
"""

import re

_SEPARATORS = re.compile(r"[\s,]+")


def secret_list_parse(value: str) -> list[str]:
    """Split a configuration value such as ``"whsec_new, whsec_old"`` into its secrets.

    Commas and whitespace both separate, so the value survives being wrapped in an
    environment file. The first secret is the one to sign with.
    """
    secrets = [item for item in _SEPARATORS.split(value.strip()) if item]
    if not secrets:
        raise ValueError("no secret configured")
    return secrets
