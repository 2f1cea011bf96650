"""``civicgrid calendar due|show``."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.core import clock
from civicgrid.core import workcalendar as wc

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue()


# --- due -------------------------------------------------------------------------------------------------


def test_due_example_from_the_issue():
    out = run("due", "--start", "2026-02-13 10:00", "--limit", "3", "--unit", "工作日")
    assert out.splitlines() == ["2026-02-25T17:30:00+08:00", "暂定: 否"]


@pytest.mark.parametrize(
    "start, limit, unit, expected",
    [
        ("2026-02-13 10:00", "8", "工作时", "2026-02-14T10:30:00+08:00"),
        ("2026-02-13 10:00", "8", "working_hours", "2026-02-14T10:30:00+08:00"),
        ("2026-02-13 10:00", "24", "自然时", "2026-02-14T10:00:00+08:00"),
        ("2026-02-13 10:00", "1.5", "natural_hours", "2026-02-13T11:30:00+08:00"),
        ("2026-03-07T22:00", "1", "working_days", "2026-03-09T17:30:00+08:00"),
        ("2026-03-07T14:00:00+00:00", "1", "工作日", "2026-03-09T17:30:00+08:00"),  # 22:00 in Shanghai
        ("2026-09-30 15:00", "4", "工作日", "2026-10-12T17:30:00+08:00"),
    ],
)
def test_due(start, limit, unit, expected):
    assert run("due", "--start", start, "--limit", limit, "--unit", unit).splitlines() == [
        expected,
        "暂定: 否",
    ]


def test_due_into_an_uncovered_year_is_marked_provisional():
    out = run("due", "--start", "2026-12-31 10:00", "--limit", "1", "--unit", "工作日")
    assert out.splitlines() == ["2027-01-01T17:30:00+08:00", "暂定: 是"]


def test_due_defaults_to_now():
    with clock.frozen(datetime.fromisoformat("2026-03-09T09:00:00+08:00")):
        out = run("due", "--limit", "1", "--unit", "工作时")
    assert out.splitlines() == ["2026-03-09T10:00:00+08:00", "暂定: 否"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--start", "2026-02-30 10:00", "--limit", "1", "--unit", "工作日"], "--start 无法解析的时间"),
        (["--start", "下周一", "--limit", "1", "--unit", "工作日"], "--start 无法解析的时间"),
        (["--start", "2026-02-13 10:00", "--limit", "-1", "--unit", "工作日"], "--limit 不能为负数"),
        (["--start", "2026-02-13 10:00", "--limit", "三", "--unit", "工作日"], "--limit 必须是数字"),
        (["--start", "2026-02-13 10:00", "--limit", "NaN", "--unit", "工作日"], "--limit 必须是有限的数字"),
        (
            ["--start", "2026-02-13 10:00", "--limit", "1.5", "--unit", "工作日"],
            "--limit 以工作日计的时限必须是整数",
        ),
        (["--start", "2026-02-13 10:00", "--limit", "1", "--unit", "天"], "--unit 未知的时限单位“天”"),
    ],
)
def test_due_bad_input(args, message):
    with pytest.raises(CommandError) as exc:
        run("due", *args)
    assert str(exc.value).startswith(message)


def test_due_bad_input_exits_non_zero_from_the_real_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "civicgrid.cli", "calendar", "due", "--limit", "1", "--unit", "天"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "--unit 未知的时限单位" in proc.stderr


def test_due_help_documents_the_output():
    proc = subprocess.run(
        [sys.executable, "-m", "civicgrid.cli", "calendar", "due", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert "ISO 8601" in proc.stdout and "暂定: 是|否" in proc.stdout


# --- show ------------------------------------------------------------------------------------------------

FEB_2026 = """\
2026年2月 工作日历
  一   二   三   四   五   六   日
                               1休
 2    3    4    5    6    7休  8休
 9   10   11   12   13   14班 15休
16休 17休 18休 19休 20休 21休 22休
23休 24   25   26   27   28班

休 = 休息日（周末或节假日）  班 = 调休上班
节假日与调休：
  02-14（周六） 春节 调休上班
  02-15 至 02-23 春节 放假（9 天）
  02-28（周六） 春节 调休上班
"""


def test_show_february_2026():
    assert run("show", "2026-02") == FEB_2026


def test_show_october_2026():
    out = run("show", "2026-10")
    lines = out.splitlines()
    assert lines[0] == "2026年10月 工作日历"
    assert lines[1].split() == ["一", "二", "三", "四", "五", "六", "日"]
    assert lines[2] == "                1休  2休  3休  4休"
    assert lines[3] == " 5休  6休  7休  8    9   10班 11休"
    assert "  10-01 至 10-07 国庆节 放假（7 天）" in lines
    assert "  10-10（周六） 国庆节 调休上班" in lines
    assert "暂定" not in out


def test_show_uncovered_year_is_marked_provisional():
    out = run("show", "2027-01")
    assert " 1    2休  3休" in out  # weekends only: 元旦 not known yet
    assert "暂定：2027 年的国务院节假日安排尚未录入" in out


def test_show_marks_overrides(sysadmin):
    wc.set_override(actor=sysadmin, date=date(2027, 1, 1), is_workday=False, name="元旦")
    wc.confirm_year(actor=sysadmin, year=2027)
    out = run("show", "2027年1月")
    assert " 1休  2休  3休" in out
    assert "  01-01（周五） 元旦 放假（后台调整）" in out
    assert "暂定" not in out


@pytest.mark.parametrize("month", ["2026-13", "2026", "二月", "26-02"])
def test_show_bad_month(month):
    with pytest.raises(CommandError) as exc:
        run("show", month)
    assert "月份格式不正确" in str(exc.value)
