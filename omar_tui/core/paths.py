"""Where omar-tui keeps its state: settings, history, log and locks.

Everything lives in one private folder so an operator can find, back up or
wipe it in one place. ``OMAR_TUI_CONFIG_DIR`` moves all of it (tests, the
demo, and operators who run several identities side by side); otherwise the
platform's own folders are used (``platformdirs``).

This module is on the start-up path of every command, so it imports only the
standard library at module level; ``platformdirs`` is loaded when needed.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "omar-tui"
"""Folder name under the platform's config and log folders."""

CONFIG_DIR_VAR = "OMAR_TUI_CONFIG_DIR"
"""Environment variable that moves the whole state folder."""

PROFILE_VAR = "OMAR_TUI_PROFILE"
"""Environment variable naming the active profile (``--profile`` wins over it)."""

DEFAULT_PROFILE = "default"
"""The profile whose settings are ``settings.toml`` itself."""

PRIVATE_DIR_MODE = 0o700
"""Only the operator may list or enter the state folders."""

_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The files and folders omar-tui reads and writes."""

    config_dir: Path
    """Holds the settings, the history database and the lock folder."""
    settings_file: Path
    """``settings.toml`` (see :mod:`omar_tui.core.settings`)."""
    history_db: Path
    """``history.sqlite3``, the submission records."""
    log_file: Path
    """``omar-tui.log``, rotated by :mod:`omar_tui.core.logs`."""
    lock_dir: Path
    """Lock files that keep two processes off the same file or folder."""
    profile: str = DEFAULT_PROFILE
    """The active profile: one certificate or account with its own settings.

    Every profile shares the history database (each record names its
    profile, and each profile sees its own records by default), the log and
    the locks, so two profiles can never send the same bytes at once.
    """

    @property
    def profiles_dir(self) -> Path:
        """Settings of the profiles other than ``default``: ``<name>.toml``."""
        return self.config_dir / "profiles"

    def profiles(self) -> list[str]:
        """Every profile that has a settings file, ``default`` first."""
        names = sorted(p.stem for p in self.profiles_dir.glob("*.toml"))
        return [DEFAULT_PROFILE, *(n for n in names if n != DEFAULT_PROFILE)]

    @classmethod
    def resolve(
        cls, environ: Mapping[str, str] = os.environ, profile: str | None = None
    ) -> AppPaths:
        """Work out the paths without touching the disk.

        Args:
            environ: Where to look for ``OMAR_TUI_CONFIG_DIR`` and
                ``OMAR_TUI_PROFILE`` (the process environment unless a test
                passes its own).
            profile: The profile asked for on the command line, if any.

        Raises:
            UsageError: the profile name is not a plain short name.

        Returns:
            The paths; call :meth:`ensure` before writing to them.
        """
        override = environ.get(CONFIG_DIR_VAR, "").strip()
        if override:
            config_dir = Path(override).expanduser()
            log_file = config_dir / "logs" / f"{APP_NAME}.log"
        else:
            import platformdirs  # kept off the module import path

            config_dir = platformdirs.user_config_path(APP_NAME)
            log_file = platformdirs.user_log_path(APP_NAME) / f"{APP_NAME}.log"

        name = profile or environ.get(PROFILE_VAR, "").strip() or DEFAULT_PROFILE
        if not _PROFILE_NAME.fullmatch(name):
            from omar_tui.errors import UsageError

            raise UsageError(
                f"{name!r} is not a profile name.",
                "Use up to 32 letters, digits, '.', '_' or '-', starting with a "
                "letter or digit.",
            )
        settings_file = (
            config_dir / "settings.toml"
            if name == DEFAULT_PROFILE
            else config_dir / "profiles" / f"{name}.toml"
        )
        return cls(
            config_dir=config_dir,
            settings_file=settings_file,
            history_db=config_dir / "history.sqlite3",
            log_file=log_file,
            lock_dir=config_dir / "locks",
            profile=name,
        )

    def ensure(self) -> AppPaths:
        """Create the folders, private to the operator (mode 0700).

        An existing config folder that others can read is tightened: it holds
        the settings (certificate paths) and the history of what was sent.

        Returns:
            ``self``, so ``AppPaths.resolve().ensure()`` reads naturally.

        Raises:
            OSError: When a folder cannot be created; callers turn it into an
                operator-facing error with the path in it.
        """
        folders = [self.config_dir, self.lock_dir, self.log_file.parent]
        if self.profile != DEFAULT_PROFILE:
            folders.append(self.profiles_dir)
        for folder in folders:
            make_private_dir(folder)
        return self


def make_private_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) as 0700, tightening it if it is open.

    Parents that already exist are left alone: they may be the operator's
    home or a shared mount, which is not ours to change.
    """
    folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)

    current = stat.S_IMODE(folder.stat().st_mode)
    if current & 0o077:
        folder.chmod(current & ~0o077 | stat.S_IRWXU)
