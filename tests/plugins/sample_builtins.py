"""A `builtins` table for the registry tests: names plugins without importing them."""

PLUGINS = {
    "filter.lazy_keep": "plugins.sample_lazy_plugin:LazyKeep",
    "filter.broken": "plugins.sample_broken_builtins:Broken",
}
