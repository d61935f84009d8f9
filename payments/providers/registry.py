"""Providers registered by name; the one used for new online payments comes from PAYMENT_PROVIDER."""

from __future__ import annotations

from django.conf import settings

from .base import PaymentProvider

_registry: dict[str, type[PaymentProvider]] = {}


def register(cls: type[PaymentProvider]) -> type[PaymentProvider]:
    if not cls.name or cls.name in _registry:
        raise ValueError(f"payment provider name missing or taken: {cls.name!r}")
    _registry[cls.name] = cls
    return cls


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name` (default: settings.PAYMENT_PROVIDER). Raises KeyError if unknown."""
    from . import counter, sandbox, vnpay  # noqa: F401 - importing registers them

    return _registry[name or settings.PAYMENT_PROVIDER]()


def provider_names() -> list[str]:
    from . import counter, sandbox, vnpay  # noqa: F401

    return sorted(_registry)
