"""shell.core.demo_people: the one demo-person generator — deterministic per seed, valid ID numbers
(shell.idnumber and python-stdnum agree), names and birth dates within what was asked."""
from __future__ import annotations

import random
from datetime import date

import pytest

from shell.core.demo_people import GIVEN_F, GIVEN_M, SURNAMES, DemoPeople, check_char
from shell.idnumber import parse_id_number

TODAY = date(2024, 2, 29)


def _draw(seed: int) -> list:
    p = DemoPeople(random.Random(seed))
    out = []
    for _ in range(50):
        sex = p.sex()
        birth = p.birth(0, 100, TODAY)
        out.append((p.name(sex), sex, birth, p.id_number(birth, sex), p.phone()))
    return out


def test_same_seed_same_people():
    assert _draw(5) == _draw(5)
    assert _draw(5) != _draw(6)


def test_names():
    p = DemoPeople(random.Random(1))
    for _ in range(300):
        assert p.surname() in SURNAMES
        g = p.given_name("男")
        assert 1 <= len(g) <= 2 and set(g) <= set(GIVEN_M)
        g = p.given_name("女")
        assert set(g) <= set(GIVEN_F)
        n = p.name("女")
        assert n[0] in SURNAMES and 2 <= len(n) <= 3


def test_sex_share():
    p = DemoPeople(random.Random(2))
    sexes = [p.sex(0.7) for _ in range(2000)]
    assert set(sexes) == {"男", "女"}
    assert 0.65 < sexes.count("男") / 2000 < 0.75


@pytest.mark.parametrize("lo, hi", [(0, 0), (18, 18), (18, 60), (60, 100)])
def test_birth_gives_the_asked_age(lo, hi):
    p = DemoPeople(random.Random(3))
    for _ in range(500):
        b = p.birth(lo, hi, TODAY)
        age = TODAY.year - b.year - ((TODAY.month, TODAY.day) < (b.month, b.day))
        assert lo <= age <= hi and b <= TODAY
    with pytest.raises(ValueError):
        p.birth(10, 9, TODAY)


def test_birth_in_years():
    p = DemoPeople(random.Random(4))
    births = [p.birth_in_years(1950, 1952) for _ in range(300)]
    assert {b.year for b in births} == {1950, 1951, 1952} and max(b.day for b in births) <= 28


@pytest.mark.parametrize("region", ["110105", "330102", "330106", "340102"])
def test_id_numbers_are_valid(region):
    from stdnum.cn import ric

    p = DemoPeople(random.Random(5))
    for _ in range(200):
        sex = p.sex()
        birth = p.birth(0, 95, TODAY)
        number = p.id_number(birth, sex, region)
        info = parse_id_number(number, today=TODAY)
        assert info.number == number and info.sex == sex and info.birth_date == birth
        assert ric.is_valid(number)


def test_check_char_matches_stdnum():
    from stdnum.cn import ric

    rng = random.Random(6)
    for _ in range(200):
        base = "110105" + f"{rng.randrange(10**11):011d}"
        assert check_char(base) == ric.calc_check_digit(base + "0")


def test_phone():
    p = DemoPeople(random.Random(7))
    for _ in range(200):
        n = p.phone()
        assert len(n) == 11 and n.isdigit() and n[0] == "1"
