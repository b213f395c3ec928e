"""Typed errors raised by services. Each carries a Chinese message the UI shows as is."""
from __future__ import annotations

from dataclasses import dataclass


class JiedaoError(Exception):
    """Base of every error a user may see. ``message`` is Chinese and says what to do next."""

    title = "操作失败"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # the CLI prints str(exc)
        return self.message


class PermissionDenied(JiedaoError):
    title = "没有权限"

    def __init__(self, code: str, label: str | None = None):
        self.code = code
        super().__init__(f"您没有“{label or code}”权限（{code}），请联系管理员分配角色。")


class OutOfScope(JiedaoError):
    title = "超出管辖范围"

    def __init__(self, what: str):
        super().__init__(f"“{what}”不在您的管辖范围内，无法操作。")


class ServerPermissionDenied(PermissionDenied):
    """The secured PostgreSQL server refused a statement (SQLSTATE 42501): the program's own check
    let it through, the server's grants did not. ``table`` and ``operation`` (in words) when known."""

    def __init__(self, message: str, table: str | None = None, operation: str | None = None):
        self.code = None
        self.table, self.operation = table, operation
        JiedaoError.__init__(self, message)


class ServerOutOfScope(OutOfScope):
    """The secured server's row-level security refused a row outside the user's area scope."""

    def __init__(self, message: str, table: str | None = None, operation: str | None = None):
        self.table, self.operation = table, operation
        JiedaoError.__init__(self, message)


class NotFound(JiedaoError):
    title = "记录不存在"


class ValidationError(JiedaoError):
    """Bad input for one field: says which field, which value and why."""

    title = "输入有误"

    def __init__(self, message: str, field: str | None = None, value: object = None):
        self.field = field
        self.value = value
        super().__init__(message)


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a draft: validators return a list of them (an importer shows
    each beside its row, a form beside its field; a service raises on them through ``raise_if``)."""

    field: str
    message: str
    value: object = None


class ValidationErrors(ValidationError):
    """Several field errors at once. Reads as the first one (``message``, ``field``, ``value``), so
    every caller and dialog that shows a ValidationError keeps working; ``errors`` holds them all."""

    def __init__(self, errors: list[FieldError]):
        if not errors:
            raise ValueError("ValidationErrors needs at least one FieldError")
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, first.field, first.value)


def raise_if(errors: list[FieldError]) -> None:
    """Raise ValidationErrors when a validator found anything."""
    if errors:
        raise ValidationErrors(errors)


class ConflictError(JiedaoError):
    """Optimistic-lock failure: someone else saved the record first. ``current`` holds the record's
    saved values (column → value, ``version_id`` included) so a form can compare or reload them."""

    title = "记录已被他人修改"

    def __init__(self, message: str, current: dict | None = None):
        self.current = dict(current or {})
        super().__init__(message)


class AuthError(JiedaoError):
    title = "登录失败"


class AccountLocked(AuthError):
    title = "账号已锁定"


class DatabaseError(JiedaoError):
    """The database cannot be opened or used; the message says what to do next."""

    title = "数据库错误"


class BusyError(DatabaseError):
    """The database stayed locked by another desktop (SQLite lock timeout, PostgreSQL serialization
    failure or deadlock); nothing was written. Safe to retry (shell.db.retry)."""

    title = "数据库正忙"


class DatabaseCorrupt(DatabaseError):
    """The SQLite file has a damaged page; the message names the newest automatic backup."""

    title = "数据库文件已损坏"


class DiskFull(DatabaseError):
    """No room left where the database, a backup, an export or a report is written."""

    title = "磁盘空间不足"


class ConnectionLost(DatabaseError):
    """The PostgreSQL server went away in the middle of an operation (restart, network, shutdown)."""

    title = "数据库连接中断"


class ConnectionsBusy(DatabaseError):
    """Every connection this desktop may open to the server is in use and none came free in time."""

    title = "数据库连接繁忙"


class SchemaTooNew(DatabaseError):
    title = "数据库版本过新"


class SchemaNeedsOwner(DatabaseError):
    """A secured server database is older than this program and the connected user is not its owner:
    only the administrator (``jiedao db upgrade`` with the owner role) may upgrade it."""

    title = "数据库需要升级"
    can_upgrade: bool = False  # set by the server login: the user may give the owner's password
