"""Boundary import under hostile files: zip bombs are refused from their headers (and read with a hard limit),
long texts such as a huge .prj never end up echoed in an error, and the per-feature error list is capped."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from civicgrid.accounts.services import issue_token
from civicgrid.places.models import Grid
from tests.bombs import PeakRss, zip_bomb
from tests.places.helpers import cell, records_of, shapefile_zip, two_by_two

pytestmark = pytest.mark.django_db


def _valid_layer() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(shapefile_zip(records_of(two_by_two()), prj_crs=None))) as z:
        return {n: z.read(n) for n in z.namelist()}


def _cli(path) -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_places", str(path), stdout=io.StringIO(), stderr=err)
    return str(exc.value), err.getvalue()


def test_a_zip_bomb_is_refused_from_its_headers_in_bounded_memory(tmp_path, community):
    layer = _valid_layer()
    dbf = layer.pop("grids/grids.dbf")
    assert dbf
    data = zip_bomb({"grids/grids.dbf": 150 * 1024 * 1024}, extra=layer)
    assert len(data) < 1_000_000
    path = tmp_path / "bomb.zip"
    path.write_bytes(data)
    with PeakRss() as mem:
        message, report = _cli(path)
    assert "grids.dbf 解压后过大（最多 100 MB）" in report
    assert mem.growth_mb < 60, f"import grew RSS by {mem.growth_mb:.0f} MB"
    assert Grid.objects.count() == 0


def test_too_many_members_or_too_much_in_total_is_refused(tmp_path, community):
    layer = _valid_layer()
    junk = {f"junk/{i}.txt": 90 * 1024 * 1024 for i in range(4)}  # 360 MB in total
    path = tmp_path / "big.zip"
    path.write_bytes(zip_bomb(junk, extra=layer))
    _, report = _cli(path)
    assert "压缩包解压后过大" in report and "最多 300 MB" in report

    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as z:
        for name, content in layer.items():
            z.writestr(name, content)
        for i in range(100):
            z.writestr(f"extra/{i}.txt", b"")
    path.write_bytes(many.getvalue())
    _, report = _cli(path)
    assert "压缩包中的文件过多" in report


def test_a_huge_prj_is_refused_and_never_echoed(tmp_path, community):
    layer = _valid_layer()
    layer["grids/grids.prj"] = b'PROJCS["' + b"A" * (5 * 1024 * 1024) + b'"]'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, content in layer.items():
            z.writestr(name, content)
    path = tmp_path / "prj.zip"
    path.write_bytes(buf.getvalue())
    message, report = _cli(path)
    assert "grids.prj 解压后过大" in report
    assert len(report) < 2_000 and len(message) < 300


def test_an_unreadable_prj_is_quoted_in_a_few_words_only(api_client, make_user, community):
    """Under the .prj size limit but nonsense: the Chinese error quotes the start of it, nothing more."""
    layer = _valid_layer()
    layer["grids/grids.prj"] = b"NONSENSE" * 7000  # 56 KB
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, content in layer.items():
            z.writestr(name, content)
    admin = make_user("system_admin")
    r = api_client.login(admin).c.post(
        "/api/v1/places/import", {"file": SimpleUploadedFile("prj.zip", buf.getvalue())}
    )
    assert r.status_code == 422
    body = r.json()
    assert "无法识别.prj 文件中的坐标系" in body["detail"]
    assert len(body["detail"]) <= 300 and len(r.content) < 2_000


def test_the_per_feature_error_list_is_capped(api_client, make_user, community):
    features = [
        {"type": "Feature", "properties": {"name": f"网格{i}"}, "geometry": cell(i, 0).__geo_interface__}
        for i in range(500)
    ]
    doc = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    admin = make_user("system_admin")
    _, key = issue_token(actor=admin, user=admin, name="导入")
    r = api_client.token(key).c.post(
        "/api/v1/places/import",
        {"file": SimpleUploadedFile("many.geojson", doc)},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 422
    body = r.json()
    assert "中有 " in body["detail"] and "处错误" in body["detail"]
    details = body["details"]
    assert len(details) == 201
    assert details[-1]["message"].startswith("…另有 ") and details[-1]["message"].endswith(" 条错误")
    assert all(len(d["message"]) <= 300 for d in details)
