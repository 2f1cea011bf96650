"""``civicgrid check --deploy`` with a production environment like docs/deploy.md's is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _check_deploy(tmp_path, **env):
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")},
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "CIVICGRID_DATA_DIR": str(tmp_path),
        "CIVICGRID_ENV": "production",
        "CIVICGRID_SECRET_KEY": "k3Jx9-production-secret-for-the-deploy-check-0123456789abcdef",
        "CIVICGRID_ALLOWED_HOSTS": "grid.example.gov.cn",
        **env,
    }
    full.pop("DATABASE_URL", None)
    full.pop(
        "DJANGO_ALLOW_ASYNC_UNSAFE", None
    )  # set by tests/conftest.py for Playwright, never in production
    return subprocess.run(
        [sys.executable, "-m", "civicgrid.cli", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_behind_the_tls_proxy_has_no_deploy_warnings(tmp_path):
    run = _check_deploy(tmp_path, CIVICGRID_BEHIND_TLS_PROXY="1", CIVICGRID_LOG_FORMAT="json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "System check identified no issues" in run.stdout
    assert "WARNING" not in run.stdout + run.stderr


def test_forgetting_the_proxy_flag_is_reported(tmp_path):
    run = _check_deploy(tmp_path)
    assert run.returncode != 0
    assert "civicgrid.W001" in run.stderr
