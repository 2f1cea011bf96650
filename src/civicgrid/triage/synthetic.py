"""Synthetic labelled complaints (标题 + 诉求内容) for the bench, the tests and the comparison in docs/triage.md.

Each class has several ways people say the problem, mixed with shared openers, places, times and demands, and a
few phrases that belong to neighbouring classes (垃圾 in 暴露垃圾 and 垃圾满溢, 噪声 in 噪声扰民 and 施工扰民,
占用 in 占道经营 and 占用消防通道 …), so the task is not a keyword lookup. ``noise`` relabels that share of rows at
random (a dispatcher's slip). Seeded: the same arguments give the same rows.
"""

from __future__ import annotations

import random

PHRASES: dict[str, list[str]] = {
    "暴露垃圾": [
        "路边有暴露垃圾无人清理",
        "绿化带里堆着生活垃圾",
        "垃圾随意丢在人行道上",
        "空地上有成堆垃圾发臭",
        "河边倾倒了不少垃圾",
        "楼下垃圾散落一地苍蝇多",
    ],
    "垃圾满溢": [
        "垃圾桶满了溢出来",
        "垃圾箱满溢没人清运",
        "垃圾收集点满溢周边脏乱",
        "分类垃圾桶塞满了放不下",
        "垃圾房满溢臭味很大",
    ],
    "垃圾未分类": [
        "垃圾投放点混投严重",
        "厨余垃圾和其他垃圾混在一起没分类",
        "小区垃圾不分类乱投",
        "分类桶形同虚设都混装",
    ],
    "占道经营": [
        "流动摊贩占道经营",
        "早市摊位占用人行道卖菜",
        "三轮车卖水果占道",
        "夜市摊贩把路堵了",
        "小贩在路口摆摊影响通行",
    ],
    "店外经营": [
        "商户把货架摆到店门外",
        "餐饮店在门口摆桌椅经营",
        "店铺出店经营占用门前空地",
        "水果店把货摆到外面",
    ],
    "乱堆物堆料": ["楼道里乱堆杂物", "建筑材料在路边乱堆乱放", "小区空地堆放废旧家具", "沙石堆在人行道上"],
    "非法小广告": ["墙上贴满小广告", "电线杆上张贴小广告", "单元门口被喷涂办证电话", "楼道里到处是开锁广告"],
    "非机动车乱停放": [
        "共享单车乱停堵住人行道",
        "电动车乱停放挡住盲道",
        "自行车堆在地铁口",
        "单车乱停影响通行",
    ],
    "机动车乱停放": ["汽车停在人行道上", "车辆乱停堵塞小区出入口", "私家车占用盲道停放", "货车长期占道停车"],
    "违章搭建": ["有人私自搭建彩钢棚", "一楼住户违规扩建院子", "楼顶私搭乱建阳光房", "在绿地上违章搭建小屋"],
    "油烟污染": ["餐饮店油烟直排", "烧烤店油烟熏到楼上", "饭店没装油烟净化器", "油烟呛得开不了窗"],
    "噪声扰民": [
        "夜间噪声扰民影响休息",
        "商铺外放音响声音太大",
        "广场舞音乐太吵",
        "酒吧半夜很吵睡不着",
        "楼上装修噪音很大",
    ],
    "施工扰民": ["工地夜间施工噪声很大", "晚上十点后还在施工", "施工扬尘大灰土飞扬", "凌晨工地打桩扰民"],
    "道路破损": ["人行道地砖破损松动", "路面出现大坑洼", "道路塌陷了一块", "马路开裂电动车容易摔"],
    "井盖异常": [
        "污水井盖破损",
        "雨水井盖松动车过有响声",
        "井盖缺失很危险",
        "窨井盖下沉有落差",
        "井盖移位了",
    ],
    "路灯异常": ["路灯不亮好几天了", "路灯白天也亮着", "路灯忽明忽暗", "一排路灯都坏了晚上很黑"],
    "行道树异常": ["行道树倾斜可能倒", "树枝快断了悬在路上", "行道树枯死", "大树遮挡路灯和窗户需要修剪"],
    "占用消防通道": ["车辆占用消防通道", "消防通道被杂物堵塞", "消防车道上停满了车", "有人在消防通道摆摊"],
    "无证餐饮": ["无证餐饮摊点经营", "没有营业执照的小吃店", "家庭作坊无证卖盒饭", "无证烧烤摊"],
    "邻里纠纷": [
        "两户邻居因漏水发生矛盾",
        "邻居因公共区域堆物发生争执",
        "和楼下邻居吵起来了",
        "邻居养狗扰民双方争吵",
    ],
    "物业纠纷": ["业主与物业因停车收费产生纠纷", "物业服务不到位", "物业乱收费", "物业不作为和业主冲突"],
    "劳资纠纷": ["被拖欠工资", "老板欠薪不给", "工地讨薪", "公司拖欠加班费"],
    "电动自行车违规充电": [
        "楼道内电动车飞线充电",
        "电瓶车推进楼道充电",
        "从窗户拉电线给电动车充电",
        "电梯里带电瓶车上楼",
    ],
    "消防安全隐患": ["安全出口被堵塞", "灭火器过期", "商铺内消防设施缺失", "消防栓被圈占", "疏散通道锁闭"],
    "燃气安全隐患": ["闻到燃气味疑似泄漏", "液化气瓶存放不规范", "煤气管道老化漏气", "饭店违规使用液化气罐"],
    "养老服务": ["独居老人需要助餐服务", "老人咨询居家养老服务", "高龄老人申请补贴", "老年食堂饭菜问题"],
    "防汛防台": ["暴雨后路面积水很深", "台风过后广告牌松动", "地下车库进水", "下水道排水不畅积水"],
    "低保救助": ["咨询低保申请条件", "家里困难想申请救助", "低保金没有按时发放", "因病致贫申请临时救助"],
}
SHARED = {  # phrases that point at a neighbour (confusers)
    "暴露垃圾": ["垃圾桶旁边"],
    "垃圾满溢": ["地上也有垃圾"],
    "占道经营": ["占用消防通道附近"],
    "占用消防通道": ["像占道经营一样"],
    "噪声扰民": ["像工地一样吵"],
    "施工扰民": ["噪声扰民"],
    "邻里纠纷": ["找过物业没用"],
    "物业纠纷": ["邻居也有意见"],
    "机动车乱停放": ["电动车也乱停"],
    "非机动车乱停放": ["汽车也停在这里"],
}
GROUPS = {  # vague ways to say it: only the family is clear
    "垃圾": ["暴露垃圾", "垃圾满溢", "垃圾未分类"],
    "摆摊": ["占道经营", "店外经营", "无证餐饮"],
    "停车": ["非机动车乱停放", "机动车乱停放", "占用消防通道"],
    "吵闹": ["噪声扰民", "施工扰民"],
    "矛盾": ["邻里纠纷", "物业纠纷", "劳资纠纷"],
    "安全": ["消防安全隐患", "燃气安全隐患", "电动自行车违规充电"],
    "设施": ["井盖异常", "路灯异常", "道路破损", "行道树异常"],
}
VAGUE = {
    "垃圾": ["垃圾问题很严重", "环境卫生太差了", "脏乱差没人管"],
    "摆摊": ["有人在这里做生意", "摆摊的太多了", "经营很不规范"],
    "停车": ["车停得乱七八糟", "通道被车堵了", "停车太乱"],
    "吵闹": ["太吵了", "声音很大影响睡觉", "吵得没法休息"],
    "矛盾": ["双方发生争执", "调解了几次没用", "闹得很僵"],
    "安全": ["安全隐患很大", "担心出事故", "存在火灾风险"],
    "设施": ["设施坏了没人修", "公共设施损坏", "走路很危险"],
}
FAMILY = {label: fam for fam, labels in GROUPS.items() for label in labels}
OPENERS = [
    "市民来电反映",
    "居民反映",
    "网格员巡查发现",
    "群众投诉",
    "来电人称",
    "12345转来：",
    "有人举报",
    "",
]
PLACES = [
    "文一路",
    "学院路",
    "古墩路",
    "天目山路",
    "翠苑三区",
    "文新街道办事处旁",
    "西溪花园",
    "紫荆花路",
    "益乐新村",
    "教工路",
    "丰潭路口",
    "骆家庄",
    "三墩镇政府旁",
    "金都华府",
    "莲花街",
]
DETAILS = [
    "已经持续一周了",
    "晚上尤其严重",
    "多次反映没有解决",
    "影响居民正常生活",
    "老人小孩出行不便",
    "存在安全隐患",
    "附近还有学校",
    "周末更严重",
    "希望有关部门尽快处理",
    "请相关部门到现场看看",
    "",
]
TITLE_TAILS = ["", "问题", "投诉", "反映", "的诉求"]


def generate(n: int, *, seed: int = 0, noise: float = 0.03, classes: list[str] | None = None) -> list[dict]:
    """``n`` rows ``{"标题", "诉求内容", "类别"}``; class sizes vary (the first classes are the common ones)."""
    rng = random.Random(seed)
    names = list(classes or PHRASES)
    weights = [1.0 / (1 + i * 0.12) for i in range(len(names))]
    rows = []
    for _ in range(n):
        label = rng.choices(names, weights=weights)[0]
        main = rng.choice(PHRASES[label])
        fam = FAMILY.get(label)
        vague = fam is not None and rng.random() < 0.3
        place = rng.choice(PLACES) + rng.choice(["", "附近", "东侧", "路口", str(rng.randint(1, 200)) + "号"])
        title = main[: rng.randint(2, max(2, len(main)))] + rng.choice(TITLE_TAILS)
        if rng.random() < 0.35:
            title = rng.choice(["市民投诉", "居民反映问题", "12345来电", "网格巡查上报", "诉求", "请求处理"])
        if vague:  # the body only says the family; the title still hints
            parts = [f"{rng.choice(OPENERS)}{place}{rng.choice(VAGUE[fam])}"]
        else:
            parts = [f"{rng.choice(OPENERS)}{place}{main}"]
        if not vague and rng.random() < 0.6:
            other = rng.choice(PHRASES[label])
            if other != main:
                parts.append(other)
        for _ in range(rng.randint(1, 3)):
            d = rng.choice(DETAILS)
            if d:
                parts.append(d)
        if label in SHARED and rng.random() < 0.35:
            parts.append(rng.choice(SHARED[label]))
        body = "，".join(parts) + "。"
        if rng.random() < 0.15:  # a typo: one character dropped
            i = rng.randrange(len(body))
            body = body[:i] + body[i + 1 :]
        if rng.random() < 0.3:
            body += (
                "\n联系人："
                + rng.choice("王李张刘陈杨赵黄周吴")
                + "先生/女士，"
                + rng.choice(["请回电", "不需回电"])
                + "。"
            )
        if rng.random() < noise:
            label = rng.choice(names)
        rows.append({"标题": title, "诉求内容": body, "类别": label})
    return rows
