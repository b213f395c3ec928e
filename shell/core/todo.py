"""我的待办: every plugin's ``register_todo`` items for the actor, in one list (no Qt)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from shell.contracts import TodoItem
from shell.core.context import Actor, ServiceContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TodoList:
    items: tuple[tuple[str, TodoItem], ...]     # (plugin, item): overdue first, then by order
    failed: tuple[str, ...] = ()                # plugins whose items could not be counted

    @property
    def total(self) -> int:
        return sum(i.count for _p, i in self.items)


def collect_todo(plugin_manager, session_factory, actor: Actor) -> TodoList:
    """Ask every plugin for the actor's waiting work in one read-only session; a plugin that fails is
    named in ``failed`` (logged) and the others still count."""
    from shell.contracts import as_list

    found: list[tuple[str, TodoItem]] = []
    failed: list[str] = []
    if plugin_manager is None:
        return TodoList(())
    with session_factory() as session:
        ctx = ServiceContext(session, actor)
        for impl in plugin_manager.hook.register_todo.get_hookimpls():
            name = impl.plugin_name
            try:
                items = as_list(impl.function(ctx))
            except Exception:  # one plugin's fault must not empty the list
                log.exception("插件 %s 的待办统计失败", name)
                session.rollback()
                failed.append(name)
                continue
            for item in items:
                if not isinstance(item, TodoItem):
                    log.error("插件 %s 的待办类型不对：%r", name, item)
                elif item.count > 0:
                    found.append((name, item))
        session.rollback()
    found.sort(key=lambda pi: (pi[1].overdue == 0, pi[1].order, pi[1].title))
    return TodoList(tuple(found), tuple(failed))
