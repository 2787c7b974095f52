"""Where the Batch API lives and who we are: base URL and credentials.

Resolved from command-line values first, then the environment. Error messages
name the setting that is wrong, never its value: a misplaced token pasted into
`CDP_BASE_URL` must not end up in a CI log.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cdp_loader.errors import LoaderError

# Spec §2.2: Sitecore's regional hosts (same host serves /v2/batches).
REGION_HOSTS: dict[str, str] = {
    "eu": "api-engage-eu.sitecorecloud.io",
    "us": "api-engage-us.sitecorecloud.io",
    "ap": "api-engage-ap.sitecorecloud.io",
    "jp": "api-engage-jpe.sitecorecloud.io",
}

ENV_BASE_URL = "CDP_BASE_URL"
ENV_CLIENT_KEY = "CDP_CLIENT_KEY"
ENV_API_TOKEN = "CDP_API_TOKEN"


@dataclass(frozen=True)
class Credentials:
    """Basic-auth pair for the CDP host; never shows either part when printed."""

    client_key: str = field(repr=False)
    api_token: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(client_key=***, api_token=***)"

    __str__ = __repr__

    def as_auth(self) -> tuple[str, str]:
        """The (user, password) pair requests expects for Basic auth."""
        return (self.client_key, self.api_token)


@dataclass(frozen=True)
class Settings:
    """Everything needed to talk to the Batch API."""

    base_url: str
    credentials: Credentials


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts plain HTTP may reach."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, setting: str) -> str:
    """Validate a base URL and return it without a trailing slash.

    `setting` names where the value came from, for the error message.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise LoaderError(f"{setting} is not a valid URL") from None
    if parts.scheme not in {"http", "https"} or not host:
        raise LoaderError(f"{setting} must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise LoaderError(f"{setting} must not carry credentials; use {ENV_CLIENT_KEY} "
                          f"and {ENV_API_TOKEN}")
    if parts.query or parts.fragment:
        raise LoaderError(f"{setting} must not have a query string or fragment")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise LoaderError(f"{setting} uses http:// to a non-loopback host; CDP needs https://")
    return url.strip().rstrip("/")


def resolve_base_url(base_url: str | None, region: str | None,
                     env: Mapping[str, str] | None = None) -> str:
    """`--base-url`, else `--region`, else `CDP_BASE_URL`."""
    env = os.environ if env is None else env
    if base_url and region:
        raise LoaderError("give either --base-url or --region, not both")
    if base_url:
        return check_base_url(base_url, f"--base-url/{ENV_BASE_URL}")
    if region:
        host = REGION_HOSTS.get(region.lower())
        if host is None:
            raise LoaderError(f"--region must be one of {', '.join(sorted(REGION_HOSTS))}")
        return f"https://{host}"
    from_env = env.get(ENV_BASE_URL, "")
    if from_env:
        return check_base_url(from_env, ENV_BASE_URL)
    raise LoaderError(f"no Batch API address: set {ENV_BASE_URL}, --base-url or --region")


def resolve_credentials(client_key: str | None, api_token: str | None,
                        env: Mapping[str, str] | None = None) -> Credentials:
    """`--client-key`/`--api-token`, else `CDP_CLIENT_KEY`/`CDP_API_TOKEN`."""
    env = os.environ if env is None else env
    key = client_key or env.get(ENV_CLIENT_KEY, "")
    token = api_token or env.get(ENV_API_TOKEN, "")
    for value, name in ((key, ENV_CLIENT_KEY), (token, ENV_API_TOKEN)):
        if not value:
            raise LoaderError(f"{name} is not set (or pass --{name[4:].lower().replace('_', '-')})")
        if value != value.strip() or any(ord(c) < 0x20 for c in value):
            raise LoaderError(f"{name} has whitespace or control characters")
    if ":" in key:
        # Basic auth splits user and password at the first colon.
        raise LoaderError(f"{ENV_CLIENT_KEY} must not contain ':'")
    return Credentials(client_key=key, api_token=token)


def resolve_settings(*, base_url: str | None = None, region: str | None = None,
                     client_key: str | None = None, api_token: str | None = None,
                     env: Mapping[str, str] | None = None) -> Settings:
    """Both halves of the settings, with command-line values winning over the environment."""
    return Settings(base_url=resolve_base_url(base_url, region, env),
                    credentials=resolve_credentials(client_key, api_token, env))
