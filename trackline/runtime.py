"""Process-wide settings of the Python runtime for a server process."""

import gc

# Allocations between two collections of the youngest generation (CPython's default: 700).
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Collect young objects every 50,000 allocations instead of every 700.

    A large GraphQL answer is a tree of several hundred thousand objects that all live until
    the answer is written. With the default threshold the collector ran hundreds of times
    while building one, each time moving the survivors up a generation and, whenever they
    had grown by a quarter, walking every object in the process: measured on the look-up
    benchmark (docs/performance.md), that was more than half of the time of a 20 x 50 x 10
    tree. Reference counting still frees acyclic garbage at once; cycles wait a little
    longer. Never lowers a threshold set by whoever embeds the app.
    """
    young, middle, old = gc.get_threshold()
    if 0 < young < GC_YOUNG_THRESHOLD:
        gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def settle_heap() -> None:
    """Once a server has started: collect, then move every object alive into the permanent
    generation, where the collector never looks again (`gc.freeze`). Once per process.

    What a started process holds (modules, the schema, the ORM's mappings: about 150,000
    objects) lives as long as the process, yet every collection of the oldest generation
    walked all of it: about 70 ms of a 2-core machine each time, and a live event delivered
    to a thousand subscribers waits for the whole pause (docs/performance.md, B8). Objects
    made later are collected as before."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
