"""Identity providers registered by name; settings.IDENTITY_PROVIDER selects the one in use."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import IdentityProvider

_providers: dict[str, type[IdentityProvider]] = {}

# Imported on first use so that their @register runs without an import cycle with this module.
_BUILTIN_MODULES = ("portal.accounts.providers.sandbox", "portal.accounts.providers.oidc")


def register(provider_class: type[IdentityProvider]) -> type[IdentityProvider]:
    """Class decorator: make the provider available under its `name`."""
    if not provider_class.name:
        raise ImproperlyConfigured(f"{provider_class.__name__} has no name.")
    existing = _providers.get(provider_class.name)
    if existing is not None and existing is not provider_class:
        raise ImproperlyConfigured(f"Identity provider {provider_class.name!r} is registered twice.")
    _providers[provider_class.name] = provider_class
    return provider_class


def _load_builtin_providers() -> None:
    for module in _BUILTIN_MODULES:
        import_module(module)


def provider_names() -> list[str]:
    _load_builtin_providers()
    return sorted(_providers)


def get_provider(name: str | None = None) -> IdentityProvider:
    """An instance of the named provider, by default the one settings.IDENTITY_PROVIDER selects."""
    _load_builtin_providers()
    name = name or settings.IDENTITY_PROVIDER
    try:
        provider_class = _providers[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"IDENTITY_PROVIDER={name!r} is not one of: {', '.join(sorted(_providers))}."
        ) from None
    return provider_class()
