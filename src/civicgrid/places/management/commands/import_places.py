"""``civicgrid import-places FILE [--crs EPSG:4490] [--level community] [--dry-run]``.

Imports 网格 (or 社区) boundaries from a GeoJSON FeatureCollection or a zipped Shapefile, all or nothing.
On errors prints one Chinese line per problem (feature number, code, field) and exits with status 1.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "导入网格/社区边界（GeoJSON 或 zip 压缩的 Shapefile）。Import grid/community boundaries."

    def add_arguments(self, parser):
        parser.add_argument("file", help="GeoJSON（.geojson/.json）或 Shapefile 压缩包（.zip）")
        parser.add_argument("--crs", default=None, help="覆盖文件中的坐标系，如 EPSG:4490、EPSG:4549")
        parser.add_argument(
            "--level",
            default="grid",
            choices=["grid", "community"],
            help="未写 level 属性的要素按此层级导入（默认 grid）",
        )
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")

    def handle(self, *args, file, crs, level, dry_run, **opts):
        from civicgrid.core.validation import short
        from civicgrid.places import importers, services

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        if path.stat().st_size > importers.MAX_FILE_BYTES:
            raise CommandError(f"文件过大（超过 {importers.MAX_FILE_BYTES // 1024 // 1024} MB）：{path}")
        try:
            result = services.import_grids(
                actor=None, data=path.read_bytes(), filename=path.name, crs=crs, dry_run=dry_run, level=level
            )
        except ValidationFailed as exc:
            details = services.capped_errors(
                exc.details or [{"index": None, "code": None, "field": exc.field, "message": exc.message}]
            )
            self.stderr.write(short(exc.message, 300))
            for err in details:
                self.stderr.write("  " + short(services.format_error(err), 400))
            total = getattr(exc, "total", len(details))
            raise CommandError(f"导入失败：共 {total} 处错误，未导入任何数据")
        verb = "校验通过（试运行，未写入）" if result.dry_run else "导入完成"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb}：{result.filename}，坐标系 {result.crs}，共 {result.features} 个要素；"
                f"网格 新增 {result.grids_created} 个、更新 {result.grids_updated} 个；"
                f"社区 新增 {result.communities_created} 个、更新 {result.communities_updated} 个"
            )
        )
