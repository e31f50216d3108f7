"""The ``textdesk`` subcommands, one module each.

Each module exposes ``register(commands, env)``, which adds its subparser and
sets ``handler`` (a function of the parsed arguments returning the exit code).
"""
