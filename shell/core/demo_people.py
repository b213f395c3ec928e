"""One generator of made-up residents for demo seeding (names, sexes, birth dates, ID numbers,
phones), shared by every plugin's ``demo.py``. Everything is drawn from the ``random.Random`` it is
given, so a seed gives the same people every time. ID numbers pass ``shell.idnumber`` and
python-stdnum in full (check digit, birth date, a region code that existed in the birth year)."""
from __future__ import annotations

import random
from datetime import date, timedelta

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_M = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆建国志文博海峰晨阳"
GIVEN_F = "芳娜敏静丽艳娟霞秀玲桂英燕萍红梅琳雪婷慧莉洁颖倩佳欣怡悦晶琴兰"
MOBILE_PREFIXES = ("138", "139", "137", "135", "158", "186", "189", "131")

# python-stdnum ties a county code to the years it existed; these codes are known to it for every
# birth year, so a resident whose own region code "did not exist yet" gets one of them.
TIMELESS_REGIONS = ("310101", "310104", "310105", "110105", "110108")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_REGION_OK: dict[tuple[str, int], bool] = {}


def check_char(base17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2), as stdnum.cn.ric computes it — inline because
    the large demo makes 200,000 of them and stdnum's generic checksum costs seconds."""
    total = sum(int(c) * w for c, w in zip(base17, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def region_for(region: str, year: int) -> str:
    """``region`` when python-stdnum knows it for ``year``, else the first timeless code it knows."""
    from stdnum.cn import ric

    for code in (region, *TIMELESS_REGIONS):
        key = (code, year)
        if key not in _REGION_OK:
            base = f"{code}{year}0101001"
            _REGION_OK[key] = ric.is_valid(base + ric.calc_check_digit(base + "0"))
        if _REGION_OK[key]:
            return code
    return TIMELESS_REGIONS[0]


class DemoPeople:
    """Made-up people drawn from ``rng``. ``sex`` is "男" or "女" throughout."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def surname(self) -> str:
        return self.rng.choice(SURNAMES)

    def given_name(self, sex: str) -> str:
        """One or two characters (two twice as often), from the men's or the women's list."""
        given = GIVEN_M if sex == "男" else GIVEN_F
        rng = self.rng
        return "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))

    def name(self, sex: str) -> str:
        return self.surname() + self.given_name(sex)

    def sex(self, male_share: float = 0.5) -> str:
        return "男" if self.rng.random() < male_share else "女"

    def birth(self, min_age: int, max_age: int, today: date) -> date:
        """A birth date making the person ``min_age``–``max_age`` years old (inclusive) on ``today``."""
        if min_age > max_age:
            raise ValueError(f"min_age {min_age} > max_age {max_age}")
        latest = _years_before(today, min_age)
        earliest = _years_before(today, max_age + 1) + timedelta(days=1)
        return earliest + timedelta(days=self.rng.randrange((latest - earliest).days + 1))

    def birth_in_years(self, first_year: int, last_year: int) -> date:
        """A birth date in ``first_year``–``last_year`` (day 1–28, so every month has it)."""
        rng = self.rng
        return date(rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28))

    def id_number(self, birth: date, sex: str, region: str = "110105") -> str:
        """An 18-digit 公民身份号码 for ``birth`` and ``sex`` (odd sequence digit for men) with a valid
        check digit; ``region`` is replaced by a timeless code when stdnum does not know it for that year."""
        seq = self.rng.randrange(0, 500) * 2 + (1 if sex == "男" else 0)
        base = f"{region_for(region, birth.year)}{birth:%Y%m%d}{seq:03d}"
        return base + check_char(base)

    def phone(self) -> str:
        """An 11-digit mobile number."""
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:              # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)
