import pytest

from shell.contracts import SettingDefinition
from shell.core import settings
from shell.core.context import ServiceContext
from shell.errors import PermissionDenied, ValidationError
from tests.core.helpers import admin, build_tree, user

RATIO = SettingDefinition("grid.households_per_worker", "每名网格员服务户数", 150, minimum=50, maximum=500)


def test_default_then_stored_value(sqlite_db):
    actor = admin(sqlite_db)
    with sqlite_db.session_factory() as s:
        assert settings.get(s, RATIO) == 150
        assert settings.set_value(ServiceContext(s, actor), RATIO, " 200 ") == 200
        s.commit()
        assert settings.get(s, RATIO) == 200
        assert settings.all_values(s, [RATIO])[RATIO.key] == 200


@pytest.mark.parametrize("bad,msg", [("abc", "格式不正确"), (20, "不能小于 50"), (9999, "不能大于 500"), (1.5, "格式不正确")])
def test_bad_values_are_refused_in_chinese(sqlite_db, bad, msg):
    actor = admin(sqlite_db)
    with sqlite_db.session_factory() as s:
        with pytest.raises(ValidationError, match=msg) as err:
            settings.set_value(ServiceContext(s, actor), RATIO, bad)
        assert err.value.field == RATIO.key


def test_setting_needs_permission(sqlite_db):
    actor = admin(sqlite_db)
    ids = build_tree(sqlite_db, actor)
    worker = user(sqlite_db, actor, "worker1", ids["和平社区/第一网格"], roles=["grid_worker"])
    with sqlite_db.session_factory() as s:
        with pytest.raises(PermissionDenied):
            settings.set_value(ServiceContext(s, worker), RATIO, 100)
