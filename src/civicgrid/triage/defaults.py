"""Seed keyword lists (关键词) for the categories complaints name most often, by category name: the words callers
use that the standard's names do not contain (井盖 → 窨井盖, 噪声 → 吵/噪音 …). Loaded by migration 0002 where
a category of that name exists; an administrator edits them afterwards (admin or ``PUT /api/v1/triage/keywords``).
"""

from __future__ import annotations

DEFAULT_KEYWORDS: dict[str, list[str]] = {
    "暴露垃圾": ["生活垃圾", "垃圾堆", "垃圾没人清理", "堆放垃圾", "乱扔垃圾", "倾倒垃圾", "垃圾散落"],
    "垃圾站（箱）满溢": ["垃圾桶满", "垃圾箱满", "满溢", "垃圾溢出", "没有清运", "清运不及时"],
    "垃圾未分类": ["混投", "没分类", "不分类", "分类投放"],
    "道路不洁": ["路面脏", "地面脏", "道路脏"],
    "道路破损": ["坑洼", "路面破损", "地砖松动", "路面塌陷", "地砖破损", "开裂"],
    "油烟污染": ["油烟", "油烟直排", "油烟机", "烧烤店"],
    "噪声扰民": ["噪音", "噪声", "太吵", "吵闹", "音响", "广场舞", "扰民"],
    "施工扰民": ["夜间施工", "工地噪音", "打桩", "施工噪声"],
    "工地扬尘": ["扬尘", "灰尘大"],
    "露天烧烤": ["烧烤摊", "露天烧烤"],
    "乱堆杂物": ["堆放杂物", "乱堆", "杂物", "堆物"],
    "私搭乱建": ["违章搭建", "违建", "彩钢棚", "搭建", "扩建", "阳光房"],
    "非法小广告": ["小广告", "牛皮癣", "办证", "张贴广告", "喷涂广告"],
    "占道经营": ["摊贩", "摆摊", "流动摊", "占道", "夜市摊"],
    "店外经营": ["出店经营", "店门外", "门口摆放"],
    "机动车乱停放": ["汽车乱停", "车辆乱停", "占用人行道停车", "私家车", "乱停车"],
    "非机动车乱停放": ["电动车乱停", "自行车乱停", "单车乱停", "电瓶车乱停"],
    "共享单车乱象": ["共享单车", "单车堆放"],
    "占用消防通道": ["消防通道", "消防车道", "堵塞通道"],
    "无证餐饮": ["无证经营", "没有营业执照", "无照"],
    "沿街晾挂": ["晾晒衣物", "晾衣服", "晾挂"],
    "邻里纠纷": ["邻居", "邻里", "楼上楼下", "漏水", "争吵"],
    "物业纠纷": ["物业", "物业费", "物业公司", "业委会"],
    "劳资纠纷": ["欠薪", "拖欠工资", "讨薪", "工资", "老板"],
    "房屋租赁纠纷": ["房东", "租客", "押金", "租房"],
    "电动自行车违规停放充电": ["飞线充电", "楼道充电", "电瓶车充电", "电动车充电", "电动车进电梯"],
    "消防安全隐患": ["灭火器", "安全出口", "消防栓", "消防设施", "疏散通道"],
    "燃气安全隐患": ["燃气", "煤气", "液化气", "漏气", "燃气味"],
    "养老服务": ["老人", "养老", "助餐", "独居老人"],
    "低保与社会救助": ["低保", "救助", "困难补助"],
    "防汛防台": ["积水", "暴雨", "台风", "内涝", "进水"],
    "路灯异常": ["路灯不亮", "路灯坏", "灯不亮", "路灯常亮"],
    "污水井盖异常": ["窨井盖", "井盖缺失", "井盖破损", "井盖松动", "污水井"],
    "行道树异常": ["树倒", "树枝断", "树木倾斜", "枯树", "修剪树木"],
    "电信网络诈骗": ["诈骗", "骗子", "被骗"],
    "养犬管理": ["狗", "犬", "遛狗"],
}


def ensure(category_model=None, keyword_model=None) -> int:
    """Give each category named above its seed list unless it has one (idempotent); returns how many were added."""
    if category_model is None:
        from civicgrid.cases.models import Category as category_model
    if keyword_model is None:
        from civicgrid.triage.models import TriageKeyword as keyword_model
    have = set(keyword_model.objects.values_list("category_id", flat=True))
    added = 0
    for c in category_model.objects.filter(name__in=list(DEFAULT_KEYWORDS)).exclude(level="major"):
        if c.pk not in have:
            keyword_model.objects.create(category=c, words="\n".join(DEFAULT_KEYWORDS[c.name]), weight=2.0)
            have.add(c.pk)
            added += 1
    return added
