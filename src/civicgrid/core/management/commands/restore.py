"""``civicgrid restore FILE [--force]``: check a backup made by ``civicgrid backup`` and put it back."""

from __future__ import annotations

import sys
import tempfile

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from civicgrid.core import backup


class Command(BaseCommand):
    help = (
        "从 civicgrid backup 生成的文件恢复数据库与上传文件；先校验全部校验和。"
        "目标数据库非空时需确认或加 --force。请先停止 Web 服务与定时任务。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="civicgrid backup 生成的 .tar.gz 文件")
        parser.add_argument("--force", action="store_true", help="目标数据库非空时不询问，直接覆盖")

    def handle(self, *args, file: str, force: bool, **opts):
        def log(msg: str) -> None:
            if opts.get("verbosity", 1) >= 1:
                self.stdout.write(msg)
                self.stdout.flush()

        with tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.DATA_DIR) as tmp:
            from pathlib import Path

            try:
                log(f"正在校验备份文件：{file}")
                plan = backup.prepare_restore(file, Path(tmp))
            except backup.BackupError as exc:
                raise CommandError(str(exc))
            m = plan.manifest
            log(
                f"备份时间 {m['created_at']}，来自 {m['host']}，CivicGrid {m['versions']['civicgrid']}，"
                f"{m['database']['total_rows']} 行数据，{m['files']['count']} 个文件：校验和全部正确"
            )
            if not plan.target_is_empty and not force:
                cases = plan.target_tables.get("cases_case", 0)
                what = f"目标数据库不是空的（{len(plan.target_tables)} 张表，其中工单 {cases} 件）"
                if not sys.stdin.isatty():
                    raise CommandError(f"{what}；恢复会覆盖全部现有数据。确认无误后加 --force 重新运行。")
                answer = input(f"{what}，恢复将覆盖全部现有数据。输入 yes 继续：").strip().lower()
                if answer not in ("yes", "y", "是"):
                    raise CommandError("已取消，未做任何改动。")
            try:
                counts = backup.restore_database(plan, log=log)
            except backup.BackupError as exc:
                raise CommandError(str(exc))
            expected = m["database"]["tables"]
            if counts != expected:
                diff = sorted(t for t in set(counts) | set(expected) if counts.get(t) != expected.get(t))
                raise CommandError(
                    "恢复后的行数与备份清单不符："
                    + "，".join(f"{t} 清单 {expected.get(t)} 实际 {counts.get(t)}" for t in diff[:5])
                )
            n_files = backup.restore_files(plan, log=log)
        pending = backup.check_schema(m)
        self.stdout.write(
            self.style.SUCCESS(
                f"恢复完成：{len(counts)} 张表、{sum(counts.values())} 行与清单一致；恢复文件 {n_files} 个。"
            )
        )
        if not m["files"]["media_included"]:
            self.stderr.write(
                self.style.WARNING("注意：此备份不含 S3 对象存储中的附件，请从对象存储侧恢复。")
            )
        elif not backup.media_is_local():
            self.stderr.write(
                self.style.WARNING("注意：当前配置使用 S3 对象存储，备份中的 media/ 文件未恢复到对象存储。")
            )
        if pending:
            self.stdout.write(
                self.style.WARNING(
                    f"备份来自较早的版本，还有 {len(pending)} 个迁移未应用：请运行 `civicgrid migrate`。"
                )
            )
