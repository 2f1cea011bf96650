"""``civicgrid intake_run [--loop]``: run queued import jobs; resume jobs whose worker died (stale heartbeat)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from civicgrid.core import background, clock
from civicgrid.intake import tasks
from civicgrid.intake.models import ImportJob, JobStatus


class Command(BaseCommand):
    help = "运行排队中的工单导入任务，恢复进程中断的导入（--loop 持续轮询）"

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="持续运行，每隔几秒检查一次")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *args, loop=False, interval=5.0, **opts):
        while True:
            for pk in background.requeue_stale(tasks.KIND):
                self.stdout.write(
                    f"导入#{pk} 的进程已中断（心跳超过 {int(background.STALE_AFTER.total_seconds())} 秒未更新），已重新排队，将从中断处继续"
                )
            n = tasks.run_pending(recycle_connections=True)
            if n:
                self.stdout.write(f"完成 {n} 个导入任务")
            elif not loop:
                self._explain_idle()
            if not loop:
                return
            time.sleep(interval)

    def _explain_idle(self) -> None:
        """Nothing ran: say why instead of exiting silently."""
        now = clock.now()
        running = list(ImportJob.objects.filter(status=JobStatus.RUNNING).order_by("pk"))
        queued = ImportJob.objects.filter(status=JobStatus.QUEUED).count()
        for job in running:
            ago = int((now - job.heartbeat_at).total_seconds()) if job.heartbeat_at else -1
            self.stdout.write(
                f"导入#{job.pk} 正在由另一个进程运行（{ago} 秒前仍有心跳，已处理 {job.processed} 行），未重复启动"
            )
        if queued and running:
            self.stdout.write(f"另有 {queued} 个导入任务在排队，等当前任务完成后运行")
        if not running and not queued:
            self.stdout.write("没有排队中的导入任务")
