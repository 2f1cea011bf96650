from __future__ import annotations

from ninja import Router, Schema

from civicgrid.places import selectors

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
def get_grid(request, grid_id: int):
    return _grid_out(selectors.get_grid(user=request.auth, pk=grid_id))
