"""`manage.py outbox_relay`: publish the outbox's due messages (once, or until stopped)."""

import contextlib
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from processing.jobs.relay import outbox_relay_loop
from processing.jobs.services import outbox_relay


class Command(BaseCommand):
    help = (
        "Publish outbox messages whose publish after commit failed. Every worker already "
        "runs this; the command is for a deployment without workers running, or to drain "
        "the outbox by hand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        if once:
            self.stdout.write(f"published {outbox_relay()}")
            return
        with contextlib.suppress(KeyboardInterrupt):
            outbox_relay_loop(threading.Event(), interval)
