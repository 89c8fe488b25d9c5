"""A TCP relay in front of a real broker that a test can switch off and on again.

Moved here from functions/webhooks/tests/webhook_testing.py so that every suite can take a
broker down for its own application without touching the real server other suites use.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit


class SwitchableBrokerProxy:
    """A TCP relay on 127.0.0.1 in front of a real broker that a test can stop and restart.

    Stopped, it refuses connections and cuts open ones: the broker is down as far as the
    application can tell, without touching the real server other suites use. In ``stall``
    mode it accepts connections and never answers: a broker that hangs. ``paused`` holds
    every byte on open connections: a broker that stops answering mid-conversation.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port: int = probe.getsockname()[1]
        probe.close()
        self.stall = False
        self.paused = False
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    @classmethod
    def in_front_of(cls, broker_url: str) -> SwitchableBrokerProxy:
        """A proxy (not started) for the broker at ``broker_url``; see :meth:`url_through`."""
        parts = urlsplit(broker_url)
        default_ports = {"redis": 6379, "rediss": 6379, "amqp": 5672, "pyamqp": 5672}
        return cls(parts.hostname or "127.0.0.1", parts.port or default_ports[parts.scheme])

    def url_through(self, broker_url: str) -> str:
        """``broker_url`` with its host and port replaced by this proxy's."""
        parts = urlsplit(broker_url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@" if credentials else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{self.port}"))

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        for sock in [listener, *sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            if self.stall:
                continue
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.paused:
                    time.sleep(0.01)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
