"""``civicgrid intake_run [--loop]``: run queued import jobs (re-queues jobs whose runner died)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from civicgrid.intake import tasks


class Command(BaseCommand):
    help = "运行排队中的工单导入任务（--loop 持续轮询）"

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="持续运行，每隔几秒检查一次")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *args, loop=False, interval=5.0, **opts):
        while True:
            requeued = tasks.requeue_stale()
            if requeued:
                self.stdout.write(f"重新排队 {requeued} 个中断的导入任务")
            n = tasks.run_pending(recycle_connections=True)
            if n:
                self.stdout.write(f"完成 {n} 个导入任务")
            if not loop:
                return
            time.sleep(interval)
