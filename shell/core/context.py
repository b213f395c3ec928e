"""Who acts, on which session, at what time: ``Actor``, ``ServiceContext`` and the app-wide ``AppContext``."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from shell.clock import local_today, utcnow
from shell.errors import OutOfScope, PermissionDenied


@dataclass(frozen=True)
class Actor:
    """The logged-in user resolved to a permission set and a data scope.

    ``scope_paths`` are materialized area paths ("/1/5/"); an area is in scope when its path starts
    with one of them. A superuser has every permission and an unlimited scope."""

    user_id: int | None
    username: str
    display_name: str
    permissions: frozenset[str] = frozenset()
    scope_paths: tuple[str, ...] = ()
    is_superuser: bool = False
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def can(self, code: str) -> bool:
        return self.is_superuser or code in self.permissions

    def require(self, code: str) -> None:
        if not self.can(code):
            raise PermissionDenied(code, self.labels.get(code))

    def in_scope(self, path: str | None) -> bool:
        if self.is_superuser:
            return True
        if not path:
            return False
        return any(path.startswith(p) for p in self.scope_paths)

    def require_scope(self, area: Any) -> None:
        """``area`` is an Area (or anything with ``path`` and ``name``)."""
        if not self.in_scope(getattr(area, "path", None)):
            raise OutOfScope(getattr(area, "name", str(area)))

    @classmethod
    def system(cls) -> Actor:
        """For the CLI's own maintenance work and the demo seeder; never for a logged-in person."""
        return cls(user_id=None, username="system", display_name="系统", is_superuser=True)


@dataclass
class ServiceContext:
    """Every service takes one. Services check ``actor`` permissions and scope themselves."""

    session: Session
    actor: Actor
    clock: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        self.session.info["actor_id"] = self.actor.user_id
        self.session.info["actor_name"] = self.actor.display_name or self.actor.username

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return local_today(self.clock())


@dataclass
class AppContext:
    """What the desktop shell hands to plugin pages and widgets (no Qt in here)."""

    session_factory: sessionmaker
    actor: Actor
    plugin_manager: Any = None
    clock: Callable[[], datetime] = utcnow
    database_label: str = ""
    is_demo: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def service(self, commit: bool = True) -> Iterator[ServiceContext]:
        """A ServiceContext on a fresh session; commits on success, rolls back on error."""
        session = self.session_factory()
        try:
            yield ServiceContext(session, self.actor, self.clock)
            if commit:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
