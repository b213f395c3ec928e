"""Permissions everywhere, table-driven: every public service function (a module-level function of
a core service module or a plugin's ``services`` whose first parameter is ``ctx``) is called

1. as an actor with no permission at all — it must refuse with ``PermissionDenied`` before it reads
   or writes anything (or be listed in ``OPEN`` with the reason it needs none);
2. with a real record of another community, as an actor holding every permission but scoped to one
   community — it must refuse with ``OutOfScope`` or act as if the record did not exist (``NotFound``).

A new service function is covered the day it is written; one that forgets its check fails here.
"""
from __future__ import annotations

import datetime as dt
import importlib
import inspect

import pytest
from sqlalchemy import Select, select

from shell.core import auth
from shell.core.context import Actor, ServiceContext
from shell.core.models import Area
from shell.db.base import Base
from shell.errors import JiedaoError, NotFound, OutOfScope, PermissionDenied
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
from shell.testing import ALL_BUILTINS

CORE_MODULES = ("shell.core.areas", "shell.core.auth", "shell.core.settings", "shell.core.audit_query",
                "shell.core.calendar")
MODULES = CORE_MODULES + tuple(f"{p}.services" for p in BUILTIN_PLUGINS)

# Functions that need no permission, and why. Anything else must raise PermissionDenied for nobody.
OPEN = {
    "shell.core.auth.change_own_password": "everyone may change their own password (the old one is checked)",
    "shell.core.areas.search_areas": "a search hook: returns only what the actor may see (checked: empty here)",
    "plugins.grid.services.attachment_limit_bytes": "reads a norm (the attachment size limit) for the form",
    "plugins.emergency.services.alert_days": "reads a norm (the expiry alert bands) for the stock view",
    "plugins.emergency.services.setting": "reads one of the plugin's norms by key",
    "plugins.grid.services.allowed_actions": "pure: which buttons this actor's permissions allow on an event a "
                                             "checked service already loaded (the transition checks again)",
    "plugins.grid.services.check_attachment_size": "pure: compares a file size with the limit before the file is read",
    "plugins.emergency.services.search": "a search hook: empty without the view permission (checked)",
    "plugins.partybuilding.services.search": "a search hook: empty without the view permission (checked)",
    "plugins.volunteer.services.search_volunteers": "a search hook: empty without the view permission (checked)",
}
SEARCH_HOOKS = {k for k, why in OPEN.items() if why.startswith("a search hook")}
# Functions that may refuse malformed arguments before the permission check, because the argument
# decides which permission applies or the check reads no data at all.
ARGUMENTS_FIRST = {
    "plugins.grid.services.transition": "the action named decides which permission applies; an unknown one is refused as such",
}


def service_functions():
    for name in MODULES:
        module = importlib.import_module(name)
        for fname, fn in inspect.getmembers(module, inspect.isfunction):
            # a services/ package: its re-exported names live in its submodules
            if fname.startswith("_") or not (fn.__module__ + ".").startswith(module.__name__ + "."):
                continue
            params = list(inspect.signature(fn).parameters.values())
            if params and params[0].name == "ctx":
                yield f"{name}.{fname}", fn


def dummy(name: str):
    """A plausible value for a required parameter; the permission check must come before it matters."""
    n = name.lower()
    if n == "params":
        return {}
    if "month" in n or n == "upto":
        return "2026-05"
    if n == "counts":
        return {}  # nothing to count: the function must still refuse an actor without permission
    if n.endswith("ids"):
        return [1]
    if n.endswith("_id") or n == "id":
        return 1
    if any(k in n for k in ("date", "_on", "since", "until", "day", "when", "month", "start", "end")):
        return dt.date(2026, 5, 1)
    if n in ("items", "lines", "quantities"):
        return {1: 1}
    if any(k in n for k in ("quantity", "points", "count", "minutes", "year", "amount", "fen", "hours", "score",
                            "limit", "size")):
        return 1
    return "x"


def call_args(fn, overrides: dict | None = None):
    args, kwargs = [], {}
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in (overrides or {}):
            value = overrides[p.name]
        elif p.default is not inspect.Parameter.empty:
            continue
        else:
            value = dummy(p.name)
        if p.kind == p.KEYWORD_ONLY:
            kwargs[p.name] = value
        else:
            args.append(value)
    return args, kwargs


@pytest.fixture(scope="module")
def street(tmp_path_factory, sqlite_templates):
    pm = make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False)
    db = sqlite_templates.open(tmp_path_factory.mktemp("perm") / "street.sqlite", ALL_BUILTINS, demo=True, pm=pm)
    yield db, pm
    db.dispose()


FUNCTIONS = sorted(service_functions())


@pytest.mark.parametrize("qualname", [q for q, _ in FUNCTIONS])
def test_refused_without_permission(street, qualname):
    db, _pm = street
    fn = dict(FUNCTIONS)[qualname]
    if qualname in OPEN and qualname not in SEARCH_HOOKS:
        return  # documented above; called with real arguments by its own plugin's tests
    with db.session_factory() as s:
        street_area = s.scalars(select(Area).where(Area.level == "street")).first()
        nobody = Actor(user_id=None, username="nobody", display_name="无权限用户", scope_paths=(street_area.path,))
        args, kwargs = call_args(fn)
        try:
            result = fn(ServiceContext(s, nobody), *args, **kwargs)
        except PermissionDenied:
            assert qualname not in OPEN, f"{qualname} is listed as open but refused"
            return
        except JiedaoError as exc:
            if qualname in OPEN or qualname in ARGUMENTS_FIRST:
                return
            pytest.fail(f"{qualname} answered “{exc.message}” ({type(exc).__name__}) to an actor without any "
                        "permission: check the permission first")
        finally:
            s.rollback()
        assert qualname in OPEN, f"{qualname} ran for an actor without any permission"
        if qualname in SEARCH_HOOKS:
            assert not result, f"{qualname} found records for an actor without the view permission"


# --- scope --------------------------------------------------------------------------------------------
def _area_column(cls):
    """How a row of ``cls`` belongs to an area: its own ``area_id``, or one foreign key away (a member
    through its organisation, a batch through its warehouse). (join target, area column) or None."""
    mapper = cls.__mapper__
    if "area_id" in mapper.columns:
        return None, cls.area_id
    for col in mapper.columns:
        for fk in col.foreign_keys:
            target = next((m.class_ for m in Base.registry.mappers if m.local_table is fk.column.table), None)
            if target is not None and "area_id" in target.__mapper__.columns and target is not cls:
                return (target, col == fk.column), target.area_id
    return None


def _models_by_stem():
    """'volunteer' → [Volunteer], 'org' → [PartyOrg], 'item' → [RewardItem, …]: every model with an area."""
    out: dict[str, list] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if _area_column(cls) is not None:
            out.setdefault(cls.__name__.lower(), []).append(cls)
    return out


def _outside_record(session, cls, community: Area):
    """A row of ``cls`` whose area is outside ``community``'s subtree."""
    join, area_col = _area_column(cls)
    outside = select(Area.id).where(~Area.path.startswith(community.path))
    q = select(cls)
    if join is not None:
        q = q.join(join[0], join[1])
    return session.scalars(q.where(area_col.in_(outside)).order_by(cls.id).limit(1)).first()


def _scope_cases(db):
    by_stem = _models_by_stem()
    cases = []
    for qualname, fn in FUNCTIONS:
        params = list(inspect.signature(fn).parameters)[1:]
        if not params or not params[0].endswith("_id"):
            continue
        stem = params[0][:-3].replace("_", "")
        plugin = qualname.split(".")[1] if qualname.startswith("plugins.") else "core"
        prefix = f"plugins.{plugin}." if plugin != "core" else "shell."
        candidates = [c for name, classes in by_stem.items() if name == stem or name.endswith(stem)
                      for c in classes if c.__module__.startswith(prefix)]
        if len(candidates) == 1:
            cases.append((qualname, params[0], candidates[0]))
    return cases


def test_scope_cases_cover_the_plugins(street):
    db, _pm = street
    names = {q for q, _p, _c in _scope_cases(db)}
    for plugin in ("grid", "volunteer", "partybuilding", "emergency"):
        assert any(f"plugins.{plugin}." in q for q in names), f"no scoped function found for {plugin}"


def test_records_of_another_community_are_out_of_reach(street):
    db, pm = street
    problems = []
    with db.session_factory() as s:
        community = s.scalars(select(Area).where(Area.level == "community").order_by(Area.id)).first()
        every = frozenset(auth.collect_permissions(pm))
        scoped = Actor(user_id=None, username="scoped", display_name="社区工作人员", permissions=every,
                       scope_paths=(community.path,))
        checked = 0
        for qualname, param, cls in _scope_cases(db):
            record = _outside_record(s, cls, community)
            if record is None:
                continue
            fn = dict(FUNCTIONS)[qualname]
            args, kwargs = call_args(fn, {param: record.id})
            try:
                result = fn(ServiceContext(s, scoped), *args, **kwargs)
                if isinstance(result, Select):
                    result = s.execute(result).all()
                if result:  # an empty answer is "as if it did not exist"
                    problems.append(f"{qualname}({param}={record.id}) answered about a record of another community")
            except (OutOfScope, NotFound):
                pass
            except JiedaoError as exc:
                if qualname in ARGUMENTS_FIRST:
                    continue
                problems.append(f"{qualname}({param}={record.id}) answered “{exc.message}” ({type(exc).__name__}) "
                                "before checking the scope")
            finally:
                s.rollback()
            checked += 1
    assert checked >= 20, f"only {checked} scoped functions were exercised"
    assert not problems, "\n".join(problems)


# --- ledgers -----------------------------------------------------------------------------------------
def test_ledgers_stay_inside_the_actors_scope(street):
    """Every report, built for an actor scoped to one community: asked for another community it
    refuses (or finds nothing); asked for everything it returns no more than an unscoped actor gets."""
    from reports import LedgerSpec
    from shell.core.reporting import available_reports

    db, pm = street
    with db.session_factory() as s:
        communities = list(s.scalars(select(Area).where(Area.level == "community").order_by(Area.id)))
        mine, other = communities[0], communities[1]
        every = frozenset(auth.collect_permissions(pm))
        scoped = Actor(user_id=None, username="scoped", display_name="社区工作人员", permissions=every,
                       scope_paths=(mine.path,))
    problems, checked, narrowed = [], 0, []
    for _plugin, definition in available_reports(pm):
        area_params = [p.name for p in definition.parameters if p.kind == "area"]
        required = {p.name for p in definition.parameters if p.required and p.default is None and p.kind != "area"}
        if required:
            continue  # needs a specific record (a certificate, a letter): covered by its plugin's tests
        base = {p.name: p.default for p in definition.parameters if p.kind != "area"}
        with db.session_factory() as s:
            for name in area_params:
                try:
                    spec = definition.builder(ServiceContext(s, scoped), {**base, name: other.id})
                    rows = list(spec.rows) if isinstance(spec, LedgerSpec) else []
                    if rows:
                        problems.append(f"{definition.id}: {len(rows)} rows of another community")
                except (OutOfScope, NotFound, PermissionDenied):
                    pass
                checked += 1
            if not any(p.required and p.default is None for p in definition.parameters):
                params = {p.name: p.default for p in definition.parameters}
                try:
                    spec_all = definition.builder(ServiceContext(s, Actor.system()), params)
                    spec_mine = definition.builder(ServiceContext(s, scoped), params)
                except JiedaoError:
                    continue
                if isinstance(spec_all, LedgerSpec) and isinstance(spec_mine, LedgerSpec):
                    n_all, n_mine = len(list(spec_all.rows)), len(list(spec_mine.rows))
                    if n_mine > n_all:
                        problems.append(f"{definition.id}: a scoped actor got {n_mine} rows, everyone {n_all}")
                    if n_mine < n_all:
                        narrowed.append(definition.id)
                    checked += 1
            s.rollback()
    assert checked >= 10, f"only {checked} ledger checks ran"
    assert not problems, "\n".join(problems)
    # The demo street has three communities: ledgers of the whole street shrink for one of them.
    assert {i.split(".")[0] for i in narrowed} >= {"grid", "volunteer", "partybuilding", "emergency"}, narrowed
