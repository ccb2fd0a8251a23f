"""Counting the sockets this process holds open to an emulator (for leak tests, Linux).

Counting every file descriptor of the process is racy in tests: the emulator usually runs in
the same process and closes its own side of a connection a moment after the client does.
This counts only client-side TCP sockets, those whose remote port is the emulator's, by
matching ``/proc/self/fd`` socket inodes against ``/proc/net/tcp`` and ``tcp6``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["count_client_sockets"]

_SOCKET_LINK = re.compile(r"socket:\[(\d+)\]")


def _inodes_connected_to(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port:
                inodes.add(fields[9])
    return inodes


def count_client_sockets(port: int) -> int:
    """Sockets of this process connected to ``port`` on this machine.

    Raises:
        OSError: Where ``/proc`` is not available (not Linux).
    """
    inodes = _inodes_connected_to(port)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            match = _SOCKET_LINK.fullmatch(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue  # closed while listing
        if match and match.group(1) in inodes:
            count += 1
    return count
