"""Writing a saved file so that readers only ever see a complete one.

A save to a path writes a temporary file with a unique random name in the
target's own folder (so that the final rename stays on one file system), flushes
it to disk with ``fsync``, renames it over the target in one step and ``fsync``\\ s
the folder, so that the rename itself survives a crash. Any number of threads and
processes may save to one path at once: each writes its own temporary file, and
the last rename wins with a complete file; none fails because of another. An
existing target keeps its permission bits, and a symlink is written through (its
target is replaced, the link stays).
"""

from __future__ import annotations

import os
import secrets
import stat

__all__ = ["write_atomically", "read_all"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _fsync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass   # some file systems refuse fsync on folders; the data itself is already synced
    finally:
        os.close(fd)


def _open_unique(target: str):
    """``(fd, path)`` of a new file next to ``target``, created with O_EXCL, mode 0666
    minus the umask (what ``open(target, "wb")`` would give)."""
    folder, base = os.path.split(target)
    for _ in range(100):
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(8)}.tmp")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"plugrad.save: could not create a unique temporary file next to {target}")


def write_atomically(path, blob: bytes) -> None:
    """Replace the file at ``path`` (through symlinks) by one holding ``blob``."""
    target = os.path.realpath(os.fspath(path))
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = _open_unique(target)
    try:
        with os.fdopen(fd, "wb") as out:
            if mode is not None:
                os.chmod(out.fileno() if os.chmod in os.supports_fd else tmp, mode)
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(os.path.dirname(target) or ".")


def read_all(f) -> tuple:
    """``(bytes, name)`` of a path or a binary file object (read from its position)."""
    if hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"plugrad.load: the file object must be opened in binary mode (read gave "
                            f"{type(data).__name__})")
        return bytes(data), getattr(f, "name", "<file object>")
    path = os.fspath(f)
    with open(path, "rb") as fh:
        return fh.read(), path
