"""Test setup for Jiedao and for plugins written against it: a pytest plugin.

A plugin's own test suite loads it with ``pytest_plugins = ["shell.testing"]`` in its conftest.py
(Jiedao's tests/conftest.py does). It brings:

Databases — migrated (or seeded with the small demo street) once per test session and copied for
each test, because migrating and seeding are the slow part: a SQLite template is copied as a file,
a PostgreSQL one cloned with ``CREATE DATABASE … TEMPLATE`` (a fraction of a second where migrating
takes seconds and seeding the demo half a minute). The PostgreSQL demo street is the SQLite one
moved onto the server (``migrate_sqlite_to_server``, as ``jiedao db migrate-from-sqlite``).

- ``sqlite_db`` / ``pg_db`` / ``db`` (both engines, parametrized): migrated with the core only;
  ``sqlite_template`` is the file ``sqlite_db`` copies.
- ``pg_server``: an admin engine on the PostgreSQL server (``JIEDAO_TEST_PG_URL``, default
  postgres@127.0.0.1:5432); the PG tests skip when it is unreachable, or fail with
  ``JIEDAO_REQUIRE_PG=1``. ``pg_empty_url``: a brand-new empty database, dropped afterwards.
- ``sqlite_templates`` / ``pg_templates``: templates for any set of plugins (``PluginSet``), empty
  or with the demo street: ``sqlite_templates.copy(tmp_path / "x.sqlite", GRID, demo=True)``,
  ``with pg_templates.clone(GRID) as url: …``.
- ``demo_path``: a fresh copy of the small demo street with every built-in plugin (SQLite).

People and contexts — ``demo_actor(db, "grid_worker")`` is the demo user of that role (admin,
street_staff, community_staff, grid_worker) as an Actor, without a login (no argon2, no audit row);
``demo_actors`` gives the four for a database; ``make_ctx(db, actor)`` a ServiceContext on a new
session, closed at teardown; ``system_actor``.

Passwords — the run hashes with argon2 at its lowest cost (``cheap_password_hasher``: one pass over
8 KiB) instead of the program's (three passes over 64 MiB, 0.1–0.6 s a hash here), for every test and
every template; verifying reads the cost from the stored hash. ``production_password_hasher`` gives
one test the program's own parameters; ``JIEDAO_TEST_ARGON2=production`` the whole run.

Plugins — ``plugin_manager(module, builtins=())`` loads exactly the plugins named (no entry
points, no plugin folder); ``PluginSet`` names a set of plugins so that a template can be built for
it in any process.

Under pytest-xdist every template is built once for all workers (a file lock in the run's shared
temporary folder) and the PostgreSQL templates are dropped when the run ends.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

from shell.core import auth
from shell.core.context import Actor, ServiceContext
from shell.core.database import Database, open_database
from shell.core.demo import DEFAULT_PASSWORD, create_demo
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager

try:  # POSIX; elsewhere each test process builds its own templates
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

PG_URL = os.environ.get("JIEDAO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("JIEDAO_REQUIRE_PG") == "1"
DEMO_SEED: int = inspect.signature(create_demo).parameters["seed"].default
DEMO_PASSWORD = DEFAULT_PASSWORD
DEMO_ROLES = ("admin", "street_staff", "community_staff", "grid_worker")
TEMPLATE_PREFIX = "jd_tmpl_"


# --- passwords -----------------------------------------------------------------------------------
def cheap_password_hasher() -> PasswordHasher:
    """Real argon2id at its lowest cost, so that creating and logging in users costs microseconds."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=16)


_program_hasher: PasswordHasher | None = None


def pytest_configure(config):
    # Every test process (each xdist worker too) hashes cheaply unless the run asks for the real cost.
    global _program_hasher
    if _program_hasher is None:
        _program_hasher = auth.use_password_hasher(cheap_password_hasher())
        if os.environ.get("JIEDAO_TEST_ARGON2") == "production":
            auth.use_password_hasher(_program_hasher)


@pytest.fixture
def production_password_hasher():
    """The program's own argon2 hasher (the one shell.core.auth starts with) for one test."""
    previous = auth.use_password_hasher(_program_hasher or PasswordHasher())
    yield
    auth.use_password_hasher(previous)


# --- plugins -------------------------------------------------------------------------------------
def plugin_manager(*extra, builtins=(), disabled=()):
    """A plugin manager with exactly these plugins: ``builtins`` (module names such as
    "plugins.grid") and ``extra`` (plugin modules or objects), no entry points, no plugin folder."""
    return make_plugin_manager(disabled, builtins=list(builtins), extra=list(extra), entry_points=False,
                               plugin_dirs=())


@dataclass(frozen=True)
class PluginSet:
    """A set of plugins by module name — built-in ones and others importable by name (a test plugin)
    — so that any test process can make the same plugin manager and find the same template."""

    builtins: tuple[str, ...] = tuple(BUILTIN_PLUGINS)
    extra: tuple[str, ...] = ()

    def manager(self):
        return plugin_manager(*(importlib.import_module(m) for m in self.extra), builtins=self.builtins)

    @property
    def key(self) -> str:
        names = [m.rsplit(".", 1)[-1] for m in self.builtins + self.extra] or ["core"]
        digest = hashlib.sha1("|".join(self.builtins + ("+",) + self.extra).encode()).hexdigest()[:6]
        return f"{'-'.join(names)[:30]}-{digest}"


CORE = PluginSet(builtins=())
ALL_BUILTINS = PluginSet()


def only(*builtins: str, extra: tuple[str, ...] = ()) -> PluginSet:
    """``only("plugins.grid")``: a set of just these built-in plugins (and ``extra``)."""
    return PluginSet(builtins=tuple(builtins), extra=tuple(extra))


# --- templates: built once per run, shared by the workers ----------------------------------------
def _run_root(config: pytest.Config) -> Path:
    """The temporary folder of the whole run: a worker's basetemp is a child of the controller's."""
    base = config._tmp_path_factory.getbasetemp()  # pytest's own tmp_path_factory
    root = (base.parent if hasattr(config, "workerinput") else base) / "jiedao-templates"
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _template_key(plugins: PluginSet, demo: bool, seed: int) -> str:
    return f"{plugins.key}-{'demo' + str(seed) if demo else 'empty'}"


def _check_seeded(db: Database, what: str) -> None:
    """Close ``db``; raise when a plugin's seed_demo failed (a template missing its data is no demo)."""
    db.dispose()
    if db.seed_errors:
        raise RuntimeError(f"the demo template {what} did not seed completely: {db.seed_errors}")


class SqliteTemplates:
    """Migrated (``demo=False``) or demo (``demo=True``) SQLite files, one per plugin set, built on
    first use under a lock and never opened again: tests get copies."""

    def __init__(self, root: Path):
        self.root = root
        self._made: dict[str, Path] = {}

    def path(self, plugins: PluginSet = CORE, demo: bool = False, seed: int = DEMO_SEED) -> Path:
        key = _template_key(plugins, demo, seed)
        if key in self._made:
            return self._made[key]
        path = self.root / f"{key}.sqlite"
        with _file_lock(self.root / f"{key}.lock"):
            if not path.exists():
                self._build(path, plugins, demo, seed)
        self._made[key] = path
        return path

    @staticmethod
    def _build(path: Path, plugins: PluginSet, demo: bool, seed: int) -> None:
        building = path.with_name(path.stem + ".building.sqlite")
        for suffix in ("", "-wal", "-shm"):
            Path(str(building) + suffix).unlink(missing_ok=True)
        try:
            if demo:
                _check_seeded(create_demo(building, pm=plugins.manager(), seed=seed), path.name)
            else:
                open_database(building, pm=plugins.manager(), backup=False).dispose()
        except BaseException:
            for suffix in ("", "-wal", "-shm"):
                Path(str(building) + suffix).unlink(missing_ok=True)
            raise
        left = [s for s in ("-wal", "-shm") if Path(str(building) + s).exists()]
        if left:  # a copy of the main file alone would miss what is still in the write-ahead log
            raise RuntimeError(f"{building} still has {left} after closing")
        os.replace(building, path)

    def copy(self, target: Path, plugins: PluginSet = CORE, demo: bool = False, seed: int = DEMO_SEED) -> Path:
        """A fresh copy of the template at ``target`` (a file path); returns ``target``."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path(plugins, demo, seed), target)
        return target

    def open(self, target: Path, plugins: PluginSet = CORE, demo: bool = False, pm=None) -> Database:
        """A copy at ``target``, opened with ``pm`` (default: the set's own manager)."""
        self.copy(target, plugins, demo)
        return open_database(target, pm=pm if pm is not None else plugins.manager(), backup=False)


def _admin_engine(url: str = PG_URL) -> Engine:
    return create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 3})


def pg_url(name: str) -> URL:
    """The URL of database ``name`` on the test server."""
    return make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)


def create_pg_database(admin: Engine, prefix: str = "jd_test", template: str | None = None) -> URL:
    """A new database (empty, or a clone of ``template``) with a unique name; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    return pg_url(name)


def drop_pg_database(admin: Engine, name_or_url) -> None:
    name = name_or_url.database if isinstance(name_or_url, URL) else name_or_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class _Dropper:
    """Drops databases on a thread of its own: a DROP DATABASE takes 0.5–2 s on a busy server, time
    the next test need not wait for. ``close()`` waits until every drop is done."""

    def __init__(self, admin: Engine):
        import queue
        import threading

        self.admin = admin
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="jiedao-test-dropper", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (name := self.queue.get()) is not None:
            try:
                drop_pg_database(self.admin, name)
            except Exception as exc:  # noqa: BLE001 - a leftover database is no test failure
                import warnings

                warnings.warn(f"could not drop test database {name}: {exc}", stacklevel=1)

    def drop(self, name: str) -> None:
        self.queue.put(name)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()


class PgTemplates:
    """Template databases on the test server, one per plugin set (migrated, or with the demo street),
    and clones of them. A template takes no connections once built (so cloning never finds it in
    use); the run drops every template it made when it ends (``pytest_sessionfinish`` below)."""

    def __init__(self, admin: Engine, root: Path, sqlite: SqliteTemplates):
        self.admin = admin
        self.root = root
        self.sqlite = sqlite
        # One name per run, the same in every worker: the shared folder's path is unique to the run.
        self.run_id = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]
        self._made: dict[str, str] = {}
        self._dropper: _Dropper | None = None

    @property
    def registry(self) -> Path:
        return self.root / "pg-templates.txt"

    def name(self, plugins: PluginSet = CORE, demo: bool = False, seed: int = DEMO_SEED) -> str:
        """The template database for ``plugins`` (built on first use)."""
        key = _template_key(plugins, demo, seed)
        if key in self._made:
            return self._made[key]
        name = f"{TEMPLATE_PREFIX}{self.run_id}_{hashlib.sha1(key.encode()).hexdigest()[:10]}"
        with _file_lock(self.root / f"pg-{key}.lock"):
            built = self.registry.exists() and name in self.registry.read_text().split()
            if not built:
                drop_pg_database(self.admin, name)  # left by an earlier run that died
                with self.admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                try:
                    self._build(pg_url(name), plugins, demo, seed)
                    with self.admin.connect() as conn:
                        conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
                except BaseException:
                    drop_pg_database(self.admin, name)
                    raise
                with open(self.registry, "a") as fh:  # dropped when the run ends
                    fh.write(name + "\n")
        self._made[key] = name
        return name

    def _build(self, url: URL, plugins: PluginSet, demo: bool, seed: int) -> None:
        pm = plugins.manager()
        if demo:
            # The SQLite demo street moved onto the server as `jiedao db migrate-from-sqlite` does
            # (rows, sequences, ANALYZE): several times faster than seeding through the services again.
            from shell.db.mappers import plugin_module_names
            from shell.db.migrate import plugin_branches
            from shell.db.serverize import migrate_sqlite_to_server

            source = self.sqlite.path(plugins, demo=True, seed=seed)
            migrate_sqlite_to_server(source, url, plugin_branches(pm), plugin_module_names(pm))
        open_database(url, pm=pm, backup=False).dispose()  # migrated, roles synced, chain heads checked

    @contextmanager
    def clone(self, plugins: PluginSet = CORE, demo: bool = False, prefix: str = "jd_test") -> Iterator[URL]:
        """A new database copied from the template, dropped after the block (in the background)."""
        url = create_pg_database(self.admin, prefix, template=self.name(plugins, demo))
        try:
            yield url
        finally:
            self.dropper.drop(url.database)

    @property
    def dropper(self) -> _Dropper:
        if self._dropper is None:
            self._dropper = _Dropper(self.admin)
        return self._dropper

    def close(self) -> None:
        if self._dropper is not None:
            self._dropper.close()
            self._dropper = None

    def open(self, url: URL, plugins: PluginSet = CORE, pm=None) -> Database:
        return open_database(url, pm=pm if pm is not None else plugins.manager(), backup=False)


def drop_run_templates(root: Path) -> None:
    """Drop the PostgreSQL templates this run made (listed in ``root``/pg-templates.txt)."""
    registry = root / "pg-templates.txt"
    if not registry.exists():
        return
    names = set(registry.read_text().split())
    engine = _admin_engine()
    try:
        for name in names:
            drop_pg_database(engine, name)
    finally:
        engine.dispose()
    registry.unlink()


def pytest_sessionfinish(session):
    config = session.config
    if hasattr(config, "workerinput"):  # the controller (or a run without workers) cleans up
        return
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None or getattr(factory, "_basetemp", None) is None:
        return
    root = factory.getbasetemp() / "jiedao-templates"
    if root.exists():
        drop_run_templates(root)


# --- fixtures: templates --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_templates(request) -> SqliteTemplates:
    return SqliteTemplates(_run_root(request.config))


@pytest.fixture(scope="session")
def pg_server():
    """The admin engine of a reachable PostgreSQL server, or skip/fail as the environment demands."""
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        engine.dispose()
        if REQUIRE_PG:
            pytest.fail(f"JIEDAO_REQUIRE_PG=1 but PostgreSQL at {PG_URL} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set JIEDAO_REQUIRE_PG=1 to make this fail)")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_templates(pg_server, sqlite_templates, request) -> PgTemplates:
    templates = PgTemplates(pg_server, _run_root(request.config), sqlite_templates)
    yield templates
    templates.close()


# --- fixtures: databases -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(sqlite_templates) -> Path:
    """One migrated empty database file (core only), copied for each test."""
    return sqlite_templates.path(CORE)


@pytest.fixture
def sqlite_db(sqlite_template, tmp_path):
    path = tmp_path / "jiedao.sqlite"
    shutil.copyfile(sqlite_template, path)
    db = open_database(path, backup=False)
    yield db
    db.dispose()


@pytest.fixture
def pg_empty_url(pg_server, pg_templates):
    """URL of a brand-new empty database, dropped afterwards (in the background)."""
    url = create_pg_database(pg_server)
    yield url
    pg_templates.dropper.drop(url.database)


@pytest.fixture
def pg_db(pg_templates):
    """A migrated database (core only) on the server: a clone of the session's template."""
    with pg_templates.clone(CORE) as url:
        db = open_database(url, backup=False)
        yield db
        db.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def db(request):
    """Both engines: for tests where SQL dialect or concurrency matters."""
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


@pytest.fixture
def demo_path(sqlite_templates, tmp_path) -> Path:
    """A fresh copy of the small demo street with every built-in plugin (SQLite, not opened)."""
    return sqlite_templates.copy(tmp_path / "demo.sqlite", ALL_BUILTINS, demo=True)


# --- fixtures: people and contexts ---------------------------------------------------------------
def demo_actor(db: Database, role: str) -> Actor:
    """The demo user of ``role`` (its username) as an Actor, resolved as a login would."""
    from sqlalchemy import select

    from shell.core import auth
    from shell.core.models import User

    with db.session_factory() as s:
        user = s.scalar(select(User).where(User.username == role))
        if user is None:
            raise LookupError(f"no demo user {role!r} in {db.label}")
        return auth.build_actor(s, user, auth.collect_permissions())


@pytest.fixture
def demo_actors():
    """demo_actors(db) -> {role: Actor} for admin, street_staff, community_staff and grid_worker."""
    return lambda database: {role: demo_actor(database, role) for role in DEMO_ROLES}


@pytest.fixture
def system_actor():
    return Actor.system()


@pytest.fixture
def make_ctx():
    """make_ctx(db, actor) -> ServiceContext on a new session (closed at teardown)."""
    sessions = []

    def factory(database, actor, **kw):
        s = database.session_factory()
        sessions.append(s)
        return ServiceContext(s, actor, **kw)

    yield factory
    for s in sessions:
        s.close()


# --- plugin conformance (issue 16): every plugin the same kind of house ------------------------------
# The rooms, from what the four built-in plugins share today. Every plugin — a one-file test plugin
# too — answers these hooks (a plugin with nothing for one returns []).
HOOK_ROOMS: tuple[str, ...] = (
    "plugin_info", "register_migrations", "register_permissions", "register_roles", "register_table_access",
    "register_settings", "register_search", "seed_demo", "register_reports", "register_importers",
    "register_pages", "register_dashboard_widgets", "open_record",
)
# A work-line plugin is a package with these modules (``services`` may be a package of one module
# per aggregate, ``views`` is one): what each holds is in docs/architecture.md.
MODULE_ROOMS: dict[str, str] = {
    "models": "the tables (SQLAlchemy models, names prefixed with the plugin's)",
    "rules": "plain data: permission codes, settings, table access (loaded at start-up)",
    "services": "the operations (no Qt): permission and scope checked in each",
    "ledgers": "the report definitions and their builders",
    "importers": "the Excel import/export definitions",
    "demo": "the demo street's data (seed_demo)",
    "views": "the pages (Qt), a package",
    "views.dashboard": "the dashboard tiles",
}
# The hook functions that declare permission codes rather than use them.
_DECLARING_HOOKS = frozenset({"register_permissions", "register_roles", "register_table_access"})
_DECLARING_CALLS = frozenset({"Permission", "RoleTemplate", "TableAccess", "tuple", "list", "set", "frozenset", "dict"})


@dataclass(frozen=True)
class PluginUnderTest:
    """A plugin the conformance checks run over: its registration ``name``, the ``module`` it is
    imported as, and whether it is a work-line plugin (the whole house, MODULE_ROOMS) or a minimal
    one (a single module such as tests/testplugin: the hooks only)."""

    name: str
    module: str
    work_line: bool = True

    @property
    def package_dir(self) -> Path:
        mod = importlib.import_module(self.module)
        return Path(mod.__file__).parent if mod.__file__ else Path()

    def source_files(self) -> list[Path]:
        mod = importlib.import_module(self.module)
        if not getattr(mod, "__path__", None):      # a one-file plugin
            return [Path(mod.__file__)] if mod.__file__ else []
        return sorted(p for p in self.package_dir.rglob("*.py")
                      if "__pycache__" not in p.parts and "migrations" not in p.relative_to(self.package_dir).parts)


def plugins_under_test(pm, work_lines=BUILTIN_PLUGINS) -> list[PluginUnderTest]:
    """Every plugin loaded in ``pm`` but the core, in load order; those whose module is in
    ``work_lines`` (default: the built-in plugins; a plugin author names their own) are held to the
    whole house, the others to the hooks."""
    out = []
    for name, plugin in pm.list_name_plugin():
        if name == "core" or plugin is None:
            continue
        module = getattr(plugin, "__name__", "")
        out.append(PluginUnderTest(name, module, work_line=module in tuple(work_lines)))
    return out


def missing_rooms(plugin: PluginUnderTest) -> list[str]:
    """The rooms ``plugin`` lacks: hooks it does not implement and, for a work-line plugin, modules
    it does not have (and a migrations folder without revisions)."""
    import importlib.util

    mod = importlib.import_module(plugin.module)
    missing = [f"hook {h}" for h in HOOK_ROOMS
               if not callable(getattr(mod, h, None)) or not hasattr(getattr(mod, h), "jiedao_impl")]
    if plugin.work_line:
        for room in MODULE_ROOMS:
            if importlib.util.find_spec(f"{plugin.module}.{room}") is None:
                missing.append(f"module {room}")
        if importlib.util.find_spec(f"{plugin.module}.views") is not None and \
                not getattr(importlib.import_module(f"{plugin.module}.views"), "__path__", None):
            missing.append("views as a package")
    branch = mod.register_migrations() if callable(getattr(mod, "register_migrations", None)) else None
    if branch is not None and not list(Path(branch.path).glob("*.py")):
        missing.append(f"migrations in {branch.path}")
    return missing


def permission_references(plugin: PluginUnderTest, codes: set[str]) -> set[str]:
    """The permission ``codes`` the plugin's code refers to where it checks or attaches one — inside a
    function or class (``actor.require(P_X)``, ``can(…)``, a PageSpec built in a hook) or passed to a
    call at module level (``Transition("handle", …, P_HANDLE)``, ``ReportDefinition(…)``) — by literal
    or by a module-level constant bound to it. The hooks and calls that declare codes (permissions,
    roles, table access) and plain module-level tables (labels, a role's code list) do not count."""
    import ast

    trees = [ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in plugin.source_files()]
    names: dict[str, str] = {}                  # P_VIEW → "grid.view", from every module of the plugin
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str) and node.value.value in codes:
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        names[t.id] = node.value.value
    used: set[str] = set()

    def refs(node) -> None:
        for n in ast.walk(node):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in codes:
                used.add(n.value)
            elif isinstance(n, ast.Name) and n.id in names:
                used.add(names[n.id])
            elif isinstance(n, ast.Attribute) and n.attr in names:
                used.add(names[n.attr])

    for tree in trees:
        for top in tree.body:
            if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if top.name not in _DECLARING_HOOKS:
                    refs(top)
                continue
            # module level: a code passed to a call (Transition(…, P_HANDLE), a PageSpec) is used;
            # a code in a plain table (labels, a role's codes) or a declaration is not
            for n in ast.walk(top):
                if isinstance(n, ast.Call):
                    callee = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
                    if callee not in _DECLARING_CALLS:
                        for arg in [*n.args, *(k.value for k in n.keywords)]:
                            refs(arg)
    return used


def unused_permissions(pm, plugin: PluginUnderTest) -> list[str]:
    """The codes ``plugin`` registers that none of its code checks or attaches (see permission_references)."""
    from shell.hooks import call_each

    mine = {p.code for name, p in call_each(pm, "register_permissions") if name == plugin.name}
    return sorted(mine - permission_references(plugin, mine))


def seed_bare_street(db: Database, scale: str = "small") -> Database:
    """Give a migrated, empty database (``sqlite_templates.open(…, demo=False)``) the demo street's
    areas and users — the same names, codes and ids as the demo, every plugin's tables left empty:
    where an importer's export from the demo is imported again. Returns ``db``."""
    from shell.core.demo import seed_areas, seed_users

    with db.session_factory() as session:
        session.info.update(actor_id=None, actor_name="演示数据")
        seed_users(session, seed_areas(session, scale), DEMO_PASSWORD)
        session.commit()
    return db


def copy_rows(source: Database, target: Database, tables) -> dict[str, int]:
    """Copy every row of ``tables`` (names, in an order parents first) from ``source`` into ``target``,
    ids kept: the records an importer refers to but no importer writes (the warehouses a stock sheet
    names, the Party organisations of a member sheet). Returns {table: rows copied}."""
    from sqlalchemy import MetaData, Table, insert, select

    copied = {}
    meta = MetaData()
    with source.engine.connect() as src, target.engine.begin() as dst:
        for name in tables:
            table = Table(name, meta, autoload_with=src)
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            if rows:
                dst.execute(insert(table), rows)
            copied[name] = len(rows)
    return copied


def round_trip(source: Database, fresh_target, actor: Actor, definitions,
               folder: Path) -> tuple[dict[str, int], dict[str, list]]:
    """Export each importer's records from ``source`` and import the file into a fresh target
    (``fresh_target()`` → a new Database: the bare street, see ``seed_bare_street``), on its own; a
    sheet that refers to another sheet's records (households to houses) is tried again after each
    other sheet that went in cleanly on its own. Definitions without both an exporter and an importer
    are skipped. Returns ({kind: rows exported}, {kind: the row errors of its best attempt}) — no
    errors is a clean round trip. Targets are disposed of here."""
    from shell.core.transfer import run_export, run_import

    both = [d for d in definitions if d.import_fn is not None and d.export_fn is not None]
    files, exported = {}, {}
    for d in both:
        files[d.kind] = folder / f"{d.kind}.xlsx"
        exported[d.kind] = run_export(source.session_factory, actor, d, files[d.kind])

    def attempt(first, d) -> list:
        target = fresh_target()
        try:
            if first is not None and run_import(target.session_factory, actor, first, files[first.kind]).errors:
                return ["the sheet before it did not go in"]
            return list(run_import(target.session_factory, actor, d, files[d.kind], valid_only=True).errors)
        finally:
            target.dispose()

    errors = {d.kind: attempt(None, d) for d in both}
    alone = [d for d in both if not errors[d.kind]]
    for d in both:
        for first in alone:
            if not errors[d.kind]:
                break
            if first is not d:
                again = attempt(first, d)
                if not again:
                    errors[d.kind] = []
    return exported, errors
