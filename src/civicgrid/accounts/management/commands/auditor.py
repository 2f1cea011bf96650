"""``civicgrid auditor``: manage 审计管理员 accounts from the server's shell (三权分立).

The 系统管理员 cannot create, promote, change or deactivate an auditor in the web admin; whoever operates the
server does it here. Every run is written to the audit log with the operating-system user as the actor
(``cli:<user>``); passwords are never recorded.

    civicgrid auditor create --username shenji [--full-name 审计员] [--password …]
    civicgrid auditor set-password shenji [--password …]
    civicgrid auditor deactivate shenji --reason 离职
    civicgrid auditor activate shenji --reason 返岗
    civicgrid auditor list

Passwords can also come from ``CIVICGRID_AUDITOR_PASSWORD``; otherwise they are asked for twice.
"""

from __future__ import annotations

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from civicgrid.accounts import services
from civicgrid.accounts.models import User
from civicgrid.accounts.roles import Role
from civicgrid.core import audit
from civicgrid.core.errors import DomainError


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


class Command(BaseCommand):
    help = "管理审计管理员账号（只能在服务器上执行，三权分立）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", metavar="create|set-password|deactivate|activate|list")
        create = sub.add_parser("create", help="创建审计管理员")
        create.add_argument("--username", required=True)
        create.add_argument("--full-name", default="审计管理员")
        create.add_argument("--password", default=None, help="也可用环境变量 CIVICGRID_AUDITOR_PASSWORD")
        setpw = sub.add_parser("set-password", help="重设审计管理员密码")
        setpw.add_argument("username")
        setpw.add_argument("--password", default=None, help="也可用环境变量 CIVICGRID_AUDITOR_PASSWORD")
        for verb, text in (("deactivate", "停用"), ("activate", "启用")):
            p = sub.add_parser(verb, help=f"{text}审计管理员")
            p.add_argument("username")
            p.add_argument("--reason", required=True, help=f"{text}原因（写入审计日志）")
        sub.add_parser("list", help="列出审计管理员")

    def _password(self, given: str | None) -> str:
        password = given or os.environ.get("CIVICGRID_AUDITOR_PASSWORD")
        if password:
            return password
        password = getpass.getpass("密码 (≥10 位，含大小写字母/数字/符号中至少 3 类): ")
        if getpass.getpass("再次输入密码: ") != password:
            raise CommandError("两次输入的密码不一致")
        return password

    def _auditor(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"账号 {username} 不存在")
        if user.role != Role.AUDIT_ADMIN:
            raise CommandError(f"账号 {username} 不是审计管理员；本命令只管理审计管理员账号")
        return user

    def handle(self, *args, verb=None, **opts):
        if verb is None:
            raise CommandError("用法：civicgrid auditor create|set-password|deactivate|activate|list")
        if verb == "list":
            for u in User.objects.filter(role=Role.AUDIT_ADMIN).order_by("username"):
                state = "启用" if u.is_active else "停用"
                self.stdout.write(f"{u.username}\t{u.full_name}\t{state}")
            return
        token = audit.system_actor.set(f"cli:{_os_user()}")
        try:
            self._run(verb, opts)
        except DomainError as exc:
            raise CommandError(f"{exc.field or ''} {exc.message}".strip())
        finally:
            audit.system_actor.reset(token)

    def _run(self, verb: str, opts: dict) -> None:
        if verb == "create":
            user = services.create_user(
                actor=None,
                username=opts["username"],
                password=self._password(opts["password"]),
                role=Role.AUDIT_ADMIN,
                full_name=opts["full_name"],
            )
            self.stdout.write(self.style.SUCCESS(f"已创建审计管理员 {user.username}"))
        elif verb == "set-password":
            user = self._auditor(opts["username"])
            services.set_password(actor=None, user=user, password=self._password(opts["password"]))
            self.stdout.write(self.style.SUCCESS(f"已重设审计管理员 {user.username} 的密码"))
        elif verb == "deactivate":
            user = self._auditor(opts["username"])
            services.deactivate_user(actor=None, user=user, reason=opts["reason"])
            self.stdout.write(self.style.SUCCESS(f"已停用审计管理员 {user.username}"))
        elif verb == "activate":
            user = self._auditor(opts["username"])
            services.activate_user(actor=None, user=user, reason=opts["reason"])
            self.stdout.write(self.style.SUCCESS(f"已启用审计管理员 {user.username}"))
