"""Write docs/cli.md, the command-line reference, from the ``simkit`` parser itself.

Usage::

    .venv/bin/python scripts/cli_reference.py [--out docs/cli.md] [--check]

``--check`` writes nothing and exits 1 when the file differs from what the parser gives (the test
suite runs it, so the reference cannot drift from the commands).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as ``python scripts/cli_reference.py``
    sys.path.insert(0, str(ROOT))

from simkit.cli import build_parser  # noqa: E402

TARGET = ROOT / "docs" / "cli.md"

HEADER = """# Command-line reference

Generated from the `simkit` parser by `scripts/cli_reference.py`; do not edit by hand (the test
suite checks that it matches). `simkit COMMAND --help` prints the same.

## For every command

- `--json` prints one JSON document on standard output and nothing else there; progress bars and
  messages go to standard error. The documents are described with each analysis:
  [model.md](model.md) (`simulate`), [methods.md](methods.md) (`targets`, `impact`,
  `sensitivity`, `ola`, `optimize`), [calibration.md](calibration.md) (`calibrate`, `backtest`,
  `review`) and [reports.md](reports.md) (`report`); `app` prints where the workbench is served
  (`{"app": {"url", "port"}}`) and sends the server's messages to standard error. It may come
  before the command's name too (`simkit --json validate X`).
- **Exit codes.** `0` done; `1` an internal error (a defect: `SIMKIT_DEBUG=1` shows the traceback),
  or a run whose every replication failed; `2` bad input — a scenario or history file, a flag's
  value, an output place that cannot be written — with every problem listed. With `--json` the
  problems are the document `{"errors": [{"file", "line", "path", "message", "fix"}]}`.
- Flags are not abbreviated: `--rep` is refused, write `--replications`.
- Whole-number flags are checked before any work: `--replications` and `--workers` at least 1
  (`review --replications 0` skips its simulation), `--seed` at least 0 (any size),
  `--max-visits` at least 1. An output place (`--out`) is checked, and its folders made, before
  anything is simulated or fitted; the brief and the review pack are written as HTML or
  Markdown, so their `--out` ends in `.html` or `.md` unless `--format` says which.
- The same `--seed` gives the same numbers whatever `--workers` or `--scheduler` runs the
  replications.

"""


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    names = ", ".join(f"`{name}`" for name in action.option_strings)
    if action.nargs == 0:
        return names
    value = action.metavar or action.dest.upper()
    return f"{names} `{value}`"


def _help(action: argparse.Action) -> str:
    text = (action.help or "").replace("%%", "%").replace("|", "\\|")
    if action.choices is not None and not isinstance(action.choices, dict):
        text += (" — " if text else "") + "one of " + ", ".join(f"`{c}`" for c in action.choices)
    default = action.default
    if (
        action.option_strings
        and default not in (None, False, [], argparse.SUPPRESS)
        and "default" not in text
    ):
        text += f" (default `{default}`)"
    if action.required and action.option_strings:
        text += " **required**"
    return text


def reference() -> str:
    """The whole of docs/cli.md."""
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    parts = [HEADER, "## Commands\n\n| command | what it does |\n|---|---|\n"]
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    for name in commands.choices:
        parts.append(f"| [`simkit {name}`](#simkit-{name}) | {helps.get(name) or ''} |\n")
    for name, sub in commands.choices.items():
        # Written here rather than by argparse, whose layout differs between Python versions.
        positionals = [a.metavar or a.dest for a in sub._actions if not a.option_strings]
        usage = " ".join(["simkit", name, *positionals, "[options]"])
        parts.append(f"\n## simkit {name}\n\n{sub.description or ''}\n\n```\n{usage}\n```\n\n")
        parts.append("| argument | meaning |\n|---|---|\n")
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            parts.append(f"| {_flags(action)} | {_help(action)} |\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--out", type=Path, default=TARGET)
    options.add_argument("--check", action="store_true")
    args = options.parse_args(argv)
    text = reference()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
