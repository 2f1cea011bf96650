"""``civicgrid calendar``: look at the working-time calendar and compute deadlines.

``civicgrid calendar due --start "2026-02-13 10:00" --limit 3 --unit 工作日`` prints two lines::

    2026-02-25T17:30:00+08:00
    暂定: 否

(the due time in ISO 8601 with +08:00, then ``暂定: 是`` when a day between start and due lies in a year whose
holiday arrangement is not entered yet). With ``--unit 自然日`` a third line gives the legal reading of the
due moment, ``期满: 2026年10月8日 24:00`` (the first line is then 00:00 of the following day, the same instant).
``civicgrid calendar show 2026-02`` prints the month as a grid.
"""

from __future__ import annotations

import argparse
import calendar as pycalendar
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core import clock
from civicgrid.core import workcalendar as wc
from civicgrid.core.errors import ValidationFailed

WEEKDAY_HEADERS = ["一", "二", "三", "四", "五", "六", "日"]
UNIT_HELP = (
    "|".join(str(u.label) for u in wc.DeadlineUnit)
    + f"（也可用 {'|'.join(u.value for u in wc.DeadlineUnit)}）"
)

DUE_HELP = """计算时限到期时间。输出两行：
  第 1 行：到期时间，ISO 8601 格式，带 +08:00（北京时间），例如 2026-02-25T17:30:00+08:00
  第 2 行：暂定: 是|否 —— “是”表示起止之间有日期所在年份尚未录入国务院节假日安排，仅按周末推算。
工作日时限到第 N 个工作日（起算当天之后）的下班时间为止。
自然日时限（民法典第二百零一至二百零三条）：起算当天不计入，到第 N 日 24:00 为止；末日是周末或法定节假日
（调休上班日不算）时顺延到其后第一个工作日 24:00。第 1 行显示为次日 00:00（同一时刻），并多输出第 3 行：
  期满: 2026年10月8日 24:00"""

SHOW_HELP = """以月历形式显示某月的工作日安排（周一至周日）。
  “休”= 休息日（周末或节假日），“班”= 调休上班（周末上班），无标记 = 正常工作日。
  月历下方列出节假日和调休名称；尚未录入的年份标注“暂定”。"""


def _parse_start(text: str | None) -> datetime:
    if text is None or not text.strip():
        return clock.local_now()
    raw = text.strip()
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--start 无法解析的时间“{raw}”，请使用如 2026-02-13 10:00 的格式（默认北京时间）")
    return clock.aware(dt)


def _parse_limit(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise CommandError(f"--limit 必须是数字，收到“{text}”")
    if not value.is_finite():
        raise CommandError(f"--limit 必须是有限的数字，收到“{text}”")
    if value < 0:
        raise CommandError(f"--limit 不能为负数，收到“{text}”")
    return value


def _parse_month(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{4})[-/.年](\d{1,2})月?\s*", text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise CommandError(f"月份格式不正确“{text}”，请使用如 2026-02 的格式")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1900 <= year <= 2200:
        raise CommandError(f"年份超出范围（1900–2200）：{year}")
    return year, month


class Command(BaseCommand):
    help = "工作日历：计算时限到期时间（due），或显示某月的工作日安排（show）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="{due,show}")
        sub.required = True
        raw = argparse.RawDescriptionHelpFormatter
        due = sub.add_parser("due", help="计算到期时间", description=DUE_HELP, formatter_class=raw)
        due.add_argument("--start", help='起算时间，如 "2026-02-13 10:00"（无时区时按北京时间；默认现在）')
        due.add_argument("--limit", required=True, help="时限数值（非负；工作日、自然日须为整数）")
        due.add_argument("--unit", required=True, help=f"时限单位：{UNIT_HELP}")
        show = sub.add_parser("show", help="显示月历", description=SHOW_HELP, formatter_class=raw)
        show.add_argument("month", help="月份，如 2026-02")

    def handle(self, *args, action, **options):
        if action == "due":
            self._due(options)
        else:
            self._show(options["month"])

    # --- due ---------------------------------------------------------------------------------------------

    def _due(self, options):
        start = _parse_start(options.get("start"))
        limit = _parse_limit(options["limit"])
        try:
            unit = wc.parse_unit(options["unit"])
        except ValidationFailed:
            raise CommandError(f"--unit 未知的时限单位“{options['unit']}”，可选：{UNIT_HELP}")
        try:
            result = wc.compute_due(start, limit, unit)
        except ValidationFailed as exc:
            option = {"amount": "--limit", "unit": "--unit"}.get(exc.field, "--start")
            raise CommandError(f"{option} {exc.message}")
        self.stdout.write(result.due.isoformat())
        self.stdout.write(f"暂定: {'是' if result.provisional else '否'}")
        if unit == wc.DeadlineUnit.NATURAL_DAYS:
            self.stdout.write(f"期满: {wc.format_due(result.due, unit)}")

    # --- show --------------------------------------------------------------------------------------------

    def _show(self, month_text):
        year, month = _parse_month(month_text)
        days = {d.date.day: d for d in wc.month_days(year, month)}
        # every cell is four display columns: "dd" plus a CJK mark (two columns) or two spaces
        out = [f"{year}年{month}月 工作日历", " ".join(f"  {h}" for h in WEEKDAY_HEADERS)]
        for week in pycalendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
            cells = []
            for day in week:
                if day == 0:
                    cells.append("    ")
                    continue
                info = days[day]
                if not info.is_workday:
                    mark = "休"
                elif info.kind == wc.DayKind.ADJUSTED_WORKDAY:
                    mark = "班"
                else:
                    mark = "  "
                cells.append(f"{day:>2}{mark}")
            out.append(" ".join(cells).rstrip())
        out.append("")
        out.append("休 = 休息日（周末或节假日）  班 = 调休上班")
        notes = _named_runs(list(days.values()))
        if notes:
            out.append("节假日与调休：")
            out.extend(f"  {line}" for line in notes)
        if any(d.provisional for d in days.values()):
            out.append(
                f"暂定：{year} 年的国务院节假日安排尚未录入，本月仅按周末推算，"
                "请系统管理员在“系统管理 › 工作日历”中录入并确认。"
            )
        self.stdout.write("\n".join(out))


def _named_runs(days: list[wc.DayInfo]) -> list[str]:
    """Group consecutive days with the same name and status: '02-15 至 02-23 春节 放假（9 天）'."""
    lines, run = [], []

    def flush():
        if not run:
            return
        first, last = run[0], run[-1]
        span = f"{first.date:%m-%d}" if first is last else f"{first.date:%m-%d} 至 {last.date:%m-%d}"
        weekday = f"（周{WEEKDAY_HEADERS[first.date.weekday()]}）" if first is last else ""
        status = "调休上班" if first.is_workday else "放假"
        count = f"（{len(run)} 天）" if len(run) > 1 else ""
        source = "（后台调整）" if any(d.overridden for d in run) else ""
        name = first.name if first.name != status else ""
        lines.append(f"{span}{weekday} {name + ' ' if name else ''}{status}{count}{source}")
        run.clear()

    for d in days:
        named = d.name and (not d.is_workday or d.kind == wc.DayKind.ADJUSTED_WORKDAY or d.overridden)
        if (
            named
            and run
            and (run[-1].name, run[-1].is_workday) == (d.name, d.is_workday)
            and (d.date - run[-1].date).days == 1
        ):
            run.append(d)
            continue
        flush()
        if named:
            run.append(d)
    flush()
    return lines
