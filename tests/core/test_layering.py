"""The apps depend one way: core ← places ← accounts ← cases ← metrics ← (intake | open311 | notify | hazards | gridwork |
triage | disputes | enforcement | opinion | petitions | goals | registers | …) ← demo.

``make lint`` runs import-linter (the contracts in pyproject.toml); these tests run the same check so that an
upward import fails the test suite too, and fail if the contract itself is weakened.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

EXPECTED_LAYERS = [
    "civicgrid.demo",
    "civicgrid.reports",
    "civicgrid.estates",
    "civicgrid.intake | civicgrid.open311 | civicgrid.notify | civicgrid.hazards | civicgrid.gridwork | civicgrid.triage | civicgrid.disputes | civicgrid.enforcement | civicgrid.opinion | civicgrid.petitions | civicgrid.goals | civicgrid.registers | civicgrid.evaluation | civicgrid.command | civicgrid.supervision | civicgrid.activities",
    "civicgrid.metrics",
    "civicgrid.cases",
    "civicgrid.accounts",
    "civicgrid.places",
    "civicgrid.core",
]
COMPOSITION_ROOT = {"civicgrid.settings", "civicgrid.urls", "civicgrid.cli", "civicgrid.wsgi"}


def _contracts() -> dict[str, dict]:
    from importlinter import api

    config = api.read_configuration(str(PYPROJECT))
    assert config["session_options"]["root_packages"] == ["civicgrid"]
    return {c["id"]: c for c in config["contracts_options"]}


def _lint(src: Path) -> subprocess.CompletedProcess:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"import-linter is not installed beside {sys.executable} (pip install -e '.[dev]')")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(PYPROJECT)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_contract_lists_every_app_bottom_to_top():
    contract = _contracts()["layers"]
    assert contract["type"] == "layers"
    # import-linter lists layers top (may import everything below) to bottom (imports nothing above)
    assert list(contract["layers"]) == EXPECTED_LAYERS
    # no escape hatches: violations are fixed in the code, not listed as exceptions
    assert not contract.get("ignore_imports")
    assert not contract.get("containers")
    assert str(contract.get("exhaustive", "false")).lower() in ("false", "")


def test_no_app_imports_the_composition_root():
    contract = _contracts()["composition-root"]
    assert contract["type"] == "forbidden"
    assert set(contract["forbidden_modules"]) == COMPOSITION_ROOT
    apps = {m.strip() for layer in EXPECTED_LAYERS for m in layer.split("|")}
    assert set(contract["source_modules"]) == apps
    assert not contract.get("ignore_imports")


def test_every_app_is_in_a_layer():
    """A new app under civicgrid/ must be placed in the layers (or it escapes the check)."""
    src = ROOT / "src" / "civicgrid"
    apps = {f"civicgrid.{p.name}" for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    layered = {m.strip() for layer in EXPECTED_LAYERS for m in layer.split("|")}
    assert apps == layered


def test_the_code_keeps_the_contracts():
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_upward_import_is_reported(tmp_path):
    """The check can fail: core importing cases (as core/middleware.py once did) breaks the contract."""
    copy = tmp_path / "civicgrid"
    shutil.copytree(
        ROOT / "src" / "civicgrid", copy, ignore=shutil.ignore_patterns("static", "templates", "*.pyc")
    )
    (copy / "core" / "upward.py").write_text("from civicgrid.cases.attachments import MAX_BYTES\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "civicgrid.core is not allowed to import civicgrid.cases" in result.stdout
    assert "civicgrid.core.upward -> civicgrid.cases.attachments" in result.stdout
