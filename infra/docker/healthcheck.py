#!/usr/bin/env python3
"""`tessera-healthcheck URL`: exit 0 when URL answers 200 within the timeout, else 1.

Docker runs a health check inside the container, and slim or scratch images carry no curl or
wget; every Tessera image has Python, so this standard-library probe is the one health check
command they all share. The reason for a failure goes to stdout, where `docker inspect` shows it.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5.0


def probe(url: str, *, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when `url` answers 200, else the reason it is not healthy."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our URL
            if response.status == 200:
                return None
            return f"{url} answered {response.status}"
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"{url} did not answer: {error}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: tessera-healthcheck URL")
        return 2
    reason = probe(argv[1])
    if reason is not None:
        print(reason)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
