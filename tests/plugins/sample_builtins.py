"""A module the registry tests import as a `builtins` module (it only has to import)."""
