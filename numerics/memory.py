"""Keep freed memory in the process, so that the kernels' temporaries do not fault in fresh pages.

The generated kernels allocate their temporaries (activations, deltas: megabytes per chunk) on every
call.  glibc's malloc serves such sizes with fresh ``mmap`` pages and returns them on free, so every
call pays a page fault per 4 KiB touched: measured 5x the arithmetic of an MLP gradient at
N = 1e4, width 100 on a virtual machine.  Raising the trim threshold and keeping allocations up to
32 MiB on the heap lets the next call reuse the same pages (as PyTorch's caching allocator does).
The process keeps up to ``TRIM_BYTES`` of freed memory; allocations above 32 MiB are still returned.

The particle systems' steps allocate their products the same way (8 MiB each at N = M = 1024: 35 ms
a step with the pages faulted in afresh, 25.5 ms with them kept, NumPy's own time).

Applied once, on first use of the MLP or particle kernels, on Linux with glibc; ``GRADFLOW_KEEP_FREED_MEMORY=0``
turns it off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import lru_cache

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
MMAP_BYTES = 32 * 2 ** 20  # glibc's largest allowed mmap threshold on 64-bit systems
TRIM_BYTES = 512 * 2 ** 20
TOP_PAD_BYTES = 64 * 2 ** 20


@lru_cache(maxsize=None)
def keep_freed_memory() -> bool:
    """Tune glibc's malloc as the module docstring says; True when applied."""
    if os.environ.get("GRADFLOW_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return all(mallopt(option, value) == 1 for option, value in
               ((_M_MMAP_THRESHOLD, MMAP_BYTES), (_M_TRIM_THRESHOLD, TRIM_BYTES), (_M_TOP_PAD, TOP_PAD_BYTES)))
