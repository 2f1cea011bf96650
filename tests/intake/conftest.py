"""Fixtures for the 12345 import tests: a small 街道 (2 grids, buildings, departments) and file writers."""

from __future__ import annotations

import contextlib
import csv
from datetime import datetime

import openpyxl
import pytest

from civicgrid.accounts.roles import Role
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP, BuildingFactory, DepartmentFactory, GridFactory

HEADERS = [
    "工单编号",
    "来电时间",
    "诉求人",
    "联系电话",
    "诉求内容",
    "问题分类",
    "事发地址",
    "承办单位",
    "办理时限",
    "办结时间",
    "办理结果",
    "回访满意度",
]


def row(ref, **kw):
    """One 12345 row (a closed, rated, well-formed one unless overridden)."""
    base = {
        "工单编号": ref,
        "来电时间": "2024-03-01 09:15:00",
        "诉求人": "张先生",
        "联系电话": "13800138000",
        "诉求内容": f"{ref} 小区门口垃圾堆放无人清理",
        "问题分类": "暴露垃圾",
        "事发地址": "示范路1号",
        "承办单位": "城管中队",
        "办理时限": "2024-03-05 17:30:00",
        "办结时间": "2024-03-03 11:00:00",
        "办理结果": "已清运",
        "回访满意度": "满意",
    }
    base.update(kw)
    return base


def write_csv(path, rows, *, encoding="utf-8", headers=HEADERS):
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        for r in rows:
            w.writerow([r.get(h, "") for h in headers])
    return path


def write_xlsx(path, rows, *, headers=HEADERS, real_dates=True):
    """A normal (not write-only) workbook: shared strings, date cells with a date number format."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(headers)
    for r in rows:
        values = []
        for h in headers:
            v = r.get(h, "")
            if real_dates and h in ("来电时间", "办理时限", "办结时间") and v:
                with contextlib.suppress(ValueError):
                    v = datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
            values.append(v if v != "" else None)
        ws.append(values)
    wb.save(path)
    return path


@pytest.fixture(autouse=True)
def _intake_settings(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.INTAKE_RUN_INLINE = True


@pytest.fixture
def world(db):
    """Two grids side by side; 示范路1号 in grid 1 and 示范路2号 in grid 2; departments 城管中队 and 环保所."""
    from civicgrid.core import geoindex

    g1 = GridFactory(col=0, row=0, name="第一网格")
    g2 = GridFactory(col=1, row=0, name="第二网格", community=g1.community)
    b1 = BuildingFactory(
        grid=g1, name="示范小区1幢", address="示范路1号", lng=ORIGIN_LNG + STEP / 2, lat=ORIGIN_LAT + STEP / 2
    )
    b2 = BuildingFactory(
        grid=g2,
        name="示范小区2幢",
        address="示范路2号",
        lng=ORIGIN_LNG + 1.5 * STEP,
        lat=ORIGIN_LAT + STEP / 2,
    )
    cg = DepartmentFactory(code="CGZD", name="城管中队")
    hb = DepartmentFactory(code="HBS", name="环保所")
    if hasattr(geoindex, "invalidate"):
        geoindex.invalidate()
    return {"g1": g1, "g2": g2, "b1": b1, "b2": b2, "cg": cg, "hb": hb}


@pytest.fixture
def dispatcher(make_user):
    return make_user(Role.DISPATCHER)
