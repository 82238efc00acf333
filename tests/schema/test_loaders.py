"""schema/loaders.Loader: a level read at once, each key read once, per key or all together."""

import asyncio
import gc
import weakref

from schema.loaders import Loader


class Reads:
    """A context whose `run` answers every key but 404 with its double, and records each read."""

    def __init__(self) -> None:
        self.reads: list[list] = []
        self.release = asyncio.Event()
        self.release.set()

    async def run(self, fetch, keys):
        return await fetch(None, keys)

    async def fetch(self, _session, keys):
        self.reads.append(list(keys))
        await self.release.wait()
        return {key: key * 2 for key in keys if key != 404}


async def test_load_all_answers_in_order_with_the_empty_value_for_an_unanswered_key():
    reads = Reads()
    loader = Loader(reads, reads.fetch, list)
    assert await loader.load_all([3, 1, 404, 3]) == [6, 2, [], 6]
    assert reads.reads == [[3, 1, 404]]


async def test_nothing_is_read_twice_per_key_or_for_the_whole_level():
    reads = Reads()
    loader = Loader(reads, reads.fetch, lambda: None)
    assert await loader.load(1) == 2
    assert await loader.load_all([1, 2]) == [2, 4]
    assert await loader.load(2) == 4
    assert await loader.load_many([1, 2]) == [2, 4]
    assert reads.reads == [[1], [2]]


async def test_two_fields_asking_the_same_level_at_once_share_one_read():
    reads = Reads()
    reads.release.clear()
    loader = Loader(reads, reads.fetch, lambda: None)
    first = asyncio.create_task(loader.load_all([1, 2]))
    second = asyncio.create_task(loader.load_all([2, 1, 3]))
    await asyncio.sleep(0)
    reads.release.set()
    assert (await first, await second) == ([2, 4], [4, 2, 6])
    assert reads.reads == [[1, 2], [3]]


async def test_a_loader_is_freed_with_what_it_read_as_soon_as_nothing_holds_it():
    """No reference cycle: a data map's rows must not wait for the cyclic garbage collector."""
    reads = Reads()
    loader = Loader(reads, reads.fetch, lambda: None)
    assert await loader.load(1) == 2 and await loader.load_all([2]) == [4]
    gone = weakref.ref(loader)
    gc.disable()
    try:
        del loader
        assert gone() is None
    finally:
        gc.enable()
