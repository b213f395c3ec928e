"""This desktop's own settings (which database, disabled plugins, font path), kept as JSON in the
user config directory. Database passwords never go in this file: they go to the system keyring."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

log = logging.getLogger(__name__)
APP = "jiedao"
KEYRING_SERVICE = "jiedao-database"


def config_dir() -> Path:
    return Path(os.environ.get("JIEDAO_CONFIG_DIR") or user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    return Path(os.environ.get("JIEDAO_DATA_DIR") or user_data_dir(APP, appauthor=False))


def default_sqlite_path() -> Path:
    return data_dir() / "jiedao.sqlite"


def config_path() -> Path:
    return config_dir() / "config.json"


@dataclass
class LocalConfig:
    database: str | None = None          # SQLite path or URL without password
    disabled_plugins: list[str] = field(default_factory=list)
    recent_databases: list[str] = field(default_factory=list)
    font_path: str | None = None         # a CJK TrueType font for printing, if not found automatically
    last_username: str = ""

    @classmethod
    def load(cls) -> LocalConfig:
        path = config_path()
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("配置文件 %s 无法读取（%s），使用默认设置", path, exc)
            return cls()
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self) -> None:
        path = config_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)  # never leave a half-written config behind

    def remember(self, database: str) -> None:
        self.database = database
        self.recent_databases = [database] + [d for d in self.recent_databases if d != database][:7]


class UserPrefs:
    """One user's view preferences on this desktop (a list page's column widths and last filter),
    kept as JSON in ``config_dir()/prefs/<user>.json``: small, per user, never data. A damaged or
    unreadable file is ignored (the defaults are shown), never an error."""

    def __init__(self, user: str):
        safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in user) or "_"
        self.path = config_dir() / "prefs" / f"{safe}.json"
        self._data: dict | None = None

    def _load(self) -> dict:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
            except (OSError, ValueError) as exc:
                log.warning("个人设置文件 %s 无法读取（%s），使用默认设置", self.path, exc)
                raw = {}
            self._data = raw if isinstance(raw, dict) else {}
        return self._data

    def get(self, key: str) -> dict:
        value = self._load().get(key)
        return dict(value) if isinstance(value, dict) else {}

    def set(self, key: str, value: dict) -> None:
        data = self._load()
        data[key] = value
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:  # a read-only profile must not break the page
            log.warning("个人设置无法保存到 %s：%s", self.path, exc)


def database_from_env() -> str | None:
    return os.environ.get("JIEDAO_DATABASE_URL") or None


def _keyring_key(url) -> str:
    return f"{url.username or ''}@{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def split_password(raw: str) -> tuple[str, str | None]:
    """Split a database URL into (URL without password, password)."""
    if "://" not in raw:
        return raw, None
    from sqlalchemy.engine import make_url

    url = make_url(raw)
    if url.password is None:
        return raw, None
    # URL.set(password=None) keeps the password in SQLAlchemy 2.1; _replace really drops it.
    return url._replace(password=None).render_as_string(hide_password=False), str(url.password)


def store_password(raw_without_password: str, password: str) -> bool:
    """Keep a server password in the system keyring; False when no keyring is available."""
    from sqlalchemy.engine import make_url

    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, _keyring_key(make_url(raw_without_password)), password)
        return True
    except Exception as exc:  # noqa: BLE001 - no backend on this desktop
        log.warning("无法把数据库密码保存到系统钥匙串：%s", exc)
        return False


def with_stored_password(raw: str) -> str:
    """Add the keyring's password to a server URL that has none. A malformed URL comes back as it
    is: opening it later says in Chinese what is wrong with it, which a traceback here would not."""
    if "://" not in raw:
        return raw
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw)
    except (ArgumentError, ValueError, TypeError):  # e.g. "postgresql://a@host:abc/db"
        return raw
    if url.password is not None or url.get_backend_name() == "sqlite":
        return raw
    try:
        import keyring

        password = keyring.get_password(KEYRING_SERVICE, _keyring_key(url))
    except Exception:  # noqa: BLE001
        password = None
    return url.set(password=password).render_as_string(hide_password=False) if password else raw
