"""The demo districts: Dongcheng (东城区), its 17 street offices, their communities and
lanes; and three street offices of Xicheng (西城区) beside it (see ``XICHENG_TOWNSHIPS``).

Township codes are the official ones (GB/T 2260 county code + 3-digit township code, as in
the National Bureau of Statistics' division codes: 001 东华门 … 017 永定门外). Community
names are the real residents' committees of each street office; their 3-digit serials
follow the order of a published list and may differ from the newest statistics codes,
which leave gaps. Lane names are real Dongcheng streets and hutongs where known, placed in
a plausible community; a few are ordinary names in the local style.

Extents are (west, south, east, north) in WGS-84 degrees: a schematic of the real layout,
with 和平里 north of the Second Ring Road, the old Dongcheng townships in the middle, the
old Chongwen townships in the south and 龙潭 in the south-east. Neighbouring extents
share edges and never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY_CODE = "110000"
CITY_NAME = "北京市"
CITY_NAME_EN = "Beijing"
DISTRICT_CODE = "110101"
DISTRICT_NAME = "东城区"
DISTRICT_NAME_EN = "Dongcheng District"
DISTRICT_SLUG = "dc"

Extent = tuple[float, float, float, float]


@dataclass(frozen=True)
class TownshipData:
    serial: str  # the 3 digits after the district code
    name: str  # short name; the jurisdiction is called f"{name}街道"
    slug: str  # pinyin, for department codes
    extent: Extent
    # community short name (the jurisdiction adds 社区) → lanes, in code order
    communities: dict[str, list[str]]
    district: str = DISTRICT_CODE

    @property
    def code(self) -> str:
        return self.district + self.serial

    @property
    def tag(self) -> str:
        """The township in the usernames of its generated people: the serial in the first
        district, prefixed with the district's slug in the others."""
        if self.district == DISTRICT_CODE:
            return self.serial
        return f"{district(self.district).slug}-{self.serial}"

    @property
    def full_name(self) -> str:
        return f"{self.name}街道"

    @property
    def short_name_en(self) -> str:
        """The township's name in pinyin, as its English name and its agencies' use it."""
        return PINYIN_SPELLINGS.get(self.slug, self.slug.capitalize())

    @property
    def full_name_en(self) -> str:
        return f"{self.short_name_en} Subdistrict"


# Pinyin names whose official English spelling is not the slug with a capital letter.
PINYIN_SPELLINGS: dict[str, str] = {"xichanganjie": "Xichang'anjie"}

# The English names of the communities that have one in the demo (township code, short
# name → English name); the others show their Chinese name on English pages.
COMMUNITY_NAMES_EN: dict[tuple[str, str], str] = {
    (DISTRICT_CODE + "014", "安化楼"): "Anhualou Community",
    (DISTRICT_CODE + "014", "夕照寺"): "Xizhaosi Community",
    (DISTRICT_CODE + "014", "板厂南里"): "Banchang Nanli Community",
    (DISTRICT_CODE + "014", "华城"): "Huacheng Community",
    (DISTRICT_CODE + "014", "左安漪园"): "Zuo'an Yiyuan Community",
    (DISTRICT_CODE + "014", "左安浦园"): "Zuo'an Puyuan Community",
    (DISTRICT_CODE + "014", "幸福"): "Xingfu Community",
    (DISTRICT_CODE + "014", "新家园"): "Xinjiayuan Community",
    (DISTRICT_CODE + "014", "龙潭北里"): "Longtan Beili Community",
    (DISTRICT_CODE + "014", "光明"): "Guangming Community",
}


TOWNSHIPS: list[TownshipData] = [
    TownshipData(
        "001",
        "东华门",
        "donghuamen",
        (116.386, 39.900, 116.412, 39.918),
        {
            "多福巷": ["多福巷", "锡拉胡同"],
            "银闸": ["银闸胡同", "北河沿大街"],
            "东厂": ["东厂胡同", "翠花胡同"],
            "智德": ["智德北巷", "骑河楼街"],
            "南池子": ["南池子大街", "菖蒲河沿", "磁器库南巷"],
            "灯市口": ["灯市口大街", "灯市口北巷"],
            "正义路": ["正义路", "东交民巷"],
            "台基厂": ["台基厂大街", "台基厂头条"],
            "韶九": ["韶九胡同", "大甜水井胡同", "帅府园胡同"],
            "王府井": ["王府井大街", "金鱼胡同", "甘雨胡同", "校尉胡同"],
        },
    ),
    TownshipData(
        "002",
        "景山",
        "jingshan",
        (116.392, 39.918, 116.412, 39.928),
        {
            "隆福寺": ["隆福寺街", "钱粮胡同", "大佛寺东街"],
            "吉祥": ["吉祥胡同", "嵩祝院北巷"],
            "黄化门": ["黄化门街", "油漆作胡同", "织染局胡同"],
            "钟鼓": ["钟鼓胡同", "碾子胡同"],
            "魏家": ["魏家胡同", "东吉祥胡同"],
            "汪芝麻": ["汪芝麻胡同", "大取灯胡同"],
            "景山东街": ["景山东街", "景山后街", "三眼井胡同"],
            "皇城根北街": ["皇城根北街", "沙滩北街", "美术馆后街"],
        },
    ),
    TownshipData(
        "003",
        "交道口",
        "jiaodaokou",
        (116.395, 39.928, 116.412, 39.938),
        {
            "交东": ["交道口南大街", "交道口东大街"],
            "福祥": ["福祥胡同", "蓑衣胡同", "北兵马司胡同"],
            "大兴": ["大兴胡同", "东公街"],
            "府学": ["府学胡同", "东旺胡同"],
            "鼓楼苑": ["鼓楼东大街", "方砖厂胡同"],
            "菊儿": ["菊儿胡同", "后圆恩寺胡同", "前圆恩寺胡同"],
            "南锣鼓巷": [
                "南锣鼓巷",
                "帽儿胡同",
                "雨儿胡同",
                "东棉花胡同",
                "黑芝麻胡同",
                "沙井胡同",
                "炒豆胡同",
                "板厂胡同",
            ],
        },
    ),
    TownshipData(
        "004",
        "安定门",
        "andingmen",
        (116.395, 39.938, 116.412, 39.948),
        {
            "交北头条": ["交道口北头条", "交道口北二条", "交道口北三条"],
            "北锣鼓巷": ["北锣鼓巷", "净土胡同", "大经厂胡同"],
            "国子监": ["国子监街", "箭厂胡同"],
            "钟楼湾": ["钟楼湾胡同", "豆腐池胡同"],
            "宝钞南": ["宝钞胡同", "华丰胡同"],
            "五道营": ["五道营胡同", "安定门内大街"],
            "分司厅": ["分司厅胡同", "方家胡同"],
            "国旺": ["车辇店胡同", "小经厂胡同"],
            "花园": ["安定门东大街", "花园胡同"],
        },
    ),
    TownshipData(
        "005",
        "北新桥",
        "beixinqiao",
        (116.412, 39.932, 116.426, 39.948),
        {
            "海运仓": ["海运仓胡同", "东直门南小街"],
            "北新仓": ["北新仓胡同", "东直门内大街"],
            "门楼": ["门楼胡同"],
            "民安": ["藏经馆胡同"],
            "九道湾": ["九道湾胡同", "北新桥头条", "北新桥三条"],
            "北官厅": ["北官厅胡同", "香饵胡同"],
            "青龙": ["青龙胡同", "雍和宫大街"],
            "小菊": ["小菊胡同"],
            "草园": ["草园胡同"],
            "前永康": ["前永康胡同", "后永康胡同", "羊管胡同"],
        },
    ),
    TownshipData(
        "006",
        "东四",
        "dongsi",
        (116.412, 39.920, 116.426, 39.932),
        {
            "南门仓": ["南门仓胡同", "东四十条"],
            "二条": ["东四头条", "东四二条", "东四三条"],
            "六条": ["东四四条", "东四五条", "东四六条"],
            "豆瓣": ["豆瓣胡同"],
            "八条": ["东四七条", "东四八条", "东四九条"],
            "总院": ["东四北大街", "东四十一条"],
        },
    ),
    TownshipData(
        "007",
        "朝阳门",
        "chaoyangmen",
        (116.426, 39.920, 116.442, 39.932),
        {
            "史家": ["史家胡同", "东罗圈胡同"],
            "内务": ["内务部街", "遂安伯胡同"],
            "演乐": ["演乐胡同", "本司胡同"],
            "礼士": ["礼士胡同", "干面胡同"],
            "朝内头条": ["朝内头条", "朝阳门内大街"],
            "朝西": ["朝阳门南小街"],
            "竹杆": ["竹竿胡同", "小牌坊胡同"],
            "大方家": ["大方家胡同", "芳嘉园胡同"],
            "新鲜": ["新鲜胡同", "南竹竿胡同"],
        },
    ),
    TownshipData(
        "008",
        "建国门",
        "jianguomen",
        (116.412, 39.900, 116.442, 39.920),
        {
            "赵家楼": ["赵堂子胡同"],
            "西总布": ["西总布胡同", "东堂子胡同"],
            "大雅宝": ["大雅宝胡同", "小雅宝胡同"],
            "苏州": ["苏州胡同", "贡院西街"],
            "外交部街": ["外交部街", "东单北大街"],
            "站东": ["北京站街"],
            "金宝街北": ["金宝街", "禄米仓胡同"],
            "东总布": ["东总布胡同", "贡院东街"],
            "崇内": ["崇文门内大街", "船板胡同", "泡子河东巷"],
        },
    ),
    TownshipData(
        "009",
        "东直门",
        "dongzhimen",
        (116.426, 39.932, 116.445, 39.948),
        {
            "胡家园": ["胡家园街"],
            "新中街": ["新中街", "新中东街"],
            "清水苑": ["东直门外斜街"],
            "新中西里": ["新中西街"],
            "十字坡": ["十字坡街"],
            "东外大街": ["东直门外大街"],
            "东环": ["东中街"],
            "香河园北里": ["香河园路"],
            "工人体育馆": ["工人体育场北路", "春秀路"],
            "东外大街北": ["东直门北中街"],
        },
    ),
    TownshipData(
        "010",
        "和平里",
        "hepingli",
        (116.395, 39.948, 116.440, 39.972),
        {
            "民旺": ["民旺胡同"],
            "安德路": ["安德路"],
            "二区": ["和平里东街"],
            "七区": ["和平里中街"],
            "化工": ["和平里北街"],
            "安德里": ["安德里北街"],
            "兴化": ["兴化路"],
            "人定湖": ["人定湖北巷"],
            "小黄庄": ["小黄庄路", "小黄庄北街"],
            "总政": ["黄寺大街"],
            "安贞苑": ["和平里西街"],
            "地坛": ["安定门外大街"],
            "黄寺": ["黄寺东巷"],
            "新建路": ["新建路"],
            "东河沿": ["东河沿街"],
            "西河沿": ["西河沿街"],
            "青年湖": ["青年湖北街", "青年湖南街"],
            "和平里": ["和平里南街"],
            "交林": ["交林路"],
            "上龙": ["上龙西里路"],
        },
    ),
    TownshipData(
        "011",
        "前门",
        "qianmen",
        (116.392, 39.888, 116.408, 39.900),
        {
            "前门东大街": [
                "前门东大街",
                "长巷头条",
                "长巷二条",
                "长巷三条",
                "鲜鱼口街",
                "布巷子胡同",
            ],
            "大江": ["大江胡同", "北芦草园胡同", "冰窖厂胡同", "兴隆街"],
            "草厂": [
                "草厂头条",
                "草厂二条",
                "草厂三条",
                "草厂四条",
                "草厂五条",
                "草厂六条",
                "草厂七条",
                "草厂八条",
                "草厂九条",
                "草厂十条",
                "西打磨厂街",
                "东打磨厂街",
            ],
        },
    ),
    TownshipData(
        "012",
        "崇文门外",
        "chongwenmenwai",
        (116.408, 39.888, 116.422, 39.900),
        {
            "兴隆都市馨园": ["崇文门外大街"],
            "新世界家园": ["东兴隆街"],
            "崇文门东大街": ["崇文门东大街"],
            "崇文门西大街": ["崇文门西大街"],
            "西花市南里东区": ["西花市大街"],
            "西花市南里西区": ["上唐刀胡同"],
            "新怡家园": ["新开路"],
            "西花市南里南区": ["手帕胡同"],
            "国瑞城西区": ["磁器口大街"],
            "国瑞城中区": ["国瑞城中街"],
            "国瑞城东区": ["缨子胡同"],
        },
    ),
    TownshipData(
        "013",
        "东花市",
        "donghuashi",
        (116.422, 39.888, 116.442, 39.900),
        {
            "东花市北里西区": ["东花市大街", "东花市斜街"],
            "东花市北里东区": ["东花市北里中街"],
            "花市枣苑": ["北羊市口街"],
            "东花市南里": ["南羊市口街", "东花市南里中街"],
            "广渠门北里": ["广渠门内大街"],
            "广渠门外南里": ["广渠门外南街"],
            "忠实里": ["忠实里南街"],
            "东花市南里东区": ["白桥大街", "上堂子胡同"],
        },
    ),
    TownshipData(
        "014",
        "龙潭",
        "longtan",
        (116.432, 39.860, 116.450, 39.888),
        {
            "安化楼": ["安化路"],
            # 梁萍 keeps 夕照寺西里; 刘跃明 is the chief of 人民市场东巷 (204 m).
            "夕照寺": ["人民市场东巷", "人民市场西巷", "夕照寺街", "夕照寺西里", "夕照寺中街"],
            "板厂南里": ["板厂南路"],
            "华城": ["龙潭路"],
            "左安漪园": ["左安路"],
            "左安浦园": ["左安门内大街"],
            "幸福": ["幸福大街", "幸福北里中街"],
            "新家园": ["新家园路"],
            "龙潭北里": ["龙潭北里路"],
            "光明": ["光明路", "光明中街"],
        },
    ),
    TownshipData(
        "015",
        "体育馆路",
        "tiyuguanlu",
        (116.420, 39.868, 116.432, 39.888),
        {
            "东厅": ["红桥路"],
            "葱店": ["葱店胡同"],
            "法华南里": ["法华寺街", "法华南里路"],
            "体育总局": ["体育馆路"],
            "南岗子": ["南岗子街", "北岗子街"],
            "长青园": ["长青园路"],
            "四块玉": ["东四块玉南街", "四块玉北街"],
            "西唐": ["西唐洗泊街"],
        },
    ),
    TownshipData(
        "016",
        "天坛",
        "tiantan",
        (116.395, 39.868, 116.420, 39.888),
        {
            "东晓市": ["东晓市街"],
            "西园子": ["西园子街"],
            "永定门内": ["永定门内大街", "永定门内东街"],
            "泰元": ["天坛东路"],
            "金鱼池西": ["金鱼池西街"],
            "金鱼池": ["金鱼池中街"],
            "祈谷": ["天坛路"],
            "昭亨": ["天坛东里中街"],
            "金台": ["天坛北里路"],
            "广利": ["广利胡同"],
            "精忠": ["精忠街"],
        },
    ),
    TownshipData(
        "017",
        "永定门外",
        "yongdingmenwai",
        (116.385, 39.852, 116.432, 39.868),
        {
            "彭庄": ["彭庄路"],
            "中海紫御": ["永定门外大街"],
            "百荣嘉园": ["木樨园北路"],
            "管村": ["管村路"],
            "桃园": ["桃园路"],
            "民主北街": ["民主北街"],
            "琉璃井": ["琉璃井路"],
            "桃杨路": ["桃杨路"],
            "杨家园": ["杨家园路"],
            "李村": ["李村路"],
            "宝华里": ["宝华里路"],
            "定安里": ["定安路"],
            "安乐林": ["安乐林路"],
            "景泰": ["景泰路"],
            "永铁苑": ["永定门外西街"],
            "天天家园": ["沙子口路"],
            "富莱茵": ["光彩路"],
            "革新西里": ["革新西路"],
            "革新里": ["革新里街"],
            "望坛新苑": ["望坛路"],
        },
    ),
]

# The lanes whose length is a known fact: (township code, lane) → metres.
LANE_LENGTHS_M: dict[tuple[str, str], float] = {(DISTRICT_CODE + "014", "人民市场东巷"): 204.0}

# Grid cells drawn in each community (the real grid is finer: Dongcheng's 2004 grid had
# 1,652 cells of about 10,000 m²; a demo needs a handful per community).
GRID_CELLS_PER_COMMUNITY = 4

# The township and places the demo logins work in.
DEMO_TOWNSHIP = DISTRICT_CODE + "014"
DEMO_COMMUNITY = "夕照寺"
DEMO_LANE = "人民市场东巷"
DEMO_STEWARD_LANE = "夕照寺西里"
DEMO_STREET = "夕照寺街"


def is_street(name: str) -> bool:
    """A street (街, 路) has a street chief (街长); a lane or hutong a lane chief (巷长)."""
    return name.endswith(("街", "路"))


def township(code: str) -> TownshipData:
    """A township of any demo district, by its full code."""
    return next(t for d in DISTRICTS for t in d.townships if t.code == code)


# A second, smaller district, so that the demo shows districts kept apart: three of
# Xicheng's (西城区) street offices with official codes (001 西长安街, 003 新街口, 007 月坛),
# a few of their real communities and streets each, drawn west of Dongcheng.
XICHENG_CODE = "110102"
XICHENG_NAME = "西城区"
XICHENG_NAME_EN = "Xicheng District"
XICHENG_SLUG = "xc"

XICHENG_TOWNSHIPS: list[TownshipData] = [
    TownshipData(
        "001",
        "西长安街",
        "xichanganjie",
        (116.360, 39.898, 116.384, 39.918),
        {
            "府右街": ["府右街", "灵境胡同"],
            "六部口": ["六部口街", "北新华街"],
            "西交民巷": ["西交民巷", "石碑胡同"],
        },
        XICHENG_CODE,
    ),
    TownshipData(
        "003",
        "新街口",
        "xinjiekou",
        (116.340, 39.918, 116.384, 39.936),
        {
            "西四北头条": ["西四北头条", "西四北二条"],
            "新街口东街": ["新街口东街", "新街口北大街"],
            "赵登禹路": ["赵登禹路", "前公用胡同"],
        },
        XICHENG_CODE,
    ),
    TownshipData(
        "007",
        "月坛",
        "yuetan",
        (116.335, 39.898, 116.360, 39.918),
        {
            "月坛": ["月坛北街", "月坛南街"],
            "南礼士路": ["南礼士路", "真武庙路"],
            "复兴门北大街": ["复兴门北大街", "三里河路"],
        },
        XICHENG_CODE,
    ),
]

# The township the Xicheng demo logins work in.
XICHENG_DEMO_TOWNSHIP = XICHENG_CODE + "001"


@dataclass(frozen=True)
class DistrictData:
    code: str
    name: str
    name_en: str
    slug: str  # for department codes
    townships: list[TownshipData]


DISTRICTS: list[DistrictData] = [
    DistrictData(DISTRICT_CODE, DISTRICT_NAME, DISTRICT_NAME_EN, DISTRICT_SLUG, TOWNSHIPS),
    DistrictData(XICHENG_CODE, XICHENG_NAME, XICHENG_NAME_EN, XICHENG_SLUG, XICHENG_TOWNSHIPS),
]


def district(code: str) -> DistrictData:
    return next(d for d in DISTRICTS if d.code == code)


def centre_of(extent: Extent) -> tuple[float, float]:
    """The middle of an extent, rounded to about a metre."""
    west, south, east, north = extent
    return round((west + east) / 2, 5), round((south + north) / 2, 5)
