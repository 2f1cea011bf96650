"""Import of an existing 舆情台账 through core's importer (the /imports/ wizard). Row key: 原台账编号 (a re-upload
changes nothing; a changed row updates that 舆情's level, texts and dates, :func:`services.import_row`)."""

from __future__ import annotations

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core.errors import DomainError
from civicgrid.core.importer import (
    ApplyContext,
    CellError,
    Field,
    ImportSpec,
    RowError,
    as_text,
    choice_field,
    datetime_field,
    register_spec,
    text_field,
)
from civicgrid.opinion.models import OpinionLevel, Platform

PLATFORMS = {**{label: value for value, label in Platform.choices}, "新闻": "news", "媒体": "news", "报纸": "news",
             "电视": "news", "微博": "weibo", "微信": "wechat", "公众号": "wechat", "微信群": "wechat",
             "抖音": "video", "快手": "video", "视频号": "video", "短视频": "video", "论坛": "forum",
             "贴吧": "forum", "小红书": "forum", "政务平台": "gov", "留言板": "gov", "人民网留言板": "gov"}  # fmt: skip
LEVELS = {label: value for value, label in OpinionLevel.choices} | {"一般舆情": "general", "较大舆情": "serious",
                                                                   "重大舆情": "major"}  # fmt: skip


def url_field(name: str, label: str, aliases=()) -> Field:
    def parse(value):
        from civicgrid.opinion.services import check_url

        text = as_text(value)
        try:
            return check_url(text)
        except DomainError as exc:
            raise CellError(f"{label}：{exc.message}") from None

    return Field(name, label, tuple(aliases), False, parse, "http:// 或 https:// 开头")


FIELDS = (
    text_field("ref", "原台账编号", ("编号", "序号", "舆情编号"), required=True, max_length=60),
    text_field(
        "title", "舆情标题", ("标题", "舆情内容", "内容摘要", "主要内容"), required=True, max_length=2000
    ),
    choice_field("platform", "来源平台", PLATFORMS, ("平台", "来源", "渠道"), required=True),
    text_field(
        "media_name", "媒体/账号", ("媒体名称", "账号", "发布者", "媒体"), required=True, max_length=100
    ),
    url_field("url", "链接", ("网址", "原文链接", "URL")),
    datetime_field("published_at", "发布时间", ("发帖时间",)),
    datetime_field("collected_at", "收集时间", ("发现时间", "监测时间", "收集日期"), required=True),
    choice_field("level", "研判等级", LEVELS, ("等级", "舆情等级")),
    text_field("department", "责任部门", ("处置部门", "责任单位"), max_length=100),
    text_field("actions", "处置措施", ("处置情况",), max_length=5000),
    text_field("response_text", "回应内容", ("回应情况", "答复内容"), max_length=5000),
    datetime_field("responded_at", "回应时间", ("答复时间",)),
    datetime_field("concluded_at", "办结时间", ("办结日期",)),
)


def _can_import(user) -> bool:
    return has_capability(user, Capability.CASE_DISPATCH) and getattr(user, "street_id", None) is not None


def _clean(number: int, values: dict) -> dict:
    collected = values["collected_at"]
    if values.get("published_at") and values["published_at"] > collected:
        raise RowError("发布时间晚于收集时间")
    for key, label in (("responded_at", "回应时间"), ("concluded_at", "办结时间")):
        if values.get(key) and values[key] < collected:
            raise RowError(f"{label}早于收集时间")
    if (values.get("department") or values.get("concluded_at")) and not values.get("level"):
        raise RowError("已交办或已办结的舆情须有研判等级")
    if values.get("concluded_at") and not values.get("department"):
        raise RowError("已办结的舆情须有责任部门")
    return values


def _describe(values: dict) -> dict[str, str]:
    return {
        "平台": dict(Platform.choices)[values["platform"]],
        "等级": dict(OpinionLevel.choices).get(values.get("level") or "", "未研判"),
    }


def _apply(values: dict, ctx: ApplyContext):
    from civicgrid.opinion import selectors, services

    actor = ctx.actor
    dept = None
    if values.get("department"):
        dept = selectors.departments(user=actor).filter(name=values["department"]).first()
        if dept is None:
            raise RowError(f"责任部门不存在：{values['department']}")
    row = services.LedgerRow(
        ref=values["ref"],
        title=values["title"],
        platform=values["platform"],
        media_name=values["media_name"],
        collected_at=values["collected_at"],
        url=values.get("url") or "",
        published_at=values.get("published_at"),
        level=values.get("level") or "",
        department=dept,
        actions=values.get("actions") or "",
        response_text=values.get("response_text") or "",
        responded_at=values.get("responded_at"),
        concluded_at=values.get("concluded_at"),
    )
    try:
        return services.import_row(actor=actor, row=row).pk
    except DomainError as exc:
        raise RowError(exc.message) from exc


SPEC = register_spec(
    ImportSpec(
        name="opinion.cases",
        label="舆情台账",
        fields=FIELDS,
        key_field="ref",
        key_label="原台账编号",
        clean=_clean,
        describe=_describe,
        apply_row=_apply,
        can_import=_can_import,
        batch_size=200,
    )
)
