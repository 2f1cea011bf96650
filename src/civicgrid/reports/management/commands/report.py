"""``civicgrid report draft`` — draft a 工作总结 from the platform's own figures.

    civicgrid report draft --from 2025-01-01 --to 2025-12-31 [--street CODE | --district CODE] [--template NAME]
                           [--rounding half_up|truncate] [--as USERNAME] --out FILE.docx|.pdf

The figures are counted as the 街道's leaders see them (or as ``--as USERNAME``); ``--district`` drafts the
report of a whole 区 (its 街道 summed, with a per-街道 table; ``--template`` then names one of the 区's) as the
区's leaders see it. The draft is saved like one
made on the web page (a new report with its first version, the figures' snapshot kept); ``--out`` writes the
.docx, or the PDF converted by LibreOffice. The companion Excel of every figure is written beside it
(``FILE.figures.xlsx``).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.errors import DomainError


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CommandError(f"{name} 不是日期（YYYY-MM-DD）：{text}") from None


class Command(BaseCommand):
    help = "工作总结：draft 按统计期起草（Word 或 PDF），数字全部来自平台统计"
    # Django's system checks (about a second here) guard a server's configuration, which drafting one document
    # does not depend on; `civicgrid check` and every server start still run them
    requires_system_checks: list = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True, metavar="draft")
        d = sub.add_parser("draft", help="起草工作总结")
        d.add_argument("--from", dest="start", required=True, help="统计起始日期 YYYY-MM-DD")
        d.add_argument("--to", dest="end", required=True, help="统计截止日期 YYYY-MM-DD")
        d.add_argument("--street", default=None, help="街道编码（只有一个街道时可省略）")
        d.add_argument(
            "--district", default=None, help="区的行政区划代码：起草全区工作总结（与 --street 二选一）"
        )
        d.add_argument("--template", default=None, help="模板名称（默认：内置模板）")
        d.add_argument("--rounding", default="half_up", choices=["half_up", "truncate"], help="百分比取舍")
        d.add_argument(
            "--as", dest="username", default=None, help="按此账号的可见范围统计（默认：该街道领导）"
        )
        d.add_argument("--out", required=True, help="输出文件 .docx 或 .pdf")

    def handle(self, *args, verb, **opts):
        from civicgrid.accounts.models import User
        from civicgrid.core import audit
        from civicgrid.core.roles import Role
        from civicgrid.places.models import District, Street
        from civicgrid.reports import render, services
        from civicgrid.reports.models import ReportTemplate

        t0 = time.perf_counter()
        start, end = _day(opts["start"], "--from"), _day(opts["end"], "--to")
        out = Path(opts["out"])
        if out.suffix.lower() not in (".docx", ".pdf"):
            raise CommandError("--out 须以 .docx 或 .pdf 结尾")
        street = district = None
        if opts["district"]:
            if opts["street"]:
                raise CommandError("--street 与 --district 只能给一个（街道报告或全区报告）")
            district = District.objects.filter(code=opts["district"]).first()
            if district is None:
                raise CommandError(f"区的行政区划代码不存在：{opts['district']}")
        else:
            streets = Street.objects.order_by("code")
            if opts["street"]:
                street = streets.filter(code=opts["street"]).first()
                if street is None:
                    raise CommandError(f"街道编码不存在：{opts['street']}")
            else:
                if streets.count() != 1:
                    raise CommandError("有多个街道，请用 --street 指定街道编码（或 --district 起草全区报告）")
                street = streets.first()
        if opts["username"]:
            reader = User.objects.filter(username=opts["username"], is_active=True).first()
            if reader is None:
                raise CommandError(f"账号不存在或已停用：{opts['username']}")
        else:
            # an unsaved leader of the 街道 (or of the 区): sees what its leaders see (never written anywhere)
            reader = User(
                username="report-cli", role=Role.LEADER, street=street, district=district, is_active=True
            )
        tpl = None
        if opts["template"]:
            tpl = ReportTemplate.objects.filter(
                street=street, district=district, name=opts["template"], is_active=True
            ).first()
            if tpl is None:
                raise CommandError(f"该{'街道' if street else '区'}没有在用的模板：{opts['template']}")
        try:
            with audit.acting_as("系统（命令行 report draft）"):
                version = services.draft(
                    actor=None, reader=reader, street=street, district=district, start=start, end=end,
                    rounding=opts["rounding"], tpl=tpl,
                )  # fmt: skip
            data = bytes(version.docx)
            if out.suffix.lower() == ".pdf":
                data = render.docx_to_pdf(data)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        side = out.with_suffix(".figures.xlsx")
        side.write_bytes(render.appendix_xlsx(version.snapshot))
        self.stdout.write(
            f"{version.report.title}（第{version.number}版，{len(version.snapshot['values'])} 项数据）→ {out}；"
            f"数据来源 → {side}；用时 {time.perf_counter() - t0:.1f}s"
        )
