"""Word lists and generators for fictional names, addresses, credit codes and phone numbers.

Everything here is made up from syllable lists: no real company, person or phone number is used on purpose.
Phone numbers carry ``0555`` in the middle (the Chinese cousin of the US "555" numbers) so they read as
demo data; credit codes are random bodies with a correct GB 32100-2015 check character.
"""

from __future__ import annotations

import random

# --- places ----------------------------------------------------------------------------------------

STREET_NAME = "示范街道"
DIVISION_CODE = "330106"
STREET_CODE = "330106001"

# 8 communities, listed in code order (north-west → south-east); the last one is a 村
COMMUNITY_NAMES = [
    ("翠苑社区", "翠苑"),
    ("文新社区", "文新"),
    ("古荡湾社区", "古荡湾"),
    ("锦绣社区", "锦绣"),
    ("云溪社区", "云溪"),
    ("桂语社区", "桂语"),
    ("梧桐社区", "梧桐"),
    ("双桥村", "双桥"),
]

# roads along the grid lines: east-west roads (south → north) and north-south roads (west → east)
EW_ROADS = ["丰收路", "学苑路", "文新路", "翠苑路", "云溪路", "桂语路", "梧桐路", "锦绣路", "古荡路"]
NS_ROADS = ["西溪路", "紫荆街", "枫林路", "香樟路", "银杏路", "玉兰路", "竹海路", "明月路", "星河路"]

ESTATE_STEMS = [
    "翠湖",
    "金桂",
    "丹枫",
    "香樟",
    "紫荆",
    "银杏",
    "玉兰",
    "绿洲",
    "阳光",
    "春晓",
    "秋涛",
    "星洲",
    "景和",
    "嘉禾",
    "清风",
    "明月",
    "静安",
    "和睦",
    "南苑",
    "北苑",
    "东方",
    "西城",
    "新桥",
    "锦园",
    "悦湖",
    "雅风",
    "兰亭",
    "竹林",
    "青枫",
    "湖畔",
    "学府",
    "溪岸",
    "望江",
    "怡景",
    "瑞园",
    "荷塘",
]
ESTATE_SUFFIXES = ["花园", "家园", "新村", "公寓", "雅苑", "名苑", "小区", "嘉园", "府", "苑"]
NUMERAL = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]

TOWER_SUFFIXES = ["大厦", "中心", "广场", "商务楼", "科技大楼", "国际大厦", "金融中心", "创意园"]

# --- organisations ---------------------------------------------------------------------------------

TRADE_NAME_CHARS = (
    "鑫瑞禾泽晟澜汇启恒博睿锦云峰嘉德华宏信达诚和益安祥盛源卓越创科新联通远航景明智优悦朗璟铭昊宸煜桐蓝青"
    "沐辰弘钧泓澄禧骏琪翔立欣佳美康宁融致尚品臻"
)

COMPANY_TRADES = [
    "科技",
    "信息技术",
    "网络科技",
    "文化传媒",
    "餐饮管理",
    "贸易",
    "电子商务",
    "建筑设计",
    "教育咨询",
    "商务咨询",
    "物业管理",
    "医疗器械",
    "广告",
    "软件",
    "数据服务",
    "供应链管理",
    "人力资源",
    "装饰工程",
    "环保科技",
    "旅行社",
    "智能科技",
    "生物科技",
    "会展服务",
    "财务咨询",
    "律师事务",
    "设计",
    "影视文化",
]
COMPANY_FORMS = ["有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司"]

SHOP_TRADES = [
    ("便利店", 10),
    ("面馆", 7),
    ("水果店", 6),
    ("理发店", 6),
    ("药房", 4),
    ("火锅店", 3),
    ("早餐店", 6),
    ("烘焙坊", 3),
    ("五金店", 3),
    ("洗衣店", 3),
    ("茶饮店", 6),
    ("快餐店", 6),
    ("花店", 2),
    ("眼镜店", 2),
    ("母婴店", 2),
    ("宠物店", 2),
    ("烟酒店", 3),
    ("汽车美容店", 2),
    ("小吃店", 6),
    ("美甲店", 3),
    ("生鲜超市", 3),
    ("菜馆", 5),
    ("烧烤店", 3),
    ("维修部", 2),
    ("文具店", 2),
    ("复印店", 2),
    ("足浴店", 1),
    ("棋牌室", 1),
    ("健身房", 1),
    ("培训中心", 2),
    ("口腔诊所", 1),
    ("服装店", 4),
]

ORGANIZATION_KINDS = [
    "幼儿园",
    "社区卫生服务站",
    "老年食堂",
    "居家养老服务中心",
    "文化家园",
    "邻里中心",
    "托育中心",
]

# --- people ----------------------------------------------------------------------------------------

# common surnames, roughly in order of frequency (weights fall off down the list)
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
)
GIVEN_CHARS = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚建华红玲飞鹏辉斌波宁丹萍凯浩宇佳欣怡晨婷颖琳雪梅兰"
    "峰健林翔志海春秀英文俊子涵梓轩思雨一诺晓东国庆燕慧琴彬鑫龙云亮"
)


def person_name(rng: random.Random) -> str:
    n = len(SURNAMES)
    surname = rng.choices(SURNAMES, weights=[n - i + 10 for i in range(n)])[0]
    given = rng.choice(GIVEN_CHARS)
    if rng.random() < 0.7:
        given += rng.choice(GIVEN_CHARS)
    return surname + given


def mobile(rng: random.Random) -> str:
    """A fictional mobile number: ``1xx 0555 xxxx`` (the ``0555`` marks it as demo data)."""
    return f"1{rng.choice('3456789')}{rng.randint(0, 9)}0555{rng.randint(0, 9999):04d}"


def landline(rng: random.Random) -> str:
    """A fictional Hangzhou-style landline ``0571-5550xxxx``."""
    return f"0571-5550{rng.randint(0, 9999):04d}"


# --- credit codes (统一社会信用代码, GB 32100-2015) ---------------------------------------------------

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_check_char(body17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def credit_code(rng: random.Random, *, kind: str) -> str:
    """A fictional 18-character credit code. ``kind``: enterprise (91…), shop (92… 个体工商户), organization (12…)."""
    prefix = {"enterprise": "91", "shop": "92", "organization": "12"}[kind]
    if kind == "organization":
        org = "".join(rng.choice("0123456789") for _ in range(8))
    else:
        org = "MA" + "".join(rng.choice(_USCC_ALPHABET) for _ in range(6))
    body = prefix + DIVISION_CODE + org + rng.choice(_USCC_ALPHABET)  # 2 + 6 + 9 = 17
    return body + uscc_check_char(body)


# --- organisation names ----------------------------------------------------------------------------


def trade_name(rng: random.Random) -> str:
    a, b = rng.sample(TRADE_NAME_CHARS, 2)
    return a + b


class UniqueNames:
    """Draws names from a generator until one is new (names of units need not be unique in the schema, but
    a demo full of twins looks wrong)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, make) -> str:
        for _ in range(200):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("name space exhausted")


def company_name(rng: random.Random) -> str:
    return f"杭州{trade_name(rng)}{rng.choice(COMPANY_TRADES)}{rng.choice(COMPANY_FORMS)}"


def shop_name(rng: random.Random) -> str:
    trade = rng.choices([t for t, _ in SHOP_TRADES], weights=[w for _, w in SHOP_TRADES])[0]
    style = rng.random()
    if style < 0.25:
        owner = rng.choice(SURNAMES)
        return f"{rng.choice(['小', '老', '阿'])}{owner}{trade}"
    return f"{trade_name(rng)}{trade}"
