"""``civicgrid registers purge [--years N] [--dry-run]`` and ``civicgrid registers rotate-key``.

- ``purge``: the ID number and phone of persons 注销 / 迁出 more than N years ago (default
  ``CIVICGRID_PII_RETENTION_YEARS``, 3) are erased; one audit row (``registers.person.purge``). The same runs daily
  as the periodic job ``registers.purge``.
- ``rotate-key``: after putting the new key first in ``CIVICGRID_PII_KEYS`` ("new,old"), re-encrypts every ID
  number and phone under it and re-hashes the ID numbers; afterwards the old key can be removed from the list.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.errors import DomainError
from civicgrid.registers import crypto, services


class Command(BaseCommand):
    help = "基础台账个人信息：超期清除（purge）、密钥轮换（rotate-key）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        purge = sub.add_parser("purge", help="清除注销/迁出满 N 年人员的身份证号、联系电话")
        purge.add_argument("--years", type=int, default=None, help="保存期限（年），默认按设置")
        purge.add_argument("--dry-run", action="store_true", help="只统计，不清除")
        sub.add_parser("rotate-key", help="用 CIVICGRID_PII_KEYS 的第一个密钥重新加密全部个人信息")

    def handle(self, *args, verb, **opts):
        try:
            if verb == "purge":
                years = opts["years"] or settings.CIVICGRID_PII_RETENTION_YEARS
                n = services.purge_personal_data(years=years, dry_run=opts["dry_run"])
                self.stdout.write(
                    f"{'应清除' if opts['dry_run'] else '已清除'} {n} 人（注销/迁出满 {years} 年）"
                )
            else:
                if crypto.key_count() < 2:
                    self.stderr.write("提示：CIVICGRID_PII_KEYS 只有一个密钥，本次只重新加密，不更换密钥")
                r = services.rotate_keys()
                self.stdout.write(f"已重新加密 {r['rotated']} 人，重算检索摘要 {r['rehashed']} 人")
        except DomainError as exc:
            raise CommandError(exc.message) from exc
