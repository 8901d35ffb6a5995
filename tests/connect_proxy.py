"""A tiny HTTP CONNECT proxy on loopback, for testing uploads through a proxy.

It only tunnels to loopback targets, so a misconfigured test can never use it
to reach another host.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from loopback import is_loopback as _is_loopback


@dataclass
class ConnectProxy:
    port: int = 0
    tunnels: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


def _serve(client: socket.socket, proxy: ConnectProxy) -> None:
    with client:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = client.recv(4096)
            if not chunk:
                return
            request += chunk
        method, target, _version = request.split(b"\r\n", 1)[0].decode().split(" ")
        host, _, port = target.rpartition(":")
        if method != "CONNECT" or not _is_loopback(host):
            proxy.refused.append(target)
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        proxy.tunnels.append(target)
        with socket.create_connection((host.strip("[]"), int(port))) as upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            back.start()
            _pipe(client, upstream)
            back.join(timeout=10)


@contextlib.contextmanager
def connect_proxy() -> Iterator[ConnectProxy]:
    """Run the proxy in a thread for the duration of a ``with`` block."""
    server = socket.create_server(("127.0.0.1", 0))
    proxy = ConnectProxy(port=server.getsockname()[1])
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                client, _addr = server.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(client, proxy), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        stopping.set()
        # shutdown() wakes the thread blocked in accept(); close() alone does not.
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
        server.close()
        thread.join(timeout=5)
