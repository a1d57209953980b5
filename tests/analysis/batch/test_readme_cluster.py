"""The README's commands for a Dask cluster of several machines, run as written (on this
machine, with a free port): a scheduler, a worker process with two worker processes under
it, and the batch command pointed at the scheduler, sending the files' bytes."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.analysis.batch.test_mixed import write_mixed
from tests.support.live_app import PROJECT_ROOT, free_port

pytestmark = pytest.mark.slow
STARTUP_TIMEOUT_S = 90


def readme_commands() -> tuple[str, str]:
    """The scheduler and worker command lines of the README's Batch section."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Batch", 1)[1].split("\n## ", 1)[0]
    scheduler = re.search(r"^(dask scheduler .*?)\s+#", section, re.MULTILINE).group(1)
    worker = re.search(r"^(PYTHONPATH=.* dask worker .*)$", section, re.MULTILINE).group(1)
    return scheduler, worker


def as_run_here(command: str, port: int) -> list[str]:
    """``command`` for this machine: the scheduler on loopback at ``port``, ``dask`` as this
    Python's module, ``$PWD`` the project."""
    command = command.replace("0.0.0.0", "127.0.0.1").replace("SCHEDULER_HOST", "127.0.0.1")
    command = command.replace("8786", str(port)).replace("$PWD", str(PROJECT_ROOT))
    words = shlex.split(command)
    assignments = [word for word in words if re.match(r"^[A-Z_]+=", word)]
    rest = words[len(assignments) :]
    assert rest[0] == "dask", command
    return ["env", *assignments, sys.executable, "-m", "dask", *rest[1:]]


@pytest.fixture
def readme_cluster(tmp_path) -> Iterator[str]:
    port = free_port()
    scheduler, worker = (as_run_here(command, port) for command in readme_commands())
    processes = []
    try:
        for name, command in (("scheduler", scheduler), ("worker", worker)):
            log = (tmp_path / f"{name}.log").open("w")
            processes.append(
                subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)  # its own group: its nannies stop too
            )  # fmt: skip
        yield f"tcp://127.0.0.1:{port}"
    finally:
        for process in reversed(processes):  # workers first: they hang if the scheduler goes
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def test_the_readme_commands_start_a_cluster_the_batch_command_uses(readme_cluster, tmp_path):
    from distributed import Client

    with Client(readme_cluster, timeout=f"{STARTUP_TIMEOUT_S}s") as client:
        client.wait_for_workers(2, timeout=STARTUP_TIMEOUT_S)  # --nworkers 2
    write_mixed(tmp_path / "in")
    command = [
        sys.executable, "-m", "analysis", "batch", str(tmp_path / "in"), "--task", "detect",
        "--model", "haar-faces", "-o", str(tmp_path / "out"), "--scheduler", readme_cluster,
        "--send-files", "--json",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["files"], summary["ok"], summary["errors"], summary["skipped"]) == (6, 3, 1, 2)
    assert summary["workers"] == 2
    assert Path(tmp_path / "out" / "tracks.csv").exists()  # the video, tracked on a worker
