"""How many CPU cores this process may use."""

import os


def usable_cores() -> int:
    """Cores in this process's affinity mask; ``os.cpu_count()`` can exceed it (containers)."""
    if hasattr(os, "sched_getaffinity"):  # not on macOS or Windows
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
