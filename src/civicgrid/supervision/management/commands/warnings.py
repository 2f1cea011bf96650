"""``civicgrid warnings run [--street CODE] [--date YYYY-MM-DD]``: run the 预警预判 rules now (and the 督办 auto-销号
sweep); prints the counts as JSON."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from civicgrid.core import audit


class Command(BaseCommand):
    help = "预警预判：立即运行预警规则（warnings run）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run"])
        parser.add_argument("--street", help="街道编码（默认：全部街道）")
        parser.add_argument("--date", help="预警日期 YYYY-MM-DD（默认：今天；非今天时不运行超期风险规则）")

    def handle(self, *args, action, street=None, date=None, **opts):
        from civicgrid.places.models import Street
        from civicgrid.supervision import services

        st = None
        if street:
            st = Street.objects.filter(code=street).first()
            if st is None:
                raise CommandError(f"街道编码不存在：{street}")
        day = None
        if date:
            try:
                day = parse_date(date)
            except ValueError:
                day = None
            if day is None:
                raise CommandError(f"--date 格式应为 YYYY-MM-DD：{date}")
        with audit.acting_as("cli:warnings"):
            swept = services.sweep()
            result = services.run_warnings(street=st, day=day)
        self.stdout.write(json.dumps({**result, "swept": swept}, ensure_ascii=False))
