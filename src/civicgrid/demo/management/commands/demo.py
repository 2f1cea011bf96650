"""``civicgrid demo [--port N] [--no-serve] [--seed N]``: migrate, build 示范街道, print the accounts, serve."""

from __future__ import annotations

import os
import time
import unicodedata

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.errors import DomainError
from civicgrid.demo.builder import DEFAULT_SEED, build_demo
from civicgrid.demo.people import DEMO_PASSWORD


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(_pad(c, w) for c, w in zip(header, widths, strict=True)).rstrip(), line]
    out += ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(out)


class Command(BaseCommand):
    help = "生成演示数据（示范街道）并启动服务。Build the 示范街道 demo and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("CIVICGRID_PORT", 8000)))
        parser.add_argument("--no-serve", action="store_true", help="只生成数据，不启动服务")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"随机种子（默认 {DEFAULT_SEED}）")
        parser.add_argument(
            "--no-cases", action="store_true", help="不生成演示案件（只生成地理、部门与账号）"
        )

    def handle(self, *args, port, no_serve, seed, no_cases, **opts):
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        t0 = time.perf_counter()
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write("正在迁移数据库……")
            call_command("migrate", interactive=False, verbosity=0)
        try:
            result = build_demo(seed=seed, with_cases=not no_cases, log=self.stdout.write)
        except DomainError as exc:
            raise CommandError(f"{exc.field or ''} {exc.message}".strip())
        c = result.counts
        self.stdout.write(
            f"{result.street.name}（{result.street.code}）：{c['communities']} 个社区/村，{c['grids']} 个网格"
            f"（另有 {c['dedicated_grids']} 个专属网格），{c['buildings']} 栋楼宇/小区/楼栋，"
            f"{c['units']} 家企业/商户/单位，{c['departments']} 个处置部门。"
        )
        if result.second_street is not None:
            second = result.second_street
            self.stdout.write(
                f"同属{second.district.name}的{second.name}（{second.code}）："
                f"{second.communities.count()} 个社区/村；区级账号 qu_dispatcher（区指挥中心）、qu_lingdao（区领导）"
                "可查看两个街道。"
            )
        parts = {
            "places": "地理与楼宇",
            "accounts": "部门与账号",
            "cases": "案件",
            "hazards": "安全隐患",
            "gridwork": "巡访打卡",
            "registers": "基础台账",
            "estates": "出租房·楼宇·专项排查",
            "payments": "保障金发放",
            "activities": "活动台账",
            "disputes": "矛盾纠纷",
            "enforcement": "综合执法",
            "opinion": "舆情",
            "petitions": "信访",
            "evaluation": "红黑榜与上级考核",
            "supervision": "督办与预警",
            "goals": "目标考核",
        }
        spent = "，".join(
            f"{label} {result.seconds[k]:.1f} 秒" for k, label in parts.items() if k in result.seconds
        )
        self.stdout.write(f"用时 {time.perf_counter() - t0:.1f} 秒（{spent}）。\n")
        rows = [[a.role_label, a.username, a.password or "（原密码）", a.note] for a in result.accounts]
        self.stdout.write(f"演示账号（统一密码 {DEMO_PASSWORD}）：")
        self.stdout.write(format_table(["角色", "账号", "密码", "说明"], rows))
        if result.staff is not None:
            self.stdout.write(
                f"另有 {len(result.staff.workers)} 个网格的网格员（账号 wg+社区序号+网格序号，如 wg001004）、"
                f"各社区工作人员（sq002…）和各处置部门人员（cz_zjb、cz_sq001…），西溪街道的以 xx_ 开头，密码同上。"
            )
        from civicgrid.open311.services import DEMO_KEY

        self.stdout.write(
            f"Open311 接口（/open311/v2/）演示 API key：{DEMO_KEY}（仅限演示；正式密钥由管理员创建，只显示一次）"
        )
        self.stdout.write("居民随手拍（无需登录）：/s/    API 文档：/api/v1/docs")
        self.stdout.write("")
        if no_serve:
            return
        self.stdout.flush()
        call_command("serve", port=port)
