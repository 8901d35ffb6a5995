"""The settings file: which OMAR-Online to talk to, with which certificate.

The file is ``settings.toml`` in the config folder (see
:mod:`omar_tui.core.paths`). Every key is optional; a missing file means all
defaults. The layout, with the default values::

    environment = "test"              # the active environment
    pending_folder = "~/meter/pending"
    include_subfolders = false
    after_send = "keep"               # or "move": into sent/<day>/ or rejected/

    [certificate]
    cert = "~/certs/operator.p12"     # a PKCS#12 file, or a PEM certificate...
    key = ""                          # ...plus its PEM key ("" = none)
    ca_bundle = ""                    # "" = the system's trusted CAs

    [limits]
    block_bytes = 512000
    warn_bytes = 500000
    max_name = 40

    [network]
    connect_timeout = 15.0
    read_timeout = 120.0
    retries = 3
    max_reply_bytes = 2000000
    user_agent = "omar-tui/<version>"
    proxy = ""                        # "" = no proxy

    [environments.sandbox]            # any number of extra environments
    base_url = "https://omar.example.org"
    session_path = "/"
    upload_path = "/uploadProcess.jsp"

Rules the loader enforces, each with an error naming the file and the key:

- Unknown keys are refused, with a "did you mean" suggestion: a typo must not
  silently fall back to a default.
- Paths may start with ``~``; a relative path is taken relative to the folder
  of the settings file (not the working folder, which differs under cron).
  An empty string means "not set".
- Base URLs must be ``https://`` (SPEC.md R1). The built-in ``production``
  and ``test`` environments are always present; their ``session_path`` and
  ``upload_path`` may be overridden, their ``base_url`` may not.
- Passwords are never stored here. A key that looks like one is an error;
  the certificate password comes from a prompt or ``OMAR_TUI_CERT_PASSWORD``.

:func:`save_settings` writes only the values that differ from the defaults
(plus ``environment``), so a later release's better defaults still reach an
operator who once saved the file. :func:`settings_to_toml` shows every value.
A file that cannot be read is never rewritten or moved: the operator fixes it.
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from omar_tui import __version__
from omar_tui.core.atomic import atomic_write_bytes
from omar_tui.core.models import Limits
from omar_tui.core.paths import make_private_dir
from omar_tui.errors import SettingsError

T = TypeVar("T")

PASSWORD_VAR = "OMAR_TUI_CERT_PASSWORD"  # noqa: S105 - a variable name
"""Environment variable that may hold the certificate password."""

DEFAULT_USER_AGENT = f"omar-tui/{__version__}"
"""The tool's own name and version (see SPEC.md, "User-Agent")."""

AFTER_SEND_CHOICES = ("keep", "move")


@dataclass(frozen=True, slots=True)
class Environment:
    """One OMAR-Online server: where sessions open and files go."""

    name: str
    """Short name used in the settings, on the command line and in history."""
    base_url: str
    """``https://`` address of the server, without a trailing slash."""
    session_path: str = "/"
    """Page fetched to open the login session (SPEC.md R5)."""
    upload_path: str = "/uploadProcess.jsp"
    """Page files are POSTed to (SPEC.md R6)."""

    @property
    def session_url(self) -> str:
        """Full address of the session page."""
        return self.base_url.rstrip("/") + self.session_path

    @property
    def upload_url(self) -> str:
        """Full address files are sent to."""
        return self.base_url.rstrip("/") + self.upload_path


BUILTIN_ENVIRONMENTS: Mapping[str, Environment] = {
    "production": Environment("production", "https://omar-online.caiso.com"),
    "test": Environment("test", "https://omar-onlinetest.caiso.com"),
}
"""The two servers of the contract (SPEC.md R4); always present."""


def builtin_environments() -> dict[str, Environment]:
    """A fresh copy of the built-in environments."""
    return dict(BUILTIN_ENVIRONMENTS)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``settings.toml`` can say; see the module docstring for the file.

    Frozen so a worker thread and the UI can share one; change a value with
    ``dataclasses.replace``. Paths are stored with ``~`` already expanded.
    """

    environment: str = "test"
    """Name of the active environment (the test server by default, so that a
    fresh install cannot send to production by accident)."""
    environments: dict[str, Environment] = field(default_factory=builtin_environments)
    """Known servers by name: the built-ins plus ``[environments.<name>]``."""
    cert: Path | None = None
    """``[certificate] cert``: a PKCS#12 file, or a PEM certificate."""
    key: Path | None = None
    """``[certificate] key``: the PEM private key, when ``cert`` is PEM."""
    ca_bundle: Path | None = None
    """``[certificate] ca_bundle``: CAs to trust; ``None`` = the system's."""
    pending_folder: Path | None = None
    """Folder of files waiting to be sent."""
    include_subfolders: bool = False
    """Also list files in folders below ``pending_folder``."""
    limits: Limits = field(default_factory=Limits)
    """``[limits]``: size and name limits of the pre-flight checks."""
    connect_timeout: float = 15.0
    """``[network]``: seconds to wait for a connection and TLS handshake."""
    read_timeout: float = 120.0
    """``[network]``: seconds to wait for the server's reply to an upload."""
    retries: int = 3
    """``[network]``: retries of failures that happened before the request
    left the machine; a request that may have arrived is never repeated."""
    max_reply_bytes: int = 2_000_000
    """``[network]``: a longer reply page is cut off (and kept in part)."""
    user_agent: str = DEFAULT_USER_AGENT
    """``[network]``: the ``User-Agent`` header sent to OMAR-Online."""
    proxy: str | None = None
    """``[network]``: an HTTPS proxy address, or ``None`` for a direct link."""
    after_send: str = "keep"
    """What happens to a file once sent: ``"keep"`` it, or ``"move"`` it:
    accepted to ``<pending>/sent/YYYY-MM-DD/``, rejected to
    ``<pending>/rejected/`` with the reply beside it (see ``core.archive``).
    Files whose outcome is unknown or failed always stay."""

    def __post_init__(self) -> None:
        for name, env in self.environments.items():
            if env.name != name:
                raise ValueError(f"environment {name!r} is named {env.name!r}")
        merged = {**BUILTIN_ENVIRONMENTS, **self.environments}
        object.__setattr__(self, "environments", merged)

        for attr in ("cert", "key", "ca_bundle", "pending_folder"):
            value = getattr(self, attr)
            if value is not None:
                object.__setattr__(self, attr, Path(value).expanduser())

    def active_environment(self, name: str | None = None) -> Environment:
        """The environment called ``name``, or the active one.

        Raises:
            SettingsError: When there is no such environment.
        """
        wanted = self.environment if name is None else name
        env = self.environments.get(wanted)
        if env is None:
            known = sorted(self.environments)
            raise SettingsError(
                f"There is no environment called {wanted!r}",
                f"{did_you_mean(wanted, known)}Known environments: {', '.join(known)}.",
            )
        return env


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """A "Did you mean ...?" sentence (with a trailing space), or ``""``.

    A choice that starts with ``word`` wins (``prod`` -> ``production``);
    otherwise the closest spelling, if any is close.
    """
    starts = [c for c in choices if word and c.lower().startswith(word.lower())]
    close = starts or difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"Did you mean {close[0]!r}? " if close else ""


# --- loading -----------------------------------------------------------------

_TOP_KEYS = ("environment", "pending_folder", "include_subfolders", "after_send")
_TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "certificate": ("cert", "key", "ca_bundle"),
    "limits": ("block_bytes", "warn_bytes", "max_name"),
    "network": (
        "connect_timeout",
        "read_timeout",
        "retries",
        "max_reply_bytes",
        "user_agent",
        "proxy",
    ),
}
_ENV_KEYS = ("base_url", "session_path", "upload_path")
_SECRET_KEY = re.compile(r"pass|pwd|secret|credential|token", re.IGNORECASE)
_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def load_settings(path: Path) -> Settings:
    """Read ``path``; a missing file gives the defaults.

    Raises:
        SettingsError: When the file cannot be read, is not valid TOML, or
            holds a value the tool cannot use. The title names the file and
            the line or key; the file itself is left exactly as it was.
    """
    try:
        raw = _read_small_file(path)
    except FileNotFoundError:
        if path.is_symlink():
            raise SettingsError(
                f"The settings file {path} is a link to a file that does not exist",
                "Point the link at the settings file, or remove it to use defaults.",
            ) from None
        return Settings()
    except OSError as exc:
        raise SettingsError(
            f"Cannot read the settings file {path}",
            f"{exc.strerror or exc}. Check that the file is yours and readable.",
        ) from None

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"The settings file {path} is not UTF-8 text "
            f"(byte {exc.start + 1} cannot be read)",
            "Save it as UTF-8 in a text editor. It was left as it is.",
        ) from None

    return parse_settings(text, source=path)


MAX_SETTINGS_BYTES = 1_000_000
"""A settings file is a few hundred bytes; anything this big is not one."""


def _read_small_file(path: Path) -> bytes:
    """Read a regular file of at most ``MAX_SETTINGS_BYTES`` without blocking.

    A FIFO would hang ``read`` and ``/dev/zero`` would fill memory, so the
    file is opened non-blocking and measured before it is read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file")
        data = handle.read(MAX_SETTINGS_BYTES + 1)
    if len(data) > MAX_SETTINGS_BYTES:
        raise OSError(errno.EFBIG, f"it is larger than {MAX_SETTINGS_BYTES:,} bytes")
    return data


def parse_settings(text: str, *, source: Path) -> Settings:
    """Build :class:`Settings` from TOML text.

    Args:
        text: The TOML document.
        source: The file it came from: named in errors, and the folder that
            relative paths are taken from.

    Raises:
        SettingsError: As :func:`load_settings`.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _LINE.search(message)
        if found:
            where, column = found.group(1), f" (column {found.group(2)})"
        else:  # "(at end of document)"
            where, column = str(text.count("\n") + 1), ""
        detail = re.sub(r"\s*\(at [^)]*\)", "", message).strip()
        raise SettingsError(
            f"The settings file {source} is not valid TOML at line {where}",
            f"{detail}{column}. Fix the file in a text editor; it was left as it is.",
        ) from None

    return _Loader(source).settings(doc)


class _Loader:
    """Turns a parsed TOML document into :class:`Settings`, naming bad keys."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, key: str, problem: str, hint: str = "") -> SettingsError:
        return SettingsError(
            f"In {self.source}, `{key}` {problem}",
            hint or "Fix the file in a text editor; it was left as it is.",
        )

    def settings(self, doc: dict[str, Any]) -> Settings:
        self.check_keys(doc, "", (*_TOP_KEYS, *_TABLE_KEYS, "environments"))
        tables = {name: self.table(doc, name) for name in _TABLE_KEYS}
        for name, table in tables.items():
            self.check_keys(table, name, _TABLE_KEYS[name])

        cert, limits, net = tables["certificate"], tables["limits"], tables["network"]
        defaults = Settings()
        environments = self.environments(self.table(doc, "environments"))

        values: dict[str, Any] = {
            "environment": self.text(doc, "environment", defaults.environment),
            "environments": environments,
            "cert": self.path(cert, "certificate.cert"),
            "key": self.path(cert, "certificate.key"),
            "ca_bundle": self.path(cert, "certificate.ca_bundle"),
            "pending_folder": self.path(doc, "pending_folder"),
            "include_subfolders": self.get(
                doc, "include_subfolders", bool, defaults.include_subfolders
            ),
            "limits": self.limits(limits),
            "connect_timeout": self.seconds(net, "network.connect_timeout"),
            "read_timeout": self.seconds(net, "network.read_timeout"),
            "retries": self.count(net, "network.retries", defaults.retries, 0),
            "max_reply_bytes": self.count(
                net, "network.max_reply_bytes", defaults.max_reply_bytes, 1
            ),
            "user_agent": self.user_agent(net),
            "proxy": self.proxy(net),
            "after_send": self.choice(
                doc, "after_send", AFTER_SEND_CHOICES, defaults.after_send
            ),
        }

        settings = Settings(**values)
        if settings.environment not in settings.environments:
            known = sorted(settings.environments)
            raise self.fail(
                "environment",
                f"names {settings.environment!r}, which is not a known environment",
                f"{did_you_mean(settings.environment, known)}Known: "
                f"{', '.join(known)}; add others under [environments.<name>].",
            )
        return settings

    # -- structure

    def check_keys(
        self, table: Mapping[str, Any], where: str, known: Sequence[str]
    ) -> None:
        for key in table:
            full = f"{where}.{key}" if where else key
            if _SECRET_KEY.search(key):
                raise self.fail(
                    full,
                    "looks like a password: passwords are never stored in settings",
                    "Remove it. omar-tui asks for the certificate password when "
                    f"it needs it, or reads it from {PASSWORD_VAR}.",
                )
            if key not in known:
                raise self.fail(
                    full,
                    "is not a setting omar-tui knows",
                    self.suggest(key, where, known),
                )

    def suggest(self, key: str, where: str, known: Sequence[str]) -> str:
        hint = did_you_mean(key, known)
        for table, keys in {"": _TOP_KEYS, **_TABLE_KEYS}.items():
            if key in keys and table != where:
                place = f"under [{table}]" if table else "at the top of the file"
                hint += f"`{key}` belongs {place}. "
        return hint + "Remove or rename it; the file was left as it is."

    def table(self, doc: Mapping[str, Any], name: str) -> dict[str, Any]:
        value = doc.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, "must be a table, written as a [" + name + "] header")
        return value

    # -- values

    def get(self, table: Mapping[str, Any], key: str, kind: type[T], default: T) -> T:
        name = key.rsplit(".", 1)[-1]
        if name not in table:
            return default
        value = table[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (
            kind is not bool and isinstance(value, bool)
        ):
            raise self.fail(key, f"must be {_KIND_WORDS[kind]}, not {_show(value)}")
        return value

    def text(self, table: Mapping[str, Any], key: str, default: str) -> str:
        return self.get(table, key, str, default)

    def path(self, table: Mapping[str, Any], key: str) -> Path | None:
        value = self.get(table, key, str, "").strip()
        if not value:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.source.parent / path

    def count(
        self,
        table: Mapping[str, Any],
        key: str,
        default: int,
        least: int,
        most: int = 100_000_000,
    ) -> int:
        value = self.get(table, key, int, default)
        if not least <= value <= most:
            raise self.fail(
                key, f"must be between {least:,} and {most:,}, not {value:,}"
            )
        return value

    def seconds(self, table: Mapping[str, Any], key: str) -> float:
        default = cast(float, getattr(Settings(), key.rsplit(".", 1)[-1]))
        value = self.get(table, key, float, default)
        if not 0 < value <= 3600:
            raise self.fail(key, f"must be between 0 and 3600 seconds, not {value}")
        return value

    def choice(
        self, table: Mapping[str, Any], key: str, choices: Sequence[str], default: str
    ) -> str:
        value = self.get(table, key, str, default)
        if value not in choices:
            raise self.fail(
                key,
                f"must be one of {', '.join(map(repr, choices))}, not {value!r}",
                did_you_mean(value, choices) + "The file was left as it is.",
            )
        return value

    def limits(self, table: Mapping[str, Any]) -> Limits:
        default = Limits()
        block = self.count(table, "limits.block_bytes", default.block_bytes, 1)
        warn = self.count(table, "limits.warn_bytes", default.warn_bytes, 1)
        max_name = self.count(table, "limits.max_name", default.max_name, 1)
        if warn > block:
            raise self.fail(
                "limits.warn_bytes",
                f"({warn}) is larger than `limits.block_bytes` ({block})",
                "The warning must come at or below the size that blocks a file.",
            )
        return Limits(block_bytes=block, warn_bytes=warn, max_name=max_name)

    def user_agent(self, table: Mapping[str, Any]) -> str:
        value = self.text(table, "network.user_agent", DEFAULT_USER_AGENT).strip()
        if not value or not value.isascii() or not value.isprintable():
            raise self.fail(
                "network.user_agent", "must be printable ASCII text, not empty"
            )
        return value

    def proxy(self, table: Mapping[str, Any]) -> str | None:
        value = self.text(table, "network.proxy", "").strip()
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https", "socks5") or not parts.hostname:
            raise self.fail(
                "network.proxy",
                f"must be an address such as http://proxy.example:3128, not {value!r}",
            )
        if parts.password is not None:
            raise self.fail(
                "network.proxy",
                "holds a password: passwords are never stored in settings",
                "Remove the user and password from the proxy address.",
            )
        return value

    def environments(self, table: Mapping[str, Any]) -> dict[str, Environment]:
        found: dict[str, Environment] = {}
        for name, body in table.items():
            where = f"environments.{name}"
            if not isinstance(body, dict):
                raise self.fail(where, f"must be a table, written as [{where}]")
            if not _ENV_NAME.fullmatch(name):
                raise self.fail(
                    where,
                    "has a name omar-tui cannot use",
                    "Use up to 40 letters, digits, '-' or '_'.",
                )
            self.check_keys(body, where, _ENV_KEYS)
            found[name] = self.environment(name, body, where)
        return found

    def environment(
        self, name: str, body: Mapping[str, Any], where: str
    ) -> Environment:
        builtin = BUILTIN_ENVIRONMENTS.get(name)
        if builtin is None and "base_url" not in body:
            raise self.fail(
                f"{where}.base_url", "is missing: a new environment needs one"
            )

        base_url = self.text(
            body, f"{where}.base_url", builtin.base_url if builtin else ""
        )
        base_url = base_url.strip().rstrip("/")
        if builtin is not None and base_url != builtin.base_url:
            raise self.fail(
                f"{where}.base_url",
                f"cannot change: {name!r} is built in ({builtin.base_url})",
                "Add your server under another name, such as [environments.mine].",
            )
        self.check_url(f"{where}.base_url", base_url)

        paths = {}
        for key in ("session_path", "upload_path"):
            default = getattr(builtin or Environment(name, base_url), key)
            value = self.text(body, f"{where}.{key}", default).strip()
            if not value.startswith("/") or any(c in value for c in "?# \t\r\n"):
                raise self.fail(
                    f"{where}.{key}",
                    f"must be a path starting with '/', not {value!r}",
                )
            paths[key] = value
        return Environment(name, base_url, **paths)

    def check_url(self, key: str, url: str) -> None:
        unusable = self.fail(key, f"is not a usable https:// address: {url!r}")
        try:
            parts = urlsplit(url)
            _ = parts.port  # a port that is not a number raises here
        except ValueError:
            raise unusable from None

        if parts.scheme != "https":
            raise self.fail(
                key,
                f"must start with https:// ({url!r} does not)",
                "OMAR-Online is reached over HTTPS only (SPEC.md R1).",
            )
        if not parts.hostname or parts.query or parts.fragment:
            raise unusable
        if parts.username is not None:
            raise self.fail(key, "must not hold a user name or password")


def _show(value: object) -> str:
    """A value as it would be written in TOML, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


_KIND_WORDS: dict[type, str] = {
    str: "text in quotes",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}


# --- saving ------------------------------------------------------------------

_HEADER = (
    "# omar-tui settings. Every key is optional; the README's Settings section\n"
    "# lists them all. Passwords are never stored in this file.\n\n"
)


def settings_to_toml(settings: Settings, *, only_changed: bool = False) -> str:
    """The settings as a TOML document, for display or for the settings file.

    Args:
        settings: What to write.
        only_changed: Leave out values equal to their defaults (what
            :func:`save_settings` writes); otherwise every value is shown.
    """
    import tomli_w  # only needed when writing

    return tomli_w.dumps(_document(settings, only_changed))


def save_settings(settings: Settings, path: Path) -> None:
    """Write ``settings`` to ``path`` atomically, readable by the operator only.

    The document is read back before anything touches the disk, so a value
    that :func:`load_settings` would refuse is never written.

    Raises:
        SettingsError: When a value cannot be saved or the file cannot be
            written; the old file is then untouched.
    """
    text = _HEADER + settings_to_toml(settings, only_changed=True)
    try:
        again = parse_settings(text, source=path)
    except SettingsError as exc:
        raise SettingsError(
            f"These settings cannot be saved: {exc.title}",
            "The previous settings file was kept as it was.",
        ) from None
    if again != settings:
        changed = [
            f.name
            for f in dataclasses.fields(Settings)
            if getattr(again, f.name) != getattr(settings, f.name)
        ]
        raise SettingsError(
            f"These settings cannot be saved exactly ({', '.join(changed)})",
            "Use full paths, and https:// addresses without a trailing slash.",
        )

    try:
        make_private_dir(path.parent)
        atomic_write_bytes(path, text.encode("utf-8"), mode=0o600)
    except OSError as exc:
        raise SettingsError(
            f"Cannot write the settings file {path}",
            f"{exc.strerror or exc}. The previous settings were kept.",
        ) from None


def _document(settings: Settings, only_changed: bool) -> dict[str, Any]:
    defaults = Settings()

    def pick(target: dict[str, Any], key: str, value: Any, default: Any) -> None:
        if only_changed and value == default:
            return
        target[key] = (
            "" if value is None else str(value) if isinstance(value, Path) else value
        )

    doc: dict[str, Any] = {"environment": settings.environment}
    for key in ("pending_folder", "include_subfolders", "after_send"):
        pick(doc, key, getattr(settings, key), getattr(defaults, key))

    certificate: dict[str, Any] = {}
    for key in ("cert", "key", "ca_bundle"):
        pick(certificate, key, getattr(settings, key), None)

    limits: dict[str, Any] = {}
    for key in _TABLE_KEYS["limits"]:
        pick(limits, key, getattr(settings.limits, key), getattr(defaults.limits, key))

    network: dict[str, Any] = {}
    for key in _TABLE_KEYS["network"]:
        pick(network, key, getattr(settings, key), getattr(defaults, key))

    environments: dict[str, Any] = {}
    for name, env in sorted(settings.environments.items()):
        builtin = BUILTIN_ENVIRONMENTS.get(name)
        body: dict[str, Any] = {}
        if not (only_changed and builtin):
            body["base_url"] = env.base_url
        reference = builtin or Environment(name, env.base_url)
        pick(body, "session_path", env.session_path, reference.session_path)
        pick(body, "upload_path", env.upload_path, reference.upload_path)
        if body:
            environments[name] = body

    for name, table in (
        ("certificate", certificate),
        ("limits", limits),
        ("network", network),
        ("environments", environments),
    ):
        if table:
            doc[name] = table
    return doc
