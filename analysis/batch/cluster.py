"""The Dask cluster a batch runs on: a running scheduler, or a local cluster of worker
processes, started in the background while the files are found (:class:`ClusterStart`).

Kept apart from :mod:`analysis.batch.run` so that starting the cluster imports only Dask: the
command line starts the workers first and imports the rest while they spawn.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

import dask
from distributed import Client, WorkerPlugin

from analysis.batch.settings import BatchSettings, OwnModel
from analysis.batch.worker import preload
from analysis.cores import usable_cores
from analysis.errors import InputError

# A worker decodes one picture after another, each a new buffer of up to tens of MB. Dask's
# nannies give freed memory back at once (MALLOC_TRIM_THRESHOLD_ 64 kB), and even glibc's
# adaptive default had each photo of 1–5 megapixels faulted in anew (3 600 page faults, 40 %
# of its decoding time in the kernel). Buffers under 64 MB (a 21-megapixel RGB picture) now
# come from the heap, which keeps up to 128 MB free for the next file; one heap, as the
# task thread's own arena (64 MB at most) still faulted 1 200 pages a photo.
WORKER_ALLOCATOR = {
    "MALLOC_ARENA_MAX": "1",
    "MALLOC_MMAP_THRESHOLD_": str(64 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(128 << 20),
}


def open_client(
    scheduler: str | None = None,
    workers: int | None = None,
    *,
    dashboard: bool = True,
) -> Client:
    """A Dask ``Client``: on the scheduler at ``scheduler`` ("tcp://host:port"), or else on a
    new ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1 (default: one
    per usable core) that closes with the client.

    ``dashboard=False`` leaves out the dashboard, whose Bokeh import costs about a second.

    Raises
    ------
    InputError
        If the scheduler cannot be reached, or ``workers`` is below 1.
    """
    if scheduler:
        try:
            return Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as error:
            raise InputError(
                f"Could not reach the Dask scheduler at {scheduler}: {error}"
            ) from None
    workers = usable_cores() if workers is None else workers
    if workers < 1:
        raise InputError(f"A batch needs at least one worker, not {workers}.")
    # OMP_NUM_THREADS=1 stays (see usable_cores); the allocator's settings are ours.
    environ = dask.config.get("distributed.nanny.pre-spawn-environ") | WORKER_ALLOCATOR
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        # Processes of one thread each: decoding holds the GIL in places, OpenCV's detectors lock.
        return Client(
            n_workers=workers,
            threads_per_worker=1,
            host="127.0.0.1",
            # The scheduler's HTTP routes, on loopback too.
            dashboard_address="127.0.0.1:0" if dashboard else None,
            silence_logs=logging.ERROR,
        )


@contextlib.contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """:func:`open_client`, closed (with its local cluster) on exit."""
    with open_client(scheduler, workers) as client:
        yield client


def dashboard_url(client: Client) -> str | None:
    """The Dask dashboard's address, when the scheduler serves it (it needs Bokeh)."""
    if "dashboard" not in client.scheduler_info(n_workers=0).get("services", {}):
        return None
    if client.cluster is not None:  # ours: it serves the dashboard only if Bokeh is here
        try:
            import bokeh  # noqa: F401
        except ImportError:
            return None
    return client.dashboard_link


def worker_count(client: Client) -> int:
    """Workers connected to ``client``'s scheduler now."""
    return len(client.scheduler_info(n_workers=-1)["workers"])


class ModelPreload(WorkerPlugin):
    """Dask worker plugin: each worker loads the batch's model when it starts or joins
    (:func:`analysis.batch.worker.preload`).

    Dask sends the plugin to every worker once, including workers that join or are restarted
    later; a catalog model never travels (two names do), an own model file travels as bytes.
    """

    name = "percept-batch-model"  # registering again replaces the previous batch's plugin

    def __init__(self, settings: BatchSettings, own: OwnModel | None = None) -> None:
        self.settings, self.own = settings, own

    def setup(self, worker: object) -> None:
        preload(self.settings, self.own)


class ClusterStart:
    """:func:`open_client` on a background thread, then ``plugin`` registered (each worker
    loads the batch's model): the caller finds the files and imports the rest meanwhile.
    The dashboard is left out.

    Use :func:`starting`, which closes the client (and its local cluster) on exit.
    """

    def __init__(self, scheduler: str | None, workers: int | None, plugin: object = None):
        self._client: Client | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._start, args=(scheduler, workers, plugin), name="cluster-start"
        )
        self._thread.start()

    def _start(self, scheduler: str | None, workers: int | None, plugin: object) -> None:
        try:
            self._client = open_client(scheduler, workers, dashboard=False)
            if plugin is not None:
                self._client.register_plugin(plugin)
        except BaseException as error:  # raised again in the caller's thread by client()
            self._error = error

    def client(self) -> Client:
        """The connected client, once the cluster is up (raises what starting it raised)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._client

    def close(self) -> None:
        self._thread.join()
        if self._client is not None:
            self._client.close()


@contextlib.contextmanager
def starting(
    scheduler: str | None = None, workers: int | None = None, plugin: object = None
) -> Iterator[ClusterStart]:
    """A :class:`ClusterStart`, its client closed on exit."""
    start = ClusterStart(scheduler, workers, plugin)
    try:
        yield start
    finally:
        start.close()
