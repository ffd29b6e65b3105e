"""Small helpers every Python example guest uses: parameters, errors, logging."""

from componentize_py_types import Err
from wit_world.imports import log, types


def debug(message):
    """Send a debug line to the host's logging."""
    log.log(log.Level.DEBUG, message)


def processing(message):
    """An `Err` carrying plugin-error.processing."""
    return Err(types.PluginError_Processing(message))


def serialization(message):
    """An `Err` carrying plugin-error.serialization."""
    return Err(types.PluginError_Serialization(message))


def configuration(message):
    """An `Err` carrying plugin-error.configuration."""
    return Err(types.PluginError_Configuration(message))


class Params:
    """Declared parameters and their configured values (same messages as the host)."""

    def __init__(self, plugin, declared):
        self.plugin = plugin
        self.declared = declared
        self.values = self._defaults()

    def _defaults(self):
        return {p.name: p.default for p in self.declared if p.default is not None}

    def configure(self, config):
        """Check `config` (a list of pairs) and keep it; raise `Err(configuration)` if bad."""
        given = dict(config)
        known = sorted(p.name for p in self.declared)
        unknown = sorted(set(given) - set(known))
        if unknown:
            listed = ", ".join(repr(u) for u in unknown)
            raise configuration(
                f"plugin {self.plugin!r}: unknown parameter(s) {listed}; "
                f"known parameters: {', '.join(known) or 'none'}"
            )
        for p in self.declared:
            if p.required and p.name not in given:
                raise configuration(
                    f"plugin {self.plugin!r}: missing required parameter {p.name!r}"
                )
        values = self._defaults()
        values.update(given)
        self.values = values

    def get(self, name):
        """A configured value; `Err(configuration)` when it was never set."""
        if name not in self.values:
            raise configuration(f"plugin {self.plugin!r}: parameter {name!r} is not set")
        return self.values[name]
