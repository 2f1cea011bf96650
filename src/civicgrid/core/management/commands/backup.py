"""``civicgrid backup FILE``: database + uploaded files + manifest in one .tar.gz (see civicgrid.core.backup)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core import backup


class Command(BaseCommand):
    help = "备份数据库与上传文件到一个 .tar.gz 文件（含清单与校验和）。Back up the database and files."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="备份文件路径，例如 /var/backups/civicgrid/civicgrid-20260101.tar.gz"
        )

    def handle(self, *args, file: str, **opts):
        def log(msg: str) -> None:
            if opts.get("verbosity", 1) >= 1:
                self.stdout.write(msg)
                self.stdout.flush()

        try:
            manifest = backup.create_backup(file, log=log)
        except backup.BackupError as exc:
            raise CommandError(str(exc))
        db = manifest["database"]
        files = manifest["files"]
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成：{file}\n"
                f"  数据库 {db['vendor']}：{len(db['tables'])} 张表，共 {db['total_rows']} 行"
                f"（工单 {db['tables'].get('cases_case', 0)} 件）\n"
                f"  文件：{files['count']} 个，{files['bytes']} 字节"
            )
        )
        if not files["media_included"]:
            self.stderr.write(
                self.style.WARNING(
                    "注意：附件存放在 S3 对象存储中，未包含在本备份里，请在对象存储侧另行备份。"
                )
            )
