"""How many CPU cores this process may use."""

import os


def usable_cores() -> int:
    """Cores in this process's affinity mask, at most ``OMP_NUM_THREADS`` when that is set.

    ``os.cpu_count()`` can exceed the mask (containers). Dask's worker processes are started
    with ``OMP_NUM_THREADS=1``: the cluster runs one file per core, so a model running in
    a worker must not also spread over every core.
    """
    if hasattr(os, "sched_getaffinity"):  # not on macOS or Windows
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    limit = os.environ.get("OMP_NUM_THREADS", "")
    return min(cores, int(limit)) if limit.isdigit() and int(limit) > 0 else cores
