"""kombu's filesystem transport, with files that a reader can never see half-written.

kombu's own `_put` creates the message file under its final name and then writes it. The
reader moves and reads every file whose name ends in ``.<queue>.msg`` as soon as it lists
it, so a message caught between the two is read empty: a JSONDecodeError, the file already
gone (measured: 15 of 3,000 messages lost to a reader polling while a writer published), and
a Celery worker that meets it stops with "Unrecoverable error". Here the body is written under
a name the reader skips and renamed into place: a rename within a folder is atomic, so the
reader sees a whole message or none. The same holds for an exchange's binding table (the
control folder): kombu creates it empty and then writes it, and a publisher reading it in
between failed with the same JSONDecodeError; here it is created whole, with a hard link
that fails when another process created it first.

Used for every ``filesystem://`` URL once `tessera_runtime.brokers.filesystem_transport_options`
has run in the process (it registers this transport for the scheme).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
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
    # filesystem.Channel's own signature; kombu's base channel names the parameter `message`,
    # so no override can match both of kombu's classes.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
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

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        """Bind ``queue``: a new binding table is created whole; an existing one is updated
        under kombu's file lock, as before."""
        table: Path = self._exchange_file(exchange)  # type: ignore[attr-defined]  # untyped in kombu
        if not table.exists():
            self.control_folder.mkdir(exist_ok=True)
            binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
            partial = table.with_name(f"{table.name}.{uuid.uuid4()}{PARTIAL_SUFFIX}")
            partial.write_bytes(str_to_bytes(dumps([binding])))
            try:
                os.link(partial, table)
                return
            except FileExistsError:
                pass  # another process created it meanwhile: add the binding to theirs
            finally:
                partial.unlink()
        super()._queue_bind(exchange, routing_key, pattern, queue)


class Transport(filesystem.Transport):
    Channel = Channel
