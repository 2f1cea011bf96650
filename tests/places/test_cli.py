"""``civicgrid import-places`` (management command import_places)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from civicgrid.core.models import AuditLog
from civicgrid.places.models import Grid
from tests.places.helpers import collection, two_by_two

pytestmark = pytest.mark.django_db


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_places", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_prints_counts(tmp_path, community):
    path = tmp_path / "grids.geojson"
    path.write_bytes(collection(*two_by_two()))
    out, _ = _run(str(path))
    assert "导入完成" in out and "新增 4 个" in out
    assert Grid.objects.count() == 4
    assert AuditLog.objects.filter(action="places.import", actor_username="system").exists()


def test_dry_run_with_crs_override(tmp_path, community):
    path = tmp_path / "grids.geojson"
    path.write_bytes(collection(*two_by_two()))
    out, _ = _run(str(path), "--crs", "EPSG:4490", "--dry-run")
    assert "试运行" in out and "EPSG:4490" in out
    assert Grid.objects.count() == 0


def test_errors_print_a_per_feature_report_and_fail(tmp_path, community):
    features = two_by_two()
    features[0]["properties"]["code"] = "330106001001002"  # duplicate of feature 2
    features[2]["properties"]["community_code"] = "330106001777"
    path = tmp_path / "bad.geojson"
    path.write_bytes(collection(*features))
    err = io.StringIO()
    with pytest.raises(CommandError, match="共 2 处错误"):
        call_command("import_places", str(path), stdout=io.StringIO(), stderr=err)
    report = err.getvalue()
    assert "第 2 个要素［330106001001002］ 编码（code）重复" in report
    assert "第 3 个要素［330106001001003］ 所属社区编码（community_code）" in report
    assert Grid.objects.count() == 0


def test_missing_file(tmp_path):
    with pytest.raises(CommandError, match="文件不存在"):
        _run(str(tmp_path / "nope.geojson"))
