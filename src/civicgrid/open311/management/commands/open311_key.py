"""``civicgrid open311_key create|list|revoke``: manage Open311 api_keys (the plain key is printed once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from civicgrid.core.errors import DomainError
from civicgrid.open311 import services
from civicgrid.open311.models import Open311Key
from civicgrid.places.models import Street


class Command(BaseCommand):
    help = "管理 Open311 接口密钥。Manage Open311 GeoReport v2 api_keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="发放新密钥（明文只显示一次）")
        create.add_argument("--name", required=True, help="用途/对接系统名称")
        create.add_argument("--street", default=None, help="街道编码（只有一个街道时可省略）")
        sub.add_parser("list", help="列出密钥")
        revoke = sub.add_parser("revoke", help="吊销密钥")
        revoke.add_argument("key", help="密钥 ID 或前缀")

    def handle(self, *args, action, **opts):
        try:
            getattr(self, f"_{action}")(**opts)
        except DomainError as exc:
            raise CommandError(f"{exc.field or ''} {exc.message}".strip())

    def _create(self, *, name, street, **_):
        if street:
            obj = Street.objects.filter(code=street).first()
            if obj is None:
                raise CommandError(f"街道编码不存在：{street}")
        else:
            streets = list(Street.objects.all()[:2])
            if len(streets) != 1:
                raise CommandError("请用 --street 指定街道编码")
            obj = streets[0]
        key, plain = services.issue_key(actor=None, name=name, street=obj)
        self.stdout.write(self.style.SUCCESS(f"已发放密钥 #{key.pk}「{key.name}」（{obj.name} {obj.code}）"))
        self.stdout.write("api_key（只显示这一次，请妥善保存）：")
        self.stdout.write(plain)

    def _list(self, **_):
        rows = Open311Key.objects.select_related("jurisdiction").order_by("pk")
        if not rows:
            self.stdout.write("（没有密钥）")
        for k in rows:
            state = f"已吊销 {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "有效"
            used = f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "从未使用"
            self.stdout.write(
                f"#{k.pk}\t{k.key_prefix}…\t{k.name}\t{k.jurisdiction.code}\t{state}\t最近使用：{used}"
            )

    def _revoke(self, *, key, **_):
        q = Q(key_prefix=key)
        if key.isdigit():
            q |= Q(pk=int(key))
        matches = list(Open311Key.objects.filter(q)[:2])
        if not matches:
            raise CommandError(f"密钥不存在：{key}")
        if len(matches) > 1:
            raise CommandError(f"前缀 {key} 对应多个密钥，请用 ID")
        services.revoke_key(actor=None, key=matches[0])
        self.stdout.write(self.style.SUCCESS(f"已吊销密钥 #{matches[0].pk}「{matches[0].name}」"))
