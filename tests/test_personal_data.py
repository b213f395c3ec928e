"""Personal data, table-driven (issue 14.4, DOMAIN.md §7): no full ID number leaves the service
layer for a user without ``core.personal.full_view`` — not from a service, a report or an export —
and every full view, print or export by a holder of the right is audited, once.

The lists are derived, not hand-picked: every public service function of every plugin (as
``tests/test_permissions.py`` finds them), every report the hook registers, every exporter the hook
registers. A service written tomorrow is covered the day it is written.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import inspect
import re

import openpyxl
import pytest
from sqlalchemy import Select, func, select
from sqlalchemy import inspect as sa_inspect

from plugins.emergency.models import Drill, StockMove, Stocktake, Team, TeamMember
from plugins.grid import services as grid_svc
from plugins.grid.models import Event, House, Person
from plugins.partybuilding.models import Member, Transfer
from plugins.volunteer.models import RedemptionOrder, Volunteer
from reports.masking import mask_id
from shell.core import auth, personal
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.core.models import Area, AuditLog, User
from shell.errors import JiedaoError, PermissionDenied
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
from shell.testing import ALL_BUILTINS

from .test_permissions import call_args

SERVICE_MODULES = tuple(f"{p}.services" for p in BUILTIN_PLUGINS)
# A 公民身份号码 (region, birth date, sequence, check digit); house codes and household numbers are
# 18 digits too, but carry no birth date.
FULL_ID = re.compile(r"(?<![\d*])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\d*])")
# Services that hand out the full number on purpose: each must refuse a user without the right and
# write one audit row for a holder.
RAW = {"plugins.grid.services.full_id_number": "查看完整号码 on the person page"}


def service_functions():
    for name in SERVICE_MODULES:
        module = importlib.import_module(name)
        for fname, fn in inspect.getmembers(module, inspect.isfunction):
            # a services/ package: its modules' functions, re-exported (named after the package)
            if fname.startswith("_") or not (fn.__module__ == module.__name__
                                             or fn.__module__.startswith(module.__name__ + ".")):
                continue
            params = list(inspect.signature(fn).parameters)
            if params and params[0] == "ctx":
                yield f"{name}.{fname}", fn


FUNCTIONS = sorted(service_functions())


@pytest.fixture(scope="module")
def street(tmp_path_factory, sqlite_templates):
    pm = make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)
    db = sqlite_templates.open(tmp_path_factory.mktemp("personal") / "street.sqlite", ALL_BUILTINS, demo=True, pm=pm)
    yield db, pm
    db.dispose()


def _actors(db, pm):
    """(without the right, with it): every permission of the program but one / all, street-wide."""
    with db.session_factory() as s:
        street = s.scalars(select(Area).where(Area.level == "street")).first()
    every = frozenset(auth.collect_permissions(pm))
    without = Actor(user_id=None, username="no_full", display_name="无完整号码权限",
                    permissions=every - {personal.FULL_VIEW}, scope_paths=(street.path,))
    holder = Actor(user_id=None, username="full", display_name="有完整号码权限", permissions=every,
                   scope_paths=(street.path,))
    return without, holder


def _stored_numbers(session, phones: bool = True) -> set[str]:
    out = set()
    for col in (Person.id_number, House.owner_id_number, Volunteer.id_number, Member.id_number):
        out |= {n for n in session.scalars(select(col)) if n}
    # the emergency teams' phones: printed in full only on the call-out list of a holder of the right
    # (services hand phones out whole — the pages where staff call people need them; the views and
    # ledgers mask them — so the services' test leaves them out)
    if phones:
        for col in (TeamMember.phone, Team.leader_phone):
            out |= {n for n in session.scalars(select(col)) if n}
    return out


def _leaks(text: str, stored: set[str]) -> set[str]:
    found = set(FULL_ID.findall(text))
    return {n for n in stored if n in text} | found


def dump(value, depth: int = 0) -> str:
    """Everything a caller could read from a result: records' columns (through masked views) and the
    rows one relationship away, dataclass fields, containers."""
    if depth > 3 or value is None:
        return ""
    if isinstance(value, (str, int, float, bool, dt.date, dt.datetime)):
        return str(value)
    obj = personal.unmasked(value)
    if hasattr(type(obj), "__mapper__"):
        mapper = sa_inspect(type(obj))
        parts = [str(getattr(value, a.key, "")) for a in mapper.column_attrs]
        if depth < 2 and not sa_inspect(obj).detached:
            for rel in mapper.relationships:
                if rel.lazy == "raise":
                    continue  # not readable from the record (loaded on purpose or not at all)
                parts.append(dump(getattr(value, rel.key), depth + 1))
        return " ".join(parts)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return " ".join(dump(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return " ".join(dump(k, depth + 1) + " " + dump(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return " ".join(dump(v, depth + 1) for v in value)
    return str(value)


def _real_arguments(session):
    """Real values for the parameters services take, from the demo street: a record with personal
    data for each ``*_id``, a full ID number as the search text."""
    person = session.scalars(select(Person).where(Person.household_id.is_not(None), Person.house_id.is_not(None))
                             .order_by(Person.id)).first()
    volunteer = session.scalars(select(Volunteer).order_by(Volunteer.id)).first()
    member = session.scalars(select(Member).order_by(Member.id)).first()
    transfer = session.scalars(select(Transfer).order_by(Transfer.id)).first()
    return {
        "person_id": person.id, "household_id": person.household_id, "house_id": person.house_id,
        "volunteer_id": volunteer.id, "member_id": member.id, "transfer_id": transfer.id if transfer else 1,
        "number": volunteer.number, "text": person.id_number, "org_id": member.org_id,
    }, {"grid": person.id_number, "volunteer": volunteer.id_number, "partybuilding": member.id_number}


def _call_all(db, actor):
    """Every service with real arguments where it takes them; (qualname, dump of result) for those
    that answered."""
    answers = []
    with db.session_factory() as s:
        real, searches = _real_arguments(s)
        s.rollback()
        for qualname, fn in FUNCTIONS:
            plugin = qualname.split(".")[1]
            overrides = {**real, "text": searches.get(plugin, real["text"])}
            params = inspect.signature(fn).parameters
            args, kwargs = call_args(fn, {k: v for k, v in overrides.items() if k in params})
            try:
                result = fn(ServiceContext(s, actor), *args, **kwargs)
                if isinstance(result, Select):
                    result = None  # a query for a lazy list: its rows are masked where they are fetched
                answers.append((qualname, dump(result)))
            except Exception:  # noqa: BLE001
                pass  # arguments this generic call cannot make up; its plugin's tests call it properly
            finally:
                s.rollback()
    return answers


def test_every_service_is_a_masking_boundary():
    """Structural: each public service function is wrapped (or a documented full-number service)."""
    missing = [q for q, fn in FUNCTIONS
               if not getattr(fn, "__personal_boundary__", False) and q not in RAW]
    assert not missing, "not a personal-data boundary (call personal.guard_services at the end): " + ", ".join(missing)
    for q in RAW:
        assert getattr(dict(FUNCTIONS)[q], "__personal_raw__", False), f"{q} must be marked @personal.raw"


@pytest.mark.parametrize("who", ["without", "holder"])
def test_no_service_hands_out_a_full_id_number(street, who):
    db, pm = street
    actor = dict(zip(("without", "holder"), _actors(db, pm), strict=True))[who]
    with db.session_factory() as s:
        stored = _stored_numbers(s, phones=False)
    answers = _call_all(db, actor)
    problems = [f"{q}: {sorted(_leaks(text, stored))[:2]}" for q, text in answers
                if q not in RAW and _leaks(text, stored)]
    assert not problems, "full ID numbers left the service layer:\n" + "\n".join(problems)
    answered = {q for q, text in answers}
    # The generic call reached the services that return people, so the check above means something.
    for q in ("plugins.grid.services.get_person", "plugins.grid.services.household_members",
              "plugins.grid.services.get_house", "plugins.grid.services.occupants",
              "plugins.volunteer.services.get_volunteer", "plugins.volunteer.services.search_volunteers",
              "plugins.partybuilding.services.get_member", "plugins.partybuilding.services.list_members"):
        assert q in answered, f"{q} was not exercised"
    assert len(answered) >= 120, len(answered)
    # Searching by the full number still finds the person (shown masked).
    with db.session_factory() as s:
        real, searches = _real_arguments(s)
        found = grid_svc.list_persons(ServiceContext(s, actor), searches["grid"])
        assert [r.id_number for r in found] == [mask_id(searches["grid"])]


def test_full_number_services_need_the_right_and_are_audited(street):
    db, pm = street
    without, holder = _actors(db, pm)
    for qualname in RAW:
        fn = dict(FUNCTIONS)[qualname]
        with db.session_factory() as s:
            real, _ = _real_arguments(s)
            args, kwargs = call_args(fn, real)
            with pytest.raises(PermissionDenied):
                fn(ServiceContext(s, without), *args, **kwargs)
            before = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "view_full_id"))
            value = fn(ServiceContext(s, holder), *args, **kwargs)
            assert FULL_ID.search(str(value)), qualname
            after = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "view_full_id"))
            assert after == before + 1
            s.rollback()


def test_a_masked_record_cannot_be_written_back(street):
    """The services return views, not the live rows: writing to one raises, nothing masked is
    flushed, and an edit sending the masked number back leaves the stored one alone."""
    db, pm = street
    without, _holder = _actors(db, pm)
    with db.session_factory() as s:
        real, searches = _real_arguments(s)
        ctx = ServiceContext(s, without)
        p = grid_svc.get_person(ctx, real["person_id"])
        assert p.id_number == mask_id(searches["grid"]) and isinstance(p, Person)
        with pytest.raises(TypeError):
            p.id_number = "x"
        members = grid_svc.household_members(ctx, real["household_id"])
        assert all("*" in m.id_number for m in members)
        s.flush()
        assert s.get(Person, real["person_id"]).id_number == searches["grid"]
        # A house edited through a form that showed the owner's number masked.
        house = s.scalars(select(House).where(House.owner_id_number.is_not(None))).first()
        full = house.owner_id_number
        shown = grid_svc.get_house(ctx, house.id)
        grid_svc.update_house(ctx, house.id, shown.version_id, owner_id_number=shown.owner_id_number, hazard="无")
        s.commit()
        assert s.get(House, house.id).owner_id_number == full
        with pytest.raises(JiedaoError, match="脱敏"):
            grid_svc.update_house(ctx, house.id, None, owner_id_number="1101**********0000")
        s.rollback()
    from plugins.volunteer import services as vol_svc

    with db.session_factory() as s:
        ctx = ServiceContext(s, without)
        v = vol_svc.get_volunteer(ctx, real["volunteer_id"])
        vol_svc.update_volunteer(ctx, v.id, v.version_id, id_number=v.id_number, skills="助老")
        s.commit()
        assert s.get(Volunteer, v.id).id_number == searches["volunteer"]


# --- reports -------------------------------------------------------------------------------------
def _report_params(session, definition, full: bool):
    """Parameter values for a report: defaults; a real record where one is required; full numbers
    asked for (when the report offers the choice) for ``full``."""
    vol = session.scalars(select(Volunteer).order_by(Volunteer.id)).first()
    letter = session.scalars(select(Transfer).where(Transfer.direction == "out").order_by(Transfer.id)).first()
    known = {"number": vol.number, "transfer": letter.id if letter else None}
    community = session.scalars(select(Area).where(Area.level == "community").order_by(Area.id)).first()
    known["drill_id"] = session.scalar(select(func.min(Drill.id)).where(Drill.evaluated_on.is_not(None)))
    known["stocktake_id"] = session.scalar(select(func.min(Stocktake.id)))
    known["order"] = session.scalar(select(func.min(RedemptionOrder.id)))
    known["event_number"] = session.scalar(select(func.min(Event.number)).where(Event.status == "closed"))
    known["doc_no"] = session.scalar(select(func.min(StockMove.doc_no)).where(StockMove.kind == "out"))
    known["house"] = session.scalar(select(func.min(House.code)).where(House.house_use == "出租"))
    known["member"] = session.scalar(select(func.min(Member.id)).where(Member.stage == "full", Member.status == "normal",
                                                                        Member.org_id.is_not(None)))
    params = {}
    for p in definition.parameters:
        if p.kind == "choice" and {c for c, _ in p.choices} >= {"yes", "no"} and p.name in ("full_ids", "mask"):
            params[p.name] = ("yes" if full else "no") if p.name == "full_ids" else ("0" if full else "1")
        elif p.required and p.default is None and p.kind == "area":
            params[p.name] = community.id
        elif p.required and p.default is None and p.kind in ("month", "date", "year"):
            today = dt.date.today()
            params[p.name] = today.year if p.kind == "year" else today.replace(day=1)
        elif p.required and p.default is None:
            if p.name in known and known[p.name] is None:
                return None  # the demo street has no such record (a stock-take): nothing to print
            assert p.name in known, (
                f"报表 {definition.id} 的必填参数 {p.name} 没有测试取值：在 _report_params 里给它一个演示数据中的值")
            params[p.name] = known[p.name]
        else:
            params[p.name] = p.default
    return params


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _xlsx_text(path) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c)


def _report_outputs(db, pm, actor, full, tmp_path):
    from shell.core.reporting import available_reports, generate

    out = []
    for _plugin, definition in available_reports(pm, actor):
        with db.session_factory() as s:
            params = _report_params(s, definition, full)
        if params is None:
            continue
        path = tmp_path / f"{definition.id}-{'full' if full else 'masked'}.pdf"
        try:
            generate(db.session_factory, actor, definition, params, path)
        except PermissionDenied:
            assert not full, f"{definition.id}: refused to a holder of every right"
            continue
        with db.session_factory() as s:
            action = s.scalar(select(AuditLog.action).where(AuditLog.entity == definition.id)
                              .order_by(AuditLog.id.desc()).limit(1))
        out.append((definition.id, _pdf_text(path), action))
    return out


def test_reports_print_no_full_id_number_without_the_right(street, tmp_path):
    db, pm = street
    without, _ = _actors(db, pm)
    with db.session_factory() as s:
        stored = _stored_numbers(s)
    outputs = _report_outputs(db, pm, without, False, tmp_path)
    problems = [f"{rid}: {sorted(_leaks(text, stored))[:2]}" for rid, text, _a in outputs if _leaks(text, stored)]
    assert not problems, "\n".join(problems)
    ids = {rid for rid, _t, _a in outputs}
    assert {"volunteer.certificate", "partybuilding.transfer_letter", "grid.persons"} <= ids, ids
    # And asking a ledger for full numbers is refused without the right.
    from shell.core.reporting import find_report, generate

    _p, definition = find_report(pm, "grid.persons")
    with pytest.raises(PermissionDenied):
        generate(db.session_factory, without, definition, {"full_ids": "yes"}, tmp_path / "x.pdf")


def test_reports_with_full_numbers_are_audited_as_such(street, tmp_path):
    db, pm = street
    _, holder = _actors(db, pm)
    with db.session_factory() as s:
        stored = _stored_numbers(s)
    outputs = _report_outputs(db, pm, holder, True, tmp_path)
    full = {rid for rid, text, _a in outputs if _leaks(text, stored)}
    assert {"volunteer.certificate", "partybuilding.transfer_letter", "grid.persons"} <= full, full
    wrong = [f"{rid}: {action}" for rid, text, action in outputs
             if (action == "report_full_ids") != bool(_leaks(text, stored))]
    assert not wrong, "a print with full numbers must be audited as report_full_ids, one without as report:\n" + \
        "\n".join(wrong)


def test_the_demo_community_staff_prints_a_masked_certificate(street, tmp_path):
    """The case the issue found: 社区工作人员 printed a 志愿服务证明 with the full ID number."""
    from shell.core.reporting import find_report, generate

    db, pm = street
    with db.session_factory() as s:
        user = s.scalar(select(User).where(User.username == "community_staff"))
        actor = auth.build_actor(s, user)
        assert not actor.can(personal.FULL_VIEW)
        area_ids = [a.id for a in s.scalars(select(Area).where(Area.path.startswith(actor.scope_paths[0])))]
        vol = s.scalars(select(Volunteer).where(Volunteer.area_id.in_(area_ids)).order_by(Volunteer.id)).first()
        number, full = vol.number, vol.id_number
    _p, definition = find_report(pm, "volunteer.certificate")
    out = tmp_path / "cert.pdf"
    generate(db.session_factory, actor, definition, {"number": number}, out)
    text = _pdf_text(out)
    assert full not in text and mask_id(full) in text


# --- exports -------------------------------------------------------------------------------------
def _exports(db, pm, actor, tmp_path):
    from shell.core.transfer import available_importers, run_export

    out = []
    for _plugin, definition in available_importers(pm, actor):
        if definition.export_fn is None:
            continue
        path = tmp_path / f"{definition.kind}-{actor.username}.xlsx"
        run_export(db.session_factory, actor, definition, path)
        with db.session_factory() as s:
            action = s.scalar(select(AuditLog.action).where(AuditLog.entity == definition.kind)
                              .order_by(AuditLog.id.desc()).limit(1))
        out.append((definition.kind, _xlsx_text(path), action))
    return out


def test_exports_mask_without_the_right_and_audit_full_ones(street, tmp_path):
    db, pm = street
    without, holder = _actors(db, pm)
    with db.session_factory() as s:
        stored = _stored_numbers(s)
    masked = _exports(db, pm, without, tmp_path)
    problems = [f"{kind}: {sorted(_leaks(text, stored))[:2]}" for kind, text, _a in masked if _leaks(text, stored)]
    assert not problems, "\n".join(problems)
    assert all(action == "export" for _k, _t, action in masked)
    full = _exports(db, pm, holder, tmp_path)
    with_numbers = {kind for kind, text, _a in full if _leaks(text, stored)}
    assert {"grid-persons", "grid-houses", "volunteer-volunteers", "partybuilding-members"} <= with_numbers, with_numbers
    wrong = [f"{kind}: {action}" for kind, text, action in full
             if (action == "export_full_ids") != bool(_leaks(text, stored))]
    assert not wrong, "\n".join(wrong)


# --- lists fetched by the views ------------------------------------------------------------------
def test_lazy_lists_get_masked_rows(street, qapp):
    """The 实有人口 and member lists page through a query in the view's table model: the rows it
    holds are masked views too, whoever looks."""
    from shell.ui.widgets.lazy_table import Column, LazyTableModel

    db, pm = street
    without, holder = _actors(db, pm)
    for actor in (without, holder):
        model = LazyTableModel(db.session_factory, [Column("姓名", lambda p: p.name)])
        model.set_query(grid_svc.search_persons_query(actor), key_column=Person.id)
        model.fetchMore()
        assert model.rowCount() > 0
        assert all("*" in model.row_object(i).id_number for i in range(model.rowCount()))


# --- PostgreSQL ----------------------------------------------------------------------------------
def test_on_postgresql_records_and_exports(pg_templates, tmp_path):
    pm = make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)
    with pg_templates.clone(ALL_BUILTINS, demo=True) as url:
        _records_and_exports_on(open_database(url, pm=pm, backup=False), pm, tmp_path)


def _records_and_exports_on(db, pm, tmp_path):
    try:
        without, holder = _actors(db, pm)
        with db.session_factory() as s:
            real, searches = _real_arguments(s)
            stored = _stored_numbers(s)
            p = grid_svc.get_person(ServiceContext(s, without), real["person_id"])
            assert p.id_number == mask_id(searches["grid"])
            assert [r.name for r in grid_svc.list_persons(ServiceContext(s, without), searches["grid"])] == [p.name]
        exports = {k: (t, a) for k, t, a in _exports(db, pm, without, tmp_path)}
        assert not _leaks(exports["grid-persons"][0], stored) and exports["grid-persons"][1] == "export"
        exports = {k: (t, a) for k, t, a in _exports(db, pm, holder, tmp_path)}
        assert _leaks(exports["grid-persons"][0], stored) and exports["grid-persons"][1] == "export_full_ids"
    finally:
        db.dispose()


def test_the_audit_viewer_shows_id_numbers_masked(street):
    """The log keeps the full number a change wrote; 设置 → 审计日志 shows it masked."""
    from shell.core.audit_query import describe_changes

    db, _pm = street
    with db.session_factory() as s:
        stored = _stored_numbers(s)
        entries = list(s.scalars(select(AuditLog).where(AuditLog.entity.in_(
            ("grid_persons", "grid_houses", "volunteer_volunteers", "partybuilding_members")),
            AuditLog.action == "insert").limit(200)))
        assert entries
        text = " ".join(f"{f} {b} {a}" for e in entries for f, b, a in describe_changes(e))
        assert not _leaks(text, stored)
        assert any(_leaks(str(e.after), stored) for e in entries)  # and the log itself still has them
