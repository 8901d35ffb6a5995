"""Which server a command talks to, and under which environment name."""

from __future__ import annotations

import pytest

from omar_tui.core.connection import resolve_target
from omar_tui.core.settings import Environment, Settings
from omar_tui.errors import UsageError


def test_a_url_of_a_configured_environment_is_that_environment() -> None:
    sim = Environment("sim", "https://127.0.0.1:18441", upload_path="/up.jsp")
    settings = Settings(environments={"sim": sim})
    for url in ("https://127.0.0.1:18441", "HTTPS://127.0.0.1:18441/"):
        target = resolve_target(settings, base_url=url)
        assert target.environment == "sim"
        assert target.upload_path == "/up.jsp"


def test_the_production_url_given_directly_is_production() -> None:
    target = resolve_target(Settings(), base_url="https://OMAR-Online.caiso.com:443/")
    assert target.environment == "production"
    assert target.is_production


def test_other_urls_are_named_after_their_server() -> None:
    settings = Settings()
    assert resolve_target(settings, base_url="https://127.0.0.1:9").environment == (
        "url:127.0.0.1:9"
    )
    assert resolve_target(settings, base_url="https://Example.org/").environment == (
        "url:example.org"
    )


def test_http_and_both_options_are_refused() -> None:
    with pytest.raises(UsageError):
        resolve_target(Settings(), base_url="http://127.0.0.1:9")
    with pytest.raises(UsageError):
        resolve_target(Settings(), environment="test", base_url="https://127.0.0.1:9")
