"""How a node's process runs Python's cyclic garbage collector.

CPython's defaults (700, 10, 10) start a full collection after 70,000 net new
container objects, once the heap has grown by a quarter. Every connected user holds
about 65 such objects, so a node taking 10,000 logins ran ten full collections,
each walking the whole heap: a quarter of its CPU during the storm, and pauses of up
to 0.4 s. With the thresholds below a full collection waits for a million net new
objects; young and middle collections still find cycles as before, and pause for
at most about 30 ms. Objects that exist once the node has imported its code
(modules, classes) live as long as the process: they are frozen, never walked
again. Measured: docs/benchmarks.md.
"""

import gc

# Net new container objects between young collections, young collections between
# middle ones, middle ones between full ones.
THRESHOLDS = (2_000, 10, 50)


def settle() -> None:
    """Call once the process has imported what it runs (it keeps it to the end)."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
