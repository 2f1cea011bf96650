from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from civicgrid.accounts.roles import STREET_ROLES, Role
from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet


class DepartmentKind(models.TextChoices):
    ENFORCEMENT = "enforcement", "执法"
    SAFETY = "safety", "安全"
    MARKET = "market", "市场"
    CONSTRUCTION = "construction", "建设"
    ENVIRONMENT = "environment", "环保"
    JUSTICE = "justice", "司法"
    POLICE = "police", "公安"
    COMMUNITY = "community", "社区"
    SERVICE = "service", "民生服务"
    OTHER = "other", "其他"


class Department(models.Model):
    """A 处置部门 (城管中队, 安监办 …). Data, editable in admin."""

    code = models.CharField("部门编码", max_length=32, unique=True)
    name = models.CharField("部门名称", max_length=100, unique=True)
    kind = models.CharField(
        "类型", max_length=20, choices=DepartmentKind.choices, default=DepartmentKind.OTHER
    )
    phone = models.CharField("联系电话", max_length=40, blank=True)
    community = models.ForeignKey(
        "places.Community",
        verbose_name="对应社区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="社区作为处置单位时填写",
    )
    # the tier: a 街道's department, or (street empty, district set) a 区-level department (区城管局 …)
    street = models.ForeignKey(
        "places.Street",
        verbose_name="所属街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="departments",
        help_text="区级部门不填街道、只填所属区",
    )
    district = models.ForeignKey(
        "places.District",
        verbose_name="所属区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="departments",
    )
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=100)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "处置部门"
        verbose_name_plural = "处置部门"
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class CivicUserManager(UserManager.from_queryset(RestrictedQuerySet)):
    pass


class SystemChannel(models.TextChoices):
    """The channel a system actor stands for (a caller without a person: 随手拍, an Open311 client, an import)."""

    RESIDENT = "resident", "居民随手拍"
    OPEN311 = "open311", "Open311"
    IMPORT = "import", "12345 导入"


class User(AbstractUser):
    role = models.CharField(
        "角色", max_length=32, choices=Role.choices, default=Role.GRID_WORKER, db_index=True
    )
    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name="所属部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    community = models.ForeignKey(
        "places.Community",
        verbose_name="所属社区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    grids = models.ManyToManyField("places.Grid", verbose_name="负责网格", blank=True, related_name="workers")
    # the tier: every account belongs to one 街道 (sees only it), or to the 区 level (district set, street empty:
    # sees every 街道 of the 区). Neither: a 系统管理员 is the platform's (every 区); anyone else sees nothing.
    street = models.ForeignKey(
        "places.Street",
        verbose_name="所属街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        help_text="区级账号（区指挥中心、区领导）不填街道、只填所属区",
    )
    district = models.ForeignKey(
        "places.District",
        verbose_name="所属区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    # a system actor: the account the case engine records for a caller without a person. Never listed with the
    # users, never logs in; the audit log names its channel (see system_label)
    is_system = models.BooleanField("系统账号", default=False, db_index=True)
    system_channel = models.CharField("系统渠道", max_length=16, choices=SystemChannel.choices, blank=True)

    objects = CivicUserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["username"]

    def __str__(self):
        return f"{self.full_name or self.username}（{self.get_role_display()}）"

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def system_label(self) -> str:
        """How a system actor appears in the audit log: 系统（居民随手拍）, 系统（Open311：<密钥用途>）, 系统（12345 导入）."""
        if not self.is_system:
            return ""
        if self.system_channel == SystemChannel.OPEN311:
            key = getattr(self, "open311_key", None)
            name = key.name if key is not None else self.full_name.removeprefix("Open311 接口").strip("（）")
            return f"系统（Open311：{name}）" if name else "系统（Open311）"
        if self.system_channel:
            return f"系统（{SystemChannel(self.system_channel).label}）"
        return "系统"

    @property
    def is_street_role(self) -> bool:
        return self.role in STREET_ROLES

    @property
    def is_district_level(self) -> bool:
        """A 区-level account (区指挥中心, 区领导 …): a district and no street."""
        return self.street_id is None and self.district_id is not None

    @property
    def tier_label(self) -> str:
        if self.street_id is not None:
            return str(self.street)
        if self.district_id is not None:
            return f"{self.district}（区级）"
        return "平台（全部）" if self.role == Role.SYSTEM_ADMIN else "未分配"

    def save(self, *args, **kwargs):
        # a street account's district follows its street (so "the district of a user" is always one column)
        fields = kwargs.get("update_fields")
        if self.street_id is not None and (fields is None or "street" in fields or "street_id" in fields):
            from civicgrid.places.models import Street

            district_id = (
                Street.objects.filter(pk=self.street_id).values_list("district_id", flat=True).first()
            )
            if district_id is not None and district_id != self.district_id:
                self.district_id = district_id
                if fields is not None:
                    kwargs["update_fields"] = {*fields, "district"}
        super().save(*args, **kwargs)

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.role in roles


class ApiToken(models.Model):
    """A machine token (``Authorization: Bearer cg_…``). Only a hash is stored; the key is shown once."""

    PREFIX = "cg_"

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=100)
    key_prefix = models.CharField("前缀", max_length=12, db_index=True)
    key_hash = models.CharField("密钥哈希", max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", default=clock.now)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_valid(self) -> bool:
        now = clock.now()
        return (
            self.revoked_at is None
            and (self.expires_at is None or self.expires_at > now)
            and self.user.is_active
            and not self.user.is_system
        )
