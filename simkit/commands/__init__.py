"""Sub-commands of ``simkit`` beyond the core ones in :mod:`simkit.cli`.

Each module here defines ``register(command)``, where ``command(name, handler, help)`` adds a
sub-command (with ``--json``) and returns its parser. :mod:`simkit.cli` registers them in the order
of :data:`MODULES`; a handler returns the exit code and prints JSON with
:func:`simkit.cli_common.emit_json` when ``args.json`` is set.
"""

MODULES = (
    "simkit.commands.targets",
    "simkit.commands.impact",
    "simkit.commands.sensitivity",
    "simkit.commands.ola",
    "simkit.commands.optimize",
    "simkit.commands.calibrate",
    "simkit.commands.review",
    "simkit.commands.report",
)
