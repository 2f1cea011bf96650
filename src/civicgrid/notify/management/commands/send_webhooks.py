"""``civicgrid send_webhooks [--loop SECONDS]``: send due group-robot messages (and bridge light alerts)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from civicgrid.notify.runner import run_once


class Command(BaseCommand):
    help = "发送到期的群机器人推送（企业微信/钉钉），失败的按退避重试。Send due webhook deliveries."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="每隔 N 秒重复运行（0 = 只运行一次）")

    def handle(self, *args, loop: float, **opts):
        while True:
            result = run_once()
            self.stdout.write(
                f"已发送 {result.get('sent', 0)}，待重试 {result.get('retry', 0)}，"
                f"失败 {result.get('failed', 0)}，新增亮灯推送 {result.get('light_enqueued', 0)}"
            )
            if loop <= 0:
                return
            time.sleep(loop)
