"""Reading a file a user named, safely: a regular file, and no more than a bound.

A path on a command line or in a state directory can name a named pipe (the read waits for a
writer that never comes), ``/dev/zero`` (the read never ends) or a file far larger than any
manifest. The file is opened without blocking, checked to be a regular file on the open
descriptor (no race with a rename), and read up to the bound plus one byte.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class FileRefused(OSError):
    """Not a regular file, or larger than the bound; the message says which."""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``), or FileRefused."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("not a regular file (a pipe, device or socket)")
        if info.st_size > limit:
            raise FileRefused(f"larger than {limit} bytes")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileRefused(f"larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)
