"""What the demo's people are called.

Most people get an ordinary name drawn from these lists with the seed. The people of the
source article keep their names: 刘跃明, chief of 人民市场东巷, and 梁萍, the alley steward of
夕照寺西里 (see ``whistle.demo.logins``).
"""

from __future__ import annotations

# The most common surnames of Beijing, most common first.
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
)

# Characters often found in given names of people born between the 1950s and the 1990s.
GIVEN_NAME_CHARACTERS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华建国红梅玉凤海燕志新立文斌"
    "宇浩凯鹏辉晓东春雪林波飞雷亮鑫佳颖欣怡博文婷倩萍慧俊峰建民淑珍云鹤晨阳"
)

# Stewards per lane: a lane's steward group (管家团) has 3 to 5; the demo keeps one per lane
# and a full group in the demo community.
STEWARDS_PER_LANE = 1
STEWARDS_PER_DEMO_COMMUNITY_LANE = 3
DISPATCHERS_PER_TOWNSHIP = 2
RESIDENTS = 5

# District-level staff may open the admin; this group lets them read these apps there
# (only the models the admin shows to staff: see whistle.demo.city.district_readers).
DISTRICT_STAFF_GROUP = "区级工作人员（只读）"
DISTRICT_STAFF_READS = ("organisation", "policies", "cases")
