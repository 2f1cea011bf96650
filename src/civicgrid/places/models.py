"""Geography: 区 → 街道 → 社区/村 → 网格 (→ 专属网格), plus buildings and units that belong to grids.

The 区 (:class:`District`) and 街道 (:class:`Street`) are the tiers accounts and cases are scoped by (see
``places.selectors.tier_street_ids``): a 街道 account sees its own 街道, a 区-level account every 街道 of its 区.

Polygons are stored as GeoJSON geometry objects in WGS84 (EPSG:4326, lon/lat) in a JSON column so the same
schema works on SQLite and PostgreSQL; point→grid lookups use an in-memory shapely STRtree
(:mod:`civicgrid.core.geoindex`), rebuilt when the places revision (:mod:`civicgrid.core.revisions`) moves.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet

division_code_validator = RegexValidator(r"^\d{6}$", "行政区划代码应为 6 位数字")
grid_code_validator = RegexValidator(r"^\d{15}$", "网格编码应为 15 位数字")


# the 区 of the division codes the project knows; any other code is named "<code>区" until edited in admin
KNOWN_DISTRICTS = {
    "330102": "上城区",
    "330105": "拱墅区",
    "330106": "西湖区",
    "330108": "滨江区",
    "330109": "萧山区",
    "330110": "余杭区",
    "110101": "东城区",
    "110102": "西城区",
    "110105": "朝阳区",
    "110108": "海淀区",
    "310101": "黄浦区",
    "310104": "徐汇区",
    "310115": "浦东新区",
    "440106": "天河区",
    "440305": "南山区",
}


def district_name_for(code: str) -> str:
    return KNOWN_DISTRICTS.get(code, f"{code}区")


class District(models.Model):
    """区 (county-level district): holds several 街道; its 区-level accounts see all of them."""

    name = models.CharField("区名称", max_length=100)
    code = models.CharField(
        "行政区划代码", max_length=6, unique=True, validators=[division_code_validator], help_text="6 位数字"
    )
    geometry = models.JSONField("边界", null=True, blank=True)
    center_lng = models.FloatField("中心经度", null=True, blank=True)
    center_lat = models.FloatField("中心纬度", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "区"
        verbose_name_plural = "区"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Street(models.Model):
    """街道 (sub-district). Its 区 defaults to the one of its ``division_code`` (created when missing)."""

    district = models.ForeignKey(
        District, verbose_name="所属区", on_delete=models.PROTECT, related_name="streets"
    )
    name = models.CharField("街道名称", max_length=100)
    division_code = models.CharField("行政区划代码", max_length=6, validators=[division_code_validator])
    code = models.CharField("街道编码", max_length=9, unique=True, help_text="行政区划代码 + 3 位街道序号")
    geometry = models.JSONField("边界", null=True, blank=True)
    center_lng = models.FloatField("中心经度", null=True, blank=True)
    center_lat = models.FloatField("中心纬度", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "街道"
        verbose_name_plural = "街道"
        ordering = ["code"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.district_id is None and self.division_code:
            self.district, _ = District.objects.get_or_create(
                code=self.division_code, defaults={"name": district_name_for(self.division_code)}
            )
        super().save(*args, **kwargs)


class CommunityKind(models.TextChoices):
    COMMUNITY = "community", "社区"
    VILLAGE = "village", "村"


class Community(models.Model):
    """社区/村."""

    street = models.ForeignKey(
        Street, verbose_name="街道", on_delete=models.PROTECT, related_name="communities"
    )
    code = models.CharField("社区编码", max_length=12, unique=True, help_text="街道编码 + 3 位社区序号")
    name = models.CharField("名称", max_length=100)
    kind = models.CharField(
        "类型", max_length=12, choices=CommunityKind.choices, default=CommunityKind.COMMUNITY
    )
    geometry = models.JSONField("边界", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "社区/村"
        verbose_name_plural = "社区/村"
        ordering = ["code"]

    def __str__(self):
        return self.name


class GridKind(models.TextChoices):
    ORDINARY = "ordinary", "普通网格"
    DEDICATED = "dedicated", "专属网格"


class Grid(models.Model):
    """网格. A 专属网格 (a building or campus) sits inside an ordinary grid (``parent``)."""

    community = models.ForeignKey(
        Community, verbose_name="社区/村", on_delete=models.PROTECT, related_name="grids"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="所在普通网格",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dedicated_grids",
    )
    code = models.CharField("网格编码", max_length=15, unique=True, validators=[grid_code_validator])
    name = models.CharField("网格名称", max_length=100)
    kind = models.CharField("类型", max_length=12, choices=GridKind.choices, default=GridKind.ORDINARY)
    geometry = models.JSONField("边界 (GeoJSON, WGS84)")
    area_m2 = models.FloatField("面积 (平方米)", default=0)
    min_lng = models.FloatField(default=0)
    min_lat = models.FloatField(default=0)
    max_lng = models.FloatField(default=0)
    max_lat = models.FloatField(default=0)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "网格"
        verbose_name_plural = "网格"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class BuildingKind(models.TextChoices):
    ESTATE = "estate", "小区"
    TOWER = "tower", "楼宇"
    BLOCK = "block", "楼栋"


class Building(models.Model):
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="buildings")
    parent = models.ForeignKey(
        "self",
        verbose_name="所属小区",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="blocks",
    )
    kind = models.CharField("类型", max_length=10, choices=BuildingKind.choices, default=BuildingKind.BLOCK)
    name = models.CharField("名称", max_length=100)
    address = models.CharField("地址", max_length=200, db_index=True)
    aliases = models.CharField("别名", max_length=300, blank=True, help_text="以 | 分隔的其他叫法")
    lng = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    floors = models.PositiveSmallIntegerField("层数", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "楼宇/小区/楼栋"
        verbose_name_plural = "楼宇/小区/楼栋"
        ordering = ["grid__code", "name"]

    def __str__(self):
        return self.name


class UnitKind(models.TextChoices):
    ENTERPRISE = "enterprise", "企业"
    SHOP = "shop", "商户"
    ORGANIZATION = "organization", "单位"


class Unit(models.Model):
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="units")
    building = models.ForeignKey(
        Building,
        verbose_name="所在楼宇",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="units",
    )
    kind = models.CharField("类型", max_length=16, choices=UnitKind.choices, default=UnitKind.SHOP)
    name = models.CharField("名称", max_length=150)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "企业/商户/单位"
        verbose_name_plural = "企业/商户/单位"
        ordering = ["grid__code", "name"]

    def __str__(self):
        return self.name


# the core.revisions counter behind every per-process places cache (point and address indexes, grid cards)
PLACES_REVISION = "places"
BASEMAP_REVISION = "basemap"  # the vector base map (MapFeature rows)


class MapFeatureKind(models.TextChoices):
    ROAD = "road", "道路"
    BUILDING = "building", "建筑"
    AREA = "area", "区域"
    LABEL = "label", "注记"


class MapFeature(models.Model):
    """One feature of the offline vector base map (底图), drawn under the grids when no tile server is configured:
    a road (LineString, with its name), a building footprint or an area (小区, 绿地, 水域: Polygon), or a label
    (Point). WGS84 GeoJSON geometry, like the grids. ``level`` orders them: road class (0 支路 … 2 主干道) or label
    importance (higher shows from a lower zoom). ``source`` names the set (``demo`` for 示范街道)."""

    kind = models.CharField("类型", max_length=16, choices=MapFeatureKind.choices)
    subtype = models.CharField(
        "细类", max_length=24, blank=True, help_text="如 estate、green、water、community"
    )
    name = models.CharField("名称", max_length=100, blank=True)
    level = models.PositiveSmallIntegerField("等级", default=0)
    geometry = models.JSONField("几何")
    source = models.CharField("来源", max_length=50, blank=True, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "底图要素"
        verbose_name_plural = "底图要素"
        ordering = ["kind", "level", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.name}".strip()
