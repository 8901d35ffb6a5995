"""settings.toml: defaults, strict loading, clear errors, exact round trips."""

from __future__ import annotations

import dataclasses
import itertools
import stat
from pathlib import Path

import pytest

from omar_tui import __version__
from omar_tui.core.models import Limits
from omar_tui.core.settings import (
    Environment,
    Settings,
    load_settings,
    parse_settings,
    save_settings,
    settings_to_toml,
)
from omar_tui.errors import SettingsError


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OMAR_TUI_CONFIG_DIR", str(tmp_path / "cfg"))
    return home


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> SettingsError:
    path = write(tmp_path, text)
    before = path.read_bytes()
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert path.read_bytes() == before, "a broken file must be left as it was"
    assert str(path) in caught.value.title
    return caught.value


# -- defaults and reading


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "nope.toml")

    assert settings == Settings()
    assert settings.environment == "test"
    assert settings.user_agent == f"omar-tui/{__version__}"
    assert settings.limits == Limits()
    assert settings.active_environment().base_url == (
        "https://omar-onlinetest.caiso.com"
    )
    assert settings.environments["production"].base_url == (
        "https://omar-online.caiso.com"
    )
    assert not (tmp_path / "nope.toml").exists()


def test_full_example_file(tmp_path: Path, private_home: Path) -> None:
    path = write(
        tmp_path,
        """
        environment = "sandbox"
        pending_folder = "~/meter/pending"
        include_subfolders = true
        after_send = "move"

        [certificate]
        cert = "~/certs/operator.pem"
        key = "keys/operator.key"
        ca_bundle = ""

        [limits]
        block_bytes = 400000
        warn_bytes = 300000
        max_name = 30

        [network]
        connect_timeout = 5
        read_timeout = 60.5
        retries = 0
        max_reply_bytes = 1000
        user_agent = "Mozilla/4.0 (compatible)"
        proxy = "http://proxy.example:3128"

        [environments.sandbox]
        base_url = "https://127.0.0.1:8443/omar/"
        upload_path = "/upload.jsp"

        [environments.production]
        upload_path = "/v2/uploadProcess.jsp"
        """,
    )
    s = load_settings(path)

    assert s.environment == "sandbox"
    assert s.pending_folder == private_home / "meter" / "pending"
    assert s.include_subfolders is True
    assert s.after_send == "move"
    assert s.cert == private_home / "certs" / "operator.pem"
    assert s.key == tmp_path / "keys" / "operator.key"  # relative to the file
    assert s.ca_bundle is None
    assert s.limits == Limits(block_bytes=400000, warn_bytes=300000, max_name=30)
    assert s.connect_timeout == 5.0 and isinstance(s.connect_timeout, float)
    assert s.read_timeout == 60.5
    assert s.retries == 0
    assert s.max_reply_bytes == 1000
    assert s.user_agent == "Mozilla/4.0 (compatible)"
    assert s.proxy == "http://proxy.example:3128"

    sandbox = s.active_environment()
    assert sandbox == Environment(
        "sandbox", "https://127.0.0.1:8443/omar", "/", "/upload.jsp"
    )
    assert sandbox.upload_url == "https://127.0.0.1:8443/omar/upload.jsp"
    prod = s.active_environment("production")
    assert prod.base_url == "https://omar-online.caiso.com"
    assert prod.upload_path == "/v2/uploadProcess.jsp"
    assert "test" in s.environments


def test_settings_fields_are_documented() -> None:
    """Attribute docstrings document the file: every field has one."""
    import ast
    import inspect

    from omar_tui.core import settings as module

    tree = ast.parse(inspect.getsource(module.Settings))
    body = tree.body[0].body  # type: ignore[attr-defined]
    documented = {
        stmt.target.id
        for stmt, after in itertools.pairwise(body)
        if isinstance(stmt, ast.AnnAssign)
        and isinstance(after, ast.Expr)
        and isinstance(after.value, ast.Constant)
    }
    assert documented == {f.name for f in dataclasses.fields(Settings)}


# -- errors


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    error = load_error(tmp_path, 'environment = "test"\n\n[network]\nretries = \n')

    assert "line 4" in error.title
    assert "left as it is" in error.hint


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b'user_agent = "\xff"\n')
    with pytest.raises(SettingsError, match="UTF-8"):
        load_settings(path)
    assert path.read_bytes() == b'user_agent = "\xff"\n'


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[network]\nretires = 2\n")
    assert "`network.retires`" in error.title
    assert "Did you mean 'retries'?" in error.hint


def test_key_in_wrong_table_says_where_it_belongs(tmp_path: Path) -> None:
    error = load_error(tmp_path, "retries = 2\n")
    assert "`retries`" in error.title
    assert "[network]" in error.hint


@pytest.mark.parametrize(
    "text",
    [
        '[certificate]\npassword = "hunter2"\n',
        'passphrase = "x"\n',
        '[environments.sandbox]\nbase_url = "https://a.example"\nsecret = "x"\n',
        '[network]\ncert_pass = "x"\n',
    ],
)
def test_password_keys_are_refused(tmp_path: Path, text: str) -> None:
    error = load_error(tmp_path, text)
    assert "passwords are never stored in settings" in error.title
    assert "OMAR_TUI_CERT_PASSWORD" in error.hint


def test_proxy_with_password_is_refused(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[network]\nproxy = "http://u:pw@proxy.example:1"\n')
    assert "password" in error.title


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[environments.sandbox]\nbase_url = "http://a.example"\n', "base_url"),
        ('[environments.sandbox]\nbase_url = "ftp://a.example"\n', "base_url"),
        ('[environments.sandbox]\nbase_url = "https://"\n', "base_url"),
        ('[environments.sandbox]\nbase_url = "https://a.example:xx"\n', "base_url"),
        ("[environments.sandbox]\nupload_path = '/x'\n", "base_url"),
        (
            '[environments.sandbox]\nbase_url = "https://a.example"\n'
            'upload_path = "upload.jsp"\n',
            "upload_path",
        ),
        ('[environments.production]\nbase_url = "https://evil.example"\n', "base_url"),
        ('[environments."bad name"]\nbase_url = "https://a.example"\n', "bad name"),
        ("[limits]\nblock_bytes = -1\n", "limits.block_bytes"),
        ("[limits]\nmax_name = 0\n", "limits.max_name"),
        ("[limits]\nwarn_bytes = 600000\n", "limits.warn_bytes"),
        ("[limits]\nwarn_bytes = 1.5\n", "limits.warn_bytes"),
        ("[network]\nretries = -1\n", "network.retries"),
        ('[network]\nretries = "3"\n', "network.retries"),
        ("[network]\nretries = true\n", "network.retries"),
        ("[network]\nconnect_timeout = 0\n", "network.connect_timeout"),
        ('[network]\nuser_agent = ""\n', "network.user_agent"),
        ('[network]\nproxy = "proxy.example"\n', "network.proxy"),
        ("include_subfolders = 1\n", "include_subfolders"),
        ('after_send = "delete"\n', "after_send"),
        ('environment = "prod"\n', "environment"),
        ("pending_folder = 3\n", "pending_folder"),
        ('network = "x"\n', "network"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    error = load_error(tmp_path, text)
    assert key in error.title


def test_unknown_environment_suggests(tmp_path: Path) -> None:
    error = load_error(tmp_path, 'environment = "prod"\n')
    assert "Did you mean 'production'?" in error.hint


def test_active_environment_unknown_name() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings().active_environment("tset")
    assert "tset" in caught.value.title
    assert "Did you mean 'test'?" in caught.value.hint


def test_unreadable_file(tmp_path: Path) -> None:
    folder = tmp_path / "settings.toml"
    folder.mkdir()  # reading a folder fails like an unreadable file
    with pytest.raises(SettingsError, match="Cannot read"):
        load_settings(folder)


# -- saving


def custom() -> Settings:
    return dataclasses.replace(
        Settings(),
        environment="sandbox",
        environments={
            "sandbox": Environment("sandbox", "https://127.0.0.1:8443", "/s", "/u"),
            "production": Environment(
                "production", "https://omar-online.caiso.com", upload_path="/v2"
            ),
        },
        cert=Path("/certs/op.p12"),
        ca_bundle=Path("/certs/ca.pem"),
        pending_folder=Path("/data/pending"),
        include_subfolders=True,
        limits=Limits(block_bytes=1000, warn_bytes=900, max_name=20),
        connect_timeout=1.5,
        read_timeout=30.0,
        retries=0,
        max_reply_bytes=4096,
        user_agent="Mozilla/4.0",
        proxy="http://proxy.example:3128",
        after_send="move",
    )


@pytest.mark.parametrize("settings", [Settings(), custom()], ids=["default", "custom"])
def test_round_trip_is_exact(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "cfg" / "settings.toml"
    save_settings(settings, path)

    assert load_settings(path) == settings
    assert parse_settings(settings_to_toml(settings), source=path) == settings


def test_saved_file_and_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "settings.toml"
    save_settings(custom(), path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_save_writes_only_changes(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    save_settings(dataclasses.replace(Settings(), retries=1), path)
    text = path.read_text()

    assert "retries = 1" in text
    assert "user_agent" not in text  # a later version's default still applies
    assert "caiso.com" not in text
    assert 'environment = "test"' in text


def test_display_shows_every_value() -> None:
    text = settings_to_toml(Settings())
    for key in ("user_agent", "connect_timeout", "block_bytes", "cert", "proxy"):
        assert key in text


def test_save_refuses_what_load_would_refuse(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("retries = 1\n")
    bad = dataclasses.replace(
        Settings(), environments={"x": Environment("x", "http://plain.example")}
    )

    with pytest.raises(SettingsError, match="cannot be saved"):
        save_settings(bad, path)
    assert path.read_text() == "retries = 1\n"


def test_save_refuses_relative_paths(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cert"):
        save_settings(
            dataclasses.replace(Settings(), cert=Path("rel.p12")),
            tmp_path / "settings.toml",
        )


def test_settings_expand_home_and_keep_builtins(private_home: Path) -> None:
    s = Settings(
        cert=Path("~/c.p12"),
        environments={"x": Environment("x", "https://x.example")},
    )
    assert s.cert == private_home / "c.p12"
    assert set(s.environments) == {"production", "test", "x"}
