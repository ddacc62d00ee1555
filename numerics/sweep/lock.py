"""One driving process per store: a lock file beside the store (``<store>.lock``) naming its owner.

The file holds the owner's host and pid.  A lock whose owner is on this host and no longer alive
is stale and taken over; a live owner (or one on another host, which cannot be checked from here)
makes the second run fail with a one-line error naming the owner.  Creation is atomic (O_EXCL),
so of two runs racing for a stale lock only one wins.  Stores at URLs (object stores) are not
locked: there, run one driver per store.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from gradflow.theory.errors import ParameterError

from gradflow.numerics.sweep.store import is_url


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class StoreLock:
    def __init__(self, store: str):
        self.path = None if is_url(store) else Path(str(store).rstrip("/") + ".lock")
        self.store = str(store)
        self.took_over = None  # the stale owner replaced, if any

    def _owner(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        except OSError as exc:  # no such folder, read-only file system, no permission
            raise ParameterError("--store", f"a writable location ({exc.strerror})", self.store) from None
        with os.fdopen(fd, "w") as f:
            json.dump({"host": socket.gethostname(), "pid": os.getpid()}, f)
        return True

    def acquire(self) -> "StoreLock":
        if self.path is None:
            return self
        for _ in range(3):
            if self._create():
                return self
            owner = self._owner()
            here = owner.get("host") == socket.gethostname()
            if here and isinstance(owner.get("pid"), int) and not _alive(owner["pid"]):
                self.took_over = owner
                try:
                    os.unlink(self.path)  # stale: its owner died
                except FileNotFoundError:
                    pass
                continue
            if not owner:  # being written right now, or unreadable
                continue
            raise ParameterError("--store", f"a store no other sweep is running on; it is locked by pid "
                                 f"{owner.get('pid')} on {owner.get('host')} ({self.path})", self.store)
        raise ParameterError("--store", f"a store whose lock can be taken ({self.path})", self.store)

    def release(self) -> None:
        if self.path is not None and self._owner().get("pid") == os.getpid():
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
