from __future__ import annotations

from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from civicgrid.core.validation import Id, Text
from civicgrid.places import selectors, services

router = Router(tags=["地理网格"])


class GridOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    community: str
    community_code: str
    parent_code: str | None = None
    area_m2: float


def _grid_out(g) -> GridOut:
    return GridOut(
        id=g.pk,
        code=g.code,
        name=g.name,
        kind=g.kind,
        community=g.community.name,
        community_code=g.community.code,
        parent_code=g.parent.code if g.parent_id else None,
        area_m2=round(g.area_m2, 1),
    )


@router.get("/grids", response=list[GridOut], summary="可见网格列表")
def list_grids(request):
    return [_grid_out(g) for g in selectors.visible_grids(user=request.auth).select_related("parent")]


@router.get("/grids/{grid_id}", response=GridOut, summary="网格详情")
def get_grid(request, grid_id: Id):
    return _grid_out(selectors.get_grid(user=request.auth, pk=grid_id))


# --- lookups -------------------------------------------------------------------------------------------


class PointQuery(Schema):
    lng: float = Field(..., ge=-180, le=180, description="经度 (WGS84)")
    lat: float = Field(..., ge=-90, le=90, description="纬度 (WGS84)")


class LookupOut(Schema):
    lng: float
    lat: float
    grid: GridOut | None = None


@router.get("/lookup", response=LookupOut, summary="坐标定位网格")
def lookup(request, q: Query[PointQuery]):
    """The most specific grid (专属网格 before its ordinary grid) covering the point; null if none or not visible."""
    grid = selectors.locate_grid(user=request.auth, lng=q.lng, lat=q.lat)
    return LookupOut(lng=q.lng, lat=q.lat, grid=_grid_out(grid) if grid is not None else None)


class AddressQuery(Schema):
    q: Text = Field(..., min_length=2, max_length=200, description="地址、楼宇或单位名称")


class BuildingOut(Schema):
    id: int
    name: str
    address: str
    kind: str


class AddressLookupOut(Schema):
    q: str
    score: float
    grid: GridOut | None = None
    building: BuildingOut | None = None


@router.get("/lookup-address", response=AddressLookupOut, summary="地址定位网格")
def lookup_address(request, q: Query[AddressQuery]):
    grid, building, score = selectors.locate_by_address(text=q.q, user=request.auth)
    return AddressLookupOut(
        q=q.q,
        score=score,
        grid=_grid_out(grid) if grid is not None else None,
        building=(
            BuildingOut(id=building.pk, name=building.name, address=building.address, kind=building.kind)
            if building is not None
            else None
        ),
    )


# --- import --------------------------------------------------------------------------------------------


class ImportForm(Schema):
    crs: Text | None = Field(None, max_length=2000, description="覆盖文件中的坐标系，如 EPSG:4490、EPSG:4549")
    dry_run: bool = Field(False, description="只校验，不写入")
    level: Text = Field(
        "grid", max_length=20, description="未写 level 属性的要素按此层级导入：grid 或 community"
    )


class ImportOut(Schema):
    filename: str
    crs: str
    dry_run: bool
    features: int
    grids_created: int
    grids_updated: int
    communities_created: int
    communities_updated: int


@router.post("/import", response=ImportOut, summary="导入网格/社区边界（系统管理员）")
def import_places(request, file: File[UploadedFile], form: Form[ImportForm]):
    """GeoJSON FeatureCollection or zipped Shapefile. All or nothing: 422 lists every problem per feature."""
    result = services.import_grids(
        actor=request.auth,
        data=file.read(),
        filename=file.name or "upload",
        crs=(form.crs or "").strip() or None,
        dry_run=form.dry_run,
        level=form.level,
    )
    return result.as_dict()
