"""``civicgrid createadmin``: create a 系统管理员 (interactive, or --username/--password for scripts)."""

from __future__ import annotations

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from civicgrid.accounts import services
from civicgrid.accounts.roles import Role
from civicgrid.core.errors import DomainError


class Command(BaseCommand):
    help = "创建系统管理员账号。Create a system administrator."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=None)
        parser.add_argument("--password", default=None, help="也可用环境变量 CIVICGRID_ADMIN_PASSWORD")
        parser.add_argument("--full-name", default="系统管理员")

    def handle(self, *args, username, password, full_name, **opts):
        username = username or input("账号: ").strip()
        password = password or os.environ.get("CIVICGRID_ADMIN_PASSWORD")
        if not password:
            password = getpass.getpass("密码 (≥10 位，含大小写字母/数字/符号中至少 3 类): ")
            if getpass.getpass("再次输入密码: ") != password:
                raise CommandError("两次输入的密码不一致")
        try:
            user = services.create_user(
                actor=None,
                username=username,
                password=password,
                role=Role.SYSTEM_ADMIN,
                full_name=full_name,
                is_staff=True,
                is_superuser=True,
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field or ''} {exc.message}".strip())
        self.stdout.write(self.style.SUCCESS(f"已创建系统管理员 {user.username}"))
