"""kombu's filesystem transport, with a publish that a reader can never see half-written.

kombu's own `_put` creates the message file under its final name and then writes it. The
reader moves and reads every file whose name ends in ``.<queue>.msg`` as soon as it lists
it, so a message caught between the two is read empty: a JSONDecodeError, the file already
gone (measured: 15 of 3,000 messages lost to a reader polling while a writer published), and
a Celery worker that meets it stops with "Unrecoverable error". Here the body is written under
a name the reader skips and renamed into place: a rename within a folder is atomic, so the
reader sees a whole message or none.

Used for every ``filesystem://`` URL once `tessera_contract.brokers.filesystem_transport_options`
has run in the process (it registers this transport for the scheme).
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

__all__ = ["Channel", "Transport"]

# Not ".msg": kombu's reader takes only names ending in ".<queue>.msg".
PARTIAL_SUFFIX = ".partial"


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Put ``payload`` onto ``queue``: written aside, then renamed into the queue."""
        # kombu's naming, so the reader's order (sorted names: time first) stays FIFO.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel
