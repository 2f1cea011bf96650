"""``civicgrid audit verify``: check the audit log's hash chain (see :mod:`civicgrid.core.auditchain`).

Exit code 0 and ``审计日志完整：N 条记录，最后序号 N`` when every row, the order and the anchor agree; otherwise
exit code 1 and the first broken row (altered content, a deleted row, a truncated tail).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core import auditchain


class Command(BaseCommand):
    help = "审计日志工具。verify：校验审计日志哈希链（发现被修改、删除或截断的记录时返回非零退出码）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", metavar="verify")
        sub.add_parser("verify", help="校验审计日志的哈希链与锚点记录")

    def handle(self, *args, verb=None, **opts):
        if verb != "verify":
            raise CommandError("用法：civicgrid audit verify")
        report = auditchain.verify()
        if report.ok:
            if len(report.chains) > 1:  # concurrent writers used several chains (civicgrid.core.auditchain)
                tails = "，".join(f"链 {c} 最后序号 {n}" for c, n in sorted(report.chains.items()))
                self.stdout.write(
                    self.style.SUCCESS(
                        f"审计日志完整：{report.checked} 条记录，{len(report.chains)} 条链（{tails}）"
                    )
                )
            else:
                self.stdout.write(
                    self.style.SUCCESS(f"审计日志完整：{report.checked} 条记录，最后序号 {report.last_seq}")
                )
            return
        self.stderr.write(
            self.style.ERROR(
                f"审计日志校验失败：{report.problem}\n"
                f"（此前 {report.checked} 条记录完整，最后一条完整记录序号 {report.last_seq}）"
            )
        )
        sys.exit(1)
