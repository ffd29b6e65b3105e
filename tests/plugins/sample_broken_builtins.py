"""A built-in plugin module whose own import fails: the registry must not swallow that."""

import not_installed_dependency  # noqa: F401
