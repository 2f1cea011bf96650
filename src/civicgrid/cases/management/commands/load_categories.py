"""``civicgrid load_categories [--update]``: (re)load the category seed (GB/T 47678.5 + 街道 9xxxx matters)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from civicgrid.cases.categories import load_categories
from civicgrid.core import audit


class Command(BaseCommand):
    help = "载入案件分类种子数据（新增缺失分类，关联默认处置部门）。Load the category seed."

    def add_arguments(self, parser):
        parser.add_argument("--update", action="store_true", help="把已有分类重置为种子默认值")

    def handle(self, *args, update: bool, **opts):
        with transaction.atomic():
            result = load_categories(update_existing=update)
            audit.record(actor=None, action="cases.category.load", object_type="cases.category", after=result)
        self.stdout.write(
            f"分类：新增 {result['created']}，更新 {result['updated']}，关联部门 {result['linked']}，共 {result['total']}"
        )
