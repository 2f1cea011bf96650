"""When Chromium is missing, the browser tests skip — and the run says so loudly instead of looking green."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run_browser_tests(tmp_path, **env):
    full_env = {**os.environ, "CIVICGRID_CHROMIUM": str(tmp_path / "no-chromium"), **env}
    full_env.pop("CIVICGRID_REQUIRE_BROWSER", None)
    # the inner run uses SQLite: on PostgreSQL it would fight this run over the same test database
    full_env.pop("DATABASE_URL", None)
    full_env.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/browser/test_login_map_browser.py",
            "-k",
            "wrong_password",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_chromium_prints_a_skipped_banner_and_writes_the_report(tmp_path):
    report = tmp_path / "skipped.txt"
    run = _run_browser_tests(tmp_path, CIVICGRID_SKIP_REPORT=str(report))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "浏览器测试已跳过 / BROWSER TESTS SKIPPED: 1 tests" in run.stdout
    assert report.read_text().split()[1] == "1"


def test_ci_mode_fails_instead_of_skipping(tmp_path):
    run = _run_browser_tests(tmp_path, CIVICGRID_REQUIRE_BROWSER="1")
    assert run.returncode == 1, run.stdout
    assert "CIVICGRID_REQUIRE_BROWSER=1" in run.stdout
    assert "BROWSER TESTS SKIPPED" not in run.stdout
