"""The load test in reduced form: a few browser sessions at once on the live app."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.load_test import make_visits, report, run_level
from tests.conftest import require_browser

pytestmark = pytest.mark.browser


def test_concurrent_sessions_each_see_only_their_own_results(app_url, tmp_path):
    require_browser()
    visits = make_visits(tmp_path, 4)  # two on the Vision page, two on the Audio page
    # Its own thread: the sync Playwright of other browser tests may own this thread's loop.
    with ThreadPoolExecutor(1) as worker:
        results = worker.submit(asyncio.run, run_level(app_url, visits, moves=2)).result()
    summary = report(len(visits), results)
    assert [error for r in results for error in r.errors] == []
    assert all(r.upload_ms > 0 and len(r.move_ms) == 2 for r in results)
    assert summary["move_p95"] >= summary["move_p50"] > 0
