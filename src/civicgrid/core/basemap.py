"""The map's base layer (底图), configured per deployment through environment variables.

``CIVICGRID_BASEMAP`` chooses the kind:

- ``none`` (default): no tile server. Maps draw the stored vector base (roads, buildings, labels; the demo makes
  one) under the grids, or plain grey when there is none.
- ``tianditu``: 天地图 WMTS tiles (Web Mercator) with the deployment's key ``CIVICGRID_TIANDITU_KEY``;
  ``CIVICGRID_TIANDITU_STYLE`` = ``vec`` (矢量, default) / ``img`` (影像) / ``ter`` (地形), each with its 注记 layer.
  CGCS2000 ≈ WGS-84: no shift.
- ``xyz``: any tile server, e.g. on an intranet: ``CIVICGRID_BASEMAP_URL`` (a ``{z}/{x}/{y}`` template, ``{s}`` for
  subdomains, ``{-y}`` for TMS rows), ``CIVICGRID_BASEMAP_SUBDOMAINS`` (``abc`` or ``0,1,2``),
  ``CIVICGRID_BASEMAP_ATTRIBUTION``, ``CIVICGRID_BASEMAP_MIN_ZOOM`` / ``_MAX_ZOOM``, and ``CIVICGRID_BASEMAP_CRS`` =
  ``wgs84`` (default) or ``gcj02`` (a mirror of 高德/腾讯 tiles).
- ``amap`` (高德) / ``tencent`` (腾讯): their public tiles, drawn in GCJ-02. The map then projects through
  GCJ-02 (``static/js/basemap.js``), so grids, pins and clicks stay in WGS-84 and line up with the tiles.

:func:`from_env` turns the variables into ``settings.CIVICGRID["BASEMAP"]`` (what the browser receives) and
``settings.CIVICGRID["MAP_TILE_ORIGINS"]`` (the origins tiles load from, for the Content-Security-Policy img-src).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

KINDS = ("none", "tianditu", "xyz", "amap", "tencent")
TIANDITU_STYLES = {"vec": "cva", "img": "cia", "ter": "cta"}
TIANDITU_SUBDOMAINS = [str(n) for n in range(8)]


def _tianditu(style: str, key: str) -> dict:
    return {
        "url": (
            f"https://t{{s}}.tianditu.gov.cn/{style}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            f"&LAYER={style}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
            f"&TILECOL={{x}}&tk={key}"
        ),
        "subdomains": TIANDITU_SUBDOMAINS,
        "minZoom": 1,
        "maxZoom": 18,
    }


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} 应为 0–22 的整数，收到 {raw!r}")
    if not 0 <= value <= 22:
        raise ImproperlyConfigured(f"{name} 应为 0–22 的整数，收到 {raw!r}")
    return value


def _subdomains(raw: str) -> list[str]:
    raw = (raw or "").strip()
    if not raw:
        return []
    if "," in raw:
        return [s.strip() for s in raw.split(",") if s.strip()]
    return list(raw)


def origins(layers: list[dict]) -> list[str]:
    """Every ``scheme://host[:port]`` the layers' tiles come from (``{s}`` expanded over the subdomains)."""
    out: list[str] = []
    for layer in layers:
        for sub in layer.get("subdomains") or [""]:
            parts = urlsplit(layer["url"].replace("{s}", sub))
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in out:
                out.append(origin)
    return out


def from_env(env: Mapping[str, str]) -> dict:
    """The base-layer definition for ``env`` (``os.environ``). Raises ImproperlyConfigured, naming the variable,
    for a setting the maps could not use."""
    kind = (env.get("CIVICGRID_BASEMAP") or "none").strip().lower()
    if kind not in KINDS:
        raise ImproperlyConfigured(f"CIVICGRID_BASEMAP 应为 {'/'.join(KINDS)} 之一，收到 {kind!r}")
    crs = "wgs84"
    layers: list[dict] = []
    if kind == "tianditu":
        key = (env.get("CIVICGRID_TIANDITU_KEY") or "").strip()
        if not key or not key.isalnum():
            raise ImproperlyConfigured(
                "使用天地图须设置 CIVICGRID_TIANDITU_KEY（天地图控制台申请的浏览器端密钥）"
            )
        style = (env.get("CIVICGRID_TIANDITU_STYLE") or "vec").strip().lower()
        if style not in TIANDITU_STYLES:
            raise ImproperlyConfigured(f"CIVICGRID_TIANDITU_STYLE 应为 vec/img/ter 之一，收到 {style!r}")
        layers = [_tianditu(style, key), _tianditu(TIANDITU_STYLES[style], key)]
        layers[0]["attribution"] = "天地图 © 国家地理信息公共服务平台"
    elif kind == "amap":
        crs = "gcj02"
        layers = [
            {
                "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                "subdomains": ["1", "2", "3", "4"],
                "minZoom": 3,
                "maxZoom": 18,
                "attribution": "© 高德地图",
            }
        ]
    elif kind == "tencent":
        crs = "gcj02"
        layers = [
            {
                "url": "https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={-y}&type=vector&styleid=0",
                "subdomains": ["0", "1", "2", "3"],
                "minZoom": 3,
                "maxZoom": 18,
                "attribution": "© 腾讯地图",
            }
        ]
    elif kind == "xyz":
        url = (env.get("CIVICGRID_BASEMAP_URL") or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ImproperlyConfigured(
                "使用 xyz 底图须设置 CIVICGRID_BASEMAP_URL（http(s):// 开头的瓦片地址模板）"
            )
        if not all(t in url for t in ("{z}", "{x}")) or not ("{y}" in url or "{-y}" in url):
            raise ImproperlyConfigured("CIVICGRID_BASEMAP_URL 须含 {z}、{x} 和 {y}（或 {-y}）占位符")
        subdomains = _subdomains(env.get("CIVICGRID_BASEMAP_SUBDOMAINS", ""))
        if "{s}" in url and not subdomains:
            raise ImproperlyConfigured(
                "CIVICGRID_BASEMAP_URL 含 {s}，须同时设置 CIVICGRID_BASEMAP_SUBDOMAINS（如 abc）"
            )
        min_zoom = _int(env, "CIVICGRID_BASEMAP_MIN_ZOOM", 0)
        max_zoom = _int(env, "CIVICGRID_BASEMAP_MAX_ZOOM", 18)
        if min_zoom > max_zoom:
            raise ImproperlyConfigured("CIVICGRID_BASEMAP_MIN_ZOOM 不能大于 CIVICGRID_BASEMAP_MAX_ZOOM")
        crs = (env.get("CIVICGRID_BASEMAP_CRS") or "wgs84").strip().lower()
        if crs not in ("wgs84", "gcj02"):
            raise ImproperlyConfigured(f"CIVICGRID_BASEMAP_CRS 应为 wgs84 或 gcj02，收到 {crs!r}")
        layers = [
            {
                "url": url,
                "subdomains": subdomains,
                "minZoom": min_zoom,
                "maxZoom": max_zoom,
                "attribution": (env.get("CIVICGRID_BASEMAP_ATTRIBUTION") or "").strip()[:200],
            }
        ]
    return {"kind": kind, "crs": crs, "layers": layers, "origins": origins(layers)}
