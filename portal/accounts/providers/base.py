"""The narrow interface every identity provider (VNeID-style OpenID Connect login) implements.

A provider sends the browser to its authorization page and, when the browser comes back with a
code, exchanges that code for the person's verified identity. Everything else (state and nonce in
the session, finding or creating the account, logging in) is the views' job and the same for all.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from django.http import HttpRequest


class IdentityProviderError(Exception):
    """The provider refused or failed the exchange. The message is for logs: it holds no personal data."""


class IdentityProviderUnavailable(IdentityProviderError):
    """The provider cannot be used at all: unreachable, misconfigured, or publishing unusable keys."""


@dataclass(frozen=True)
class IdentityClaims:
    """What the provider asserts about the person. Personal fields stay out of repr() and so out of logs."""

    cccd: str = field(repr=False)
    full_name: str = field(default="", repr=False)
    date_of_birth: datetime.date | None = field(default=None, repr=False)
    gender: str = field(default="", repr=False)  # constants.Gender value or ""
    phone: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    identity_level: int = 1  # VNeID level 1 or 2 (Decree 69/2024)


class IdentityProvider(ABC):
    #: Registry key, the value of settings.IDENTITY_PROVIDER that selects this provider.
    name: str = ""
    #: What the login button says.
    label: str = ""

    @abstractmethod
    def authorization_url(self, request: HttpRequest, state: str, nonce: str) -> str:
        """Where to send the browser to authenticate; the provider returns it to the callback view."""

    @abstractmethod
    def exchange_code(self, request: HttpRequest, code: str, nonce: str) -> IdentityClaims:
        """Verify the code (and that it was issued for this nonce); raise IdentityProviderError if not."""
