"""``pg_secure_db``: a fresh PostgreSQL database with the small demo street, secured (issue 15):
the owner role, the demo users as login roles with the demo password. Teardown drops the database
and every role ``<key>.*`` (roles are cluster-wide)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import URL, make_url

from shell.cli import make_pm
from shell.core import auth
from shell.core.demo import DEFAULT_PASSWORD, create_demo
from shell.core.models import User
from shell.db.engine import make_engine
from shell.db.security import naming, secure_database
from shell.db.session import make_session_factory
from tests.conftest import PG_URL

OWNER_PASSWORD = "owner-Pass-2026"


def drop_street_roles(admin_engine, key: str) -> None:
    """Drop every role of a street (after its database is gone; roles are cluster-wide)."""
    with admin_engine.connect() as conn:
        roles = conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p ORDER BY rolname DESC"),
                             {"p": key.replace("_", r"\_") + ".%"}).scalars().all()
        for role in roles:
            conn.execute(text(f"DROP ROLE IF EXISTS {naming.quote_ident(role)}"))


@dataclass
class SecureDB:
    url: URL            # a superuser's URL (the tests' postgres)
    key: str
    pm: object
    owner_url: URL
    engines: list = field(default_factory=list)

    @property
    def owner(self) -> str:
        return naming.owner_role(self.key)

    def role(self, username: str) -> str:
        return naming.login_role(self.key, username)

    def user_url(self, username: str, password: str = DEFAULT_PASSWORD) -> URL:
        return self.url.set(username=self.role(username), password=password)

    def engine_for(self, username: str, password: str = DEFAULT_PASSWORD):
        engine = make_engine(self.user_url(username, password))
        self.engines.append(engine)
        return engine

    def session_for(self, username: str, password: str = DEFAULT_PASSWORD):
        """A JiedaoSession connected as that user's own login role."""
        return make_session_factory(self.engine_for(username, password))()

    def actor_for(self, username: str):
        engine = make_engine(self.url)
        try:
            with make_session_factory(engine)() as session:
                user = session.scalar(select(User).where(User.username == username))
                return auth.build_actor(session, user, auth.collect_permissions(self.pm))
        finally:
            engine.dispose()

    def superuser_engine(self):
        engine = make_engine(self.url)
        self.engines.append(engine)
        return engine

    def psycopg(self, username: str, password: str = DEFAULT_PASSWORD):
        """A plain psycopg connection as that user (what a user with psql could do)."""
        import psycopg

        u = self.user_url(username, password)
        return psycopg.connect(host=u.host, port=u.port or 5432, dbname=u.database, user=u.username,
                               password=u.password, connect_timeout=5, autocommit=True)


def _template_name(scale: str) -> str:
    """The demo street as a template database, kept between test runs (it takes minutes to seed):
    its name carries a digest of everything that shapes it, so a change makes a new one."""
    import hashlib
    from pathlib import Path

    from shell.db.migrate import plugin_branches, scripts_fingerprint

    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256(scripts_fingerprint(plugin_branches(make_pm())).encode())
    for f in sorted([root / "shell/core/demo.py", *root.glob("plugins/*/demo.py")]):
        h.update(f.read_bytes())
    h.update(auth.hash_password("x").split("$")[3].encode())  # the users' argon2 cost ("m=8,t=1,p=1")
    return f"jd_tpl_{scale}_{h.hexdigest()[:12]}"


def demo_template(pg_server, scale: str = "small") -> str:
    """Create (once, under an advisory lock: several test sessions share the server) the template."""
    name = _template_name(scale)
    with pg_server.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(74220015)"))
        try:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                building = name + "_building"
                conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{building}"'))
                url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=building)
                db = create_demo(url, scale, pm=make_pm())
                db.dispose()
                conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(74220015)"))
    return name


def make_secure_db(pg_server, scale: str = "small") -> tuple[SecureDB, str]:
    template = demo_template(pg_server, scale)
    name = f"jd_sec_{uuid.uuid4().hex[:12]}"
    with pg_server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
    pm = make_pm()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            report = secure_database(conn, pm, owner_password=OWNER_PASSWORD,
                                     password_for=lambda _u: DEFAULT_PASSWORD, must_change=False)
    finally:
        engine.dispose()
    owner_url = url.set(username=report.owner_role, password=OWNER_PASSWORD)
    return SecureDB(url=url, key=report.key, pm=pm, owner_url=owner_url), name


def destroy_secure_db(pg_server, sdb: SecureDB, name: str) -> None:
    for engine in sdb.engines:
        engine.dispose()
    with pg_server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    drop_street_roles(pg_server, sdb.key)


@pytest.fixture
def pg_secure_db(pg_server):
    sdb, name = make_secure_db(pg_server)
    try:
        yield sdb
    finally:
        destroy_secure_db(pg_server, sdb, name)
