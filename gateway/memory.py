"""How one gateway process keeps its memory bounded when clients send large requests.

A request may carry up to `max_body_bytes` (2 MB): a long string literal, 1 MB of variables.
Two things made such requests pile up, a worker growing by gigabytes under a stream of large
documents (issue 10; the figures are in bench/RESULTS.md):
- Python frees an object graph that refers to itself only when the cyclic collector runs,
  and it counts allocations, not bytes: a few hundred requests' bodies wait in garbage the
  collector has no reason to visit yet (the gateway tunes it to run rarely, see
  `tune_garbage_collector`). `LargeBodies` runs a full collection after every
  `collect_every` bytes of large request bodies.
- glibc's allocator raises its mmap threshold as large blocks are freed, after which large
  blocks come from heaps it rarely gives back. `return_large_blocks` fixes the threshold at
  128 KiB, so a large block is unmapped, and returned to the system, as soon as it is freed.
"""

import ctypes
import ctypes.util
import gc

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BLOCK = 128 * 1024
LARGE_BODY = 64 * 1024


def tune_garbage_collector() -> None:
    """Fewer, cheaper collections for a server that builds large answers.

    A data-map answer allocates a great many small objects; at CPython's default threshold of 700
    allocations the young generation is collected hundreds of times per answer and survivors
    climb into older generations that are rescanned with everything loaded at start-up. Freezing
    what exists once the app has started (modules, schema, settings) removes it from every scan,
    and a threshold of 20,000 makes young collections rarer: the data map takes noticeably less CPU
    (paired runs: bench/RESULTS.md). Objects are still collected; only how often the collector
    runs changes.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def return_large_blocks() -> bool:
    """Fix glibc's mmap threshold (see the module docstring); False where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK))
    except (OSError, AttributeError):  # not glibc: its allocator keeps its own policy
        return False


class LargeBodies:
    """Counts the bytes of large request bodies; a full collection after every `collect_every`."""

    def __init__(self, collect_every: int = 32 * 2**20) -> None:
        self.collect_every = collect_every
        self.pending = 0
        self.collections = 0

    def seen(self, size: int) -> None:
        if size < LARGE_BODY:
            return
        self.pending += size
        if self.pending >= self.collect_every:
            self.pending = 0
            self.collections += 1
            gc.collect()
