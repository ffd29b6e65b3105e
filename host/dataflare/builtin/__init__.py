"""Built-in native plugins: the native twins of the guest examples.

Importing this package registers every built-in with `dataflare.plugins.registry`;
the registry does so on its first lookup.
"""
