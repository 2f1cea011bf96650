"""``civicgrid stats``: the case figures of a period (docs/metrics.md), and the rollup's upkeep.

    civicgrid stats --from 2026-06-01 --to 2026-06-30 [--street CODE] [--by community] --json
    civicgrid stats rebuild      # recompute the daily rollup from the cases
    civicgrid stats refresh      # one incremental round now (what the periodic job does)

The figures are read from the daily rollup after one incremental round (so they include every case written
before the command started). Without ``--json`` a short table in Chinese.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.errors import DomainError
from civicgrid.metrics import registry, selectors, services


class Command(BaseCommand):
    help = "工单统计指标（受理、立案、派遣、办结、各项比率，按期间与分组），以及统计日汇总的重建"

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["show", "rebuild", "refresh"], default="show")
        parser.add_argument("--from", dest="start", help="开始日期（含）YYYY-MM-DD，默认本月 1 日")
        parser.add_argument("--to", dest="end", help="结束日期（含）YYYY-MM-DD，默认今天")
        parser.add_argument("--street", help="街道编码")
        parser.add_argument("--by", help="分组：" + "|".join(selectors.BY))
        parser.add_argument("--json", action="store_true", help="输出 JSON（键见 docs/metrics.md）")

    def handle(self, *args, action="show", **opts):
        if action in ("rebuild", "refresh"):
            fn = services.rebuild if action == "rebuild" else services.refresh
            out = services.run_locked(fn)
            if out is None:
                raise CommandError("统计汇总正在由另一进程更新，请稍后重试")
            self.stdout.write(json.dumps(out, ensure_ascii=False) if opts["json"] else _summary(action, out))
            return
        try:
            start, end = selectors.parse_period(opts["start"], opts["end"])
            selectors.parse_by(opts["by"])
            services.run_locked(services.refresh)  # another runner busy: read what is there
            data = selectors.stats(user=None, start=start, end=end, street_code=opts["street"], by=opts["by"])
        except DomainError as e:
            flag = {"from": "--from", "to": "--to", "by": "--by", "street": "--street"}.get(e.field or "", "")
            raise CommandError(f"{flag} {e.message}".strip())
        if opts["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(_table(data))


def _summary(action: str, out: dict) -> str:
    verb = "重建" if action == "rebuild" else "更新"
    return f"已{verb}统计日汇总：检查工单 {out['cases']} 件，变化 {out['changed']} 件"


def _fmt(metric: registry.Metric, value) -> str:
    if value is None:
        return "—"
    return f"{value}{'%' if metric.unit == '%' else ' ' + metric.unit}"


def _table(data: dict) -> str:
    p = data["period"]
    lines = [
        f"统计期 {p['from']} 至 {p['to']}（{p['days']} 天）"
        + (f"，街道 {data['street']}" if data["street"] else "")
    ]
    for m in registry.all_metrics():
        lines.append(f"  {m.label}：{_fmt(m, data['totals'][m.name])}")
    for g in data["groups"]:
        lines.append(
            f"  [{g['label']}] 受理 {g['received']}，办结 {g['done']}，"
            f"按期办结率 {_fmt(registry.get('on_time_rate'), g['on_time_rate'])}"
        )
    return "\n".join(lines)
