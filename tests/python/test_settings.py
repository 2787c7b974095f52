"""Settings: base URL per flag, region or environment; credentials that never show."""

from __future__ import annotations

import pytest

from cdp_loader.errors import LoaderError
from cdp_loader.settings import (
    Credentials,
    check_base_url,
    is_loopback_host,
    resolve_base_url,
    resolve_credentials,
    resolve_settings,
)

TOKEN = "tok-SECRET-123"
KEY = "ck-SECRET-456"


@pytest.mark.parametrize(("region", "url"), [
    ("eu", "https://api-engage-eu.sitecorecloud.io"),
    ("us", "https://api-engage-us.sitecorecloud.io"),
    ("ap", "https://api-engage-ap.sitecorecloud.io"),
    ("jp", "https://api-engage-jpe.sitecorecloud.io"),
    ("EU", "https://api-engage-eu.sitecorecloud.io"),
])
def test_region_gives_the_regional_host(region: str, url: str) -> None:
    assert resolve_base_url(None, region, env={}) == url


def test_flag_wins_over_environment_and_trailing_slash_is_dropped() -> None:
    env = {"CDP_BASE_URL": "https://from-env.example"}
    assert resolve_base_url("https://flag.example/", None, env=env) == "https://flag.example"
    assert resolve_base_url(None, None, env=env) == "https://from-env.example"


def test_missing_base_url_names_the_setting() -> None:
    with pytest.raises(LoaderError, match="set CDP_BASE_URL, --base-url or --region"):
        resolve_base_url(None, None, env={})


def test_unknown_region_is_refused() -> None:
    with pytest.raises(LoaderError, match="--region must be one of ap, eu, jp, us"):
        resolve_base_url(None, "mars", env={})


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080", "http://127.5.6.7", "http://localhost:9000", "http://[::1]:8000",
    "https://api.example.com",
])
def test_https_anywhere_and_http_on_loopback_are_accepted(url: str) -> None:
    assert check_base_url(url, "CDP_BASE_URL") == url


@pytest.mark.parametrize("url", [
    "http://api-engage-eu.sitecorecloud.io", "http://10.0.0.1", "http://128.0.0.1",
    "http://localhost.evil.example", "http://[::2]",
])
def test_http_to_a_non_loopback_host_is_refused(url: str) -> None:
    with pytest.raises(LoaderError) as caught:
        check_base_url(url, "CDP_BASE_URL")
    assert str(caught.value.message) == (
        "CDP_BASE_URL uses http:// to a non-loopback host; CDP needs https://")


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://host", "CDP_BASE_URL must be an https:// URL with a host"),
    ("https://", "CDP_BASE_URL must be an https:// URL with a host"),
    (f"https://user:{TOKEN}@host", "CDP_BASE_URL must not carry credentials; use "
                                   "CDP_CLIENT_KEY and CDP_API_TOKEN"),
    (f"https://host/?token={TOKEN}", "CDP_BASE_URL must not have a query string or fragment"),
    (f"https://host:{TOKEN}", "CDP_BASE_URL is not a valid URL"),
])
def test_bad_base_url_messages_name_the_setting_not_the_value(url: str, message: str) -> None:
    with pytest.raises(LoaderError) as caught:
        check_base_url(url, "CDP_BASE_URL")
    assert caught.value.message == message
    assert TOKEN not in caught.value.message


def test_loopback_hosts() -> None:
    assert [is_loopback_host(h) for h in ("localhost", "127.0.0.1", "::1", "10.0.0.1",
                                          "example.com")] == [True, True, True, False, False]


def test_credentials_come_from_flags_then_environment() -> None:
    env = {"CDP_CLIENT_KEY": "env-key", "CDP_API_TOKEN": "env-token"}
    assert resolve_credentials(None, None, env=env).as_auth() == ("env-key", "env-token")
    assert resolve_credentials(KEY, TOKEN, env=env).as_auth() == (KEY, TOKEN)


@pytest.mark.parametrize(("key", "token", "message"), [
    (None, TOKEN, "CDP_CLIENT_KEY is not set (or pass --client-key)"),
    (KEY, None, "CDP_API_TOKEN is not set (or pass --api-token)"),
    (KEY, TOKEN + "\n", "CDP_API_TOKEN has whitespace or control characters"),
    ("a:b", TOKEN, "CDP_CLIENT_KEY must not contain ':'"),
])
def test_missing_or_malformed_credentials(key: str | None, token: str | None,
                                          message: str) -> None:
    with pytest.raises(LoaderError) as caught:
        resolve_credentials(key, token, env={})
    assert caught.value.message == message


def test_credentials_never_show_their_values() -> None:
    credentials = Credentials(KEY, TOKEN)
    settings = resolve_settings(base_url="https://h.example", client_key=KEY, api_token=TOKEN,
                                env={})
    for text in (repr(credentials), str(credentials), repr(settings), str(settings),
                 f"{credentials}", f"{settings!r}"):
        assert TOKEN not in text and KEY not in text
    assert repr(credentials) == "Credentials(client_key=***, api_token=***)"
