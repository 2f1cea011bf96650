"""``civicgrid run-jobs [--once] [--interval N]``: run the periodic jobs (deadline lights) from cron or a loop."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from civicgrid.cases.jobs import run_all


class Command(BaseCommand):
    help = "运行定时任务（时限亮灯与超时提醒）。Run the periodic jobs."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="只运行一次")
        parser.add_argument("--interval", type=float, default=60.0, help="循环间隔秒数")

    def handle(self, *args, once: bool, interval: float, **opts):
        while True:
            results = run_all()
            self.stdout.write(json.dumps(results, ensure_ascii=False))
            self.stdout.flush()
            if once:
                return
            time.sleep(max(interval, 1.0))
            close_old_connections()  # a long-running loop must not keep a dead or stale connection
