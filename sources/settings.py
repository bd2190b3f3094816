"""The operator's settings a source declares in its spec (`Source.settings`): the app secrets
that verify its webhooks (ingest) and where and as whom its API is called (messaging).

A source without its secret rejects every webhook (403): an unverifiable request is never
accepted. The channels' own tokens are not settings: they are stored with each channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runtime.setting import Setting


def secret(variable: str, doc: str) -> Setting[str]:
    """A secret of a source, unset by default."""
    return Setting(variable, "", str, doc)


def api_url(source: str) -> Setting[str]:
    """`PARLEY_<SOURCE>_API_URL`: its default, the source's public API, is its connector's
    (`Connector.default_api_url`)."""
    return Setting(f"PARLEY_{source.upper()}_API_URL", "", str,
                   "base URL of the source's send API; tests point it at local fakes",
                   shown="the source's public API")


@dataclass(frozen=True)
class SourceSettings:
    """The settings one source has (None: it has no such setting)."""

    #: Meta app secret: key of X-Hub-Signature-256.
    app_secret: Setting[str] | None = None
    #: Meta verify token of the GET subscription handshake.
    verify_token: Setting[str] | None = None
    #: Key of the webhook signature and of sending (Twilio, Viber), or of sending only (Google).
    auth_token: Setting[str] | None = None
    #: Google Business Messages client token (X-Goog-Signature).
    client_token: Setting[str] | None = None
    #: Account the API is called for (Twilio's Account SID).
    account_sid: Setting[str] | None = None
    #: Base URL of the source's send API.
    api_url: Setting[str] | None = None

    def declared(self) -> tuple[Setting[str], ...]:
        """The settings this source has."""
        return tuple(setting for setting in (self.app_secret, self.verify_token, self.auth_token,
                                             self.client_token, self.account_sid, self.api_url)
                     if setting is not None)


def read(setting: Setting[str] | None, env: Mapping[str, str]) -> str:
    """The value of a source's setting, "" when the source has no such setting."""
    return "" if setting is None else setting.read(env)


def meta_app(source: str, product: str) -> SourceSettings:
    """The settings of a source of a Meta app."""
    prefix = f"PARLEY_{source.upper()}_"
    return SourceSettings(
        app_secret=secret(prefix + "APP_SECRET",
                          f"Meta app secret of {product}: verifies its webhooks' signature"),
        verify_token=secret(prefix + "VERIFY_TOKEN",
                            f"the token {product}'s webhook subscription handshake must send"),
        api_url=api_url(source))
