"""The 新建/修改志愿活动 form (defaults from the street's rules)."""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtWidgets import (
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .common import (
    datetime_edit,
    from_qdatetime,
    to_qdatetime,
)


def cap_rule_text(cap_minutes: int, points_per_hour: int) -> str:
    cap = f"每次最多计入 {svc.hours_text(cap_minutes)} 小时" if cap_minutes else "时长不封顶"
    return f"{cap}；每小时计 {points_per_hour} 分（审核通过后计入）"


# ---------------------------------------------------------------------------------------- form

class ActivityDialog(FormDialog):
    """New activity (``activity`` None) or edit. Fields of the issue; defaults from the rules."""

    def __init__(self, parent: QWidget, app_ctx, activity=None):
        editing = activity is not None
        super().__init__(parent, "修改志愿活动" if editing else "新建志愿活动", "activity-dialog",
                         "时长封顶和每小时积分默认取自本街道的积分规则，可按活动修改；已审核的记录不受修改影响。",
                         ok_text="保存" if editing else "创建")
        self.app_ctx, self.activity = app_ctx, activity
        self.saved_id: int | None = None
        with app_ctx.service(commit=False) as ctx:
            rules = svc.current_rules(ctx)
            communities = svc.community_choices(ctx)
            teams = [(t.id, t.name, t.area_id) for t in svc.list_teams(ctx) if t.active]
            now = ctx.now()
        f = self.form
        self.name = f.add("name", "活动名称", QLineEdit(), required=True)
        self.area = f.add("area_id", "所属社区", QComboBox(), required=True)
        for area_id, name in communities:
            self.area.addItem(name, area_id)
        self.team = f.add("team_id", "志愿队伍", QComboBox())
        self.teams = teams
        self._fill_teams()
        self.area.currentIndexChanged.connect(lambda _i: self._fill_teams())
        self.organiser = f.add("organiser", "组织单位", QLineEdit())
        start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        self.starts = f.add("starts_at", "开始时间", datetime_edit(start), required=True)
        self.ends = f.add("ends_at", "结束时间", datetime_edit(start + timedelta(hours=2)), required=True)
        self.place = f.add("place", "服务地点", QLineEdit())
        self.target = f.add("target", "服务对象", QLineEdit())
        self.content = f.add("content", "服务内容", QPlainTextEdit())
        self.content.setFixedHeight(60)
        self.leader = f.add("leader_name", "负责人", QLineEdit(), hint="审核时长的活动负责人")
        self.recorder = f.add("recorder_name", "记录人", QLineEdit())
        self.capacity = f.add("capacity", "招募人数", QSpinBox())
        self.capacity.setRange(0, 10000)
        self.capacity.setSpecialValueText("不限")
        self.cap = f.add("cap_minutes", "每次最多计入", QSpinBox(), hint="0 表示不封顶")
        self.cap.setRange(0, 1440)
        self.cap.setSingleStep(30)
        self.cap.setSuffix(" 分钟")
        self.cap.setValue(rules.cap_minutes)
        self.pph = f.add("points_per_hour", "每小时积分", QSpinBox())
        self.pph.setRange(0, 100)
        self.pph.setSuffix(" 分")
        self.pph.setValue(rules.points_per_hour)
        for key, w in (("name", self.name), ("area", self.area), ("team", self.team), ("starts", self.starts),
                       ("ends", self.ends), ("place", self.place), ("leader", self.leader), ("capacity", self.capacity),
                       ("cap", self.cap), ("pph", self.pph)):
            w.setObjectName(f"activity-{key}")
        if editing:
            a = activity
            self.expected_version = a.version_id
            self.name.setText(a.name)
            self.area.setCurrentIndex(max(0, self.area.findData(a.area_id)))
            self.area.setEnabled(False)   # an activity stays in its community
            self.team.setCurrentIndex(max(0, self.team.findData(a.team_id)))
            self.organiser.setText(a.organiser)
            self.starts.setDateTime(datetime_edit(a.starts_at).dateTime())
            self.ends.setDateTime(datetime_edit(a.ends_at).dateTime())
            self.place.setText(a.place)
            self.target.setText(a.target)
            self.content.setPlainText(a.content)
            self.leader.setText(a.leader_name)
            self.recorder.setText(a.recorder_name)
            self.capacity.setValue(a.capacity or 0)
            self.cap.setValue(a.cap_minutes)
            self.pph.setValue(a.points_per_hour)
        elif communities:
            self.organiser.setText(f"{communities[0][1]}居委会")
        for w in (self.area, self.team, self.starts, self.ends):
            w.setMinimumWidth(220)
        self.setMinimumWidth(520)
        self.finish_layout()

    def reload_saved(self, current: dict) -> None:
        super().reload_saved(current)
        for key, edit in (("starts_at", self.starts), ("ends_at", self.ends)):
            if current.get(key) is not None:
                edit.setDateTime(to_qdatetime(current[key]))

    def _fill_teams(self) -> None:
        """Only the teams of the chosen community."""
        keep = self.team.currentData()
        self.team.clear()
        self.team.addItem("（不限队伍）", None)
        for team_id, name, area_id in self.teams:
            if area_id == self.area.currentData():
                self.team.addItem(name, team_id)
        self.team.setCurrentIndex(max(0, self.team.findData(keep)))

    def values(self) -> dict:
        f = self.form
        return dict(name=f.value("name"), team_id=self.team.currentData(), organiser=f.value("organiser"),
                    starts_at=from_qdatetime(self.starts.dateTime()), ends_at=from_qdatetime(self.ends.dateTime()),
                    place=f.value("place"), target=f.value("target"), content=f.value("content"),
                    leader_name=f.value("leader_name"), recorder_name=f.value("recorder_name"),
                    capacity=self.capacity.value() or None, cap_minutes=self.cap.value(),
                    points_per_hour=self.pph.value())

    def submit(self) -> bool:
        values = self.values()

        def save():
            with self.app_ctx.service() as ctx:
                if self.activity is None:
                    return svc.create_activity(ctx, area_id=self.area.currentData(), **values).id
                return svc.update_activity(ctx, self.activity.id, self.expected_version, **values).id

        ok, result = self.call(save)
        self.saved_id = result if ok else None
        return ok
