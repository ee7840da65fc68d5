"""The ``simkit`` command. Every command takes ``--json`` (one JSON document on stdout and nothing
else there); bad input exits 2 with every problem listed, an internal error exits 1."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from simkit.cli_common import emit_json
from simkit.commands import MODULES
from simkit.errors import InputError, SimkitError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], Any]


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No abbreviations: `--jso` must not pass for `--json` (which also picks the error
        # document's form), and a flag added later must not change what an abbreviation means.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise InputError.single(
            f"command line: {message}", f"see `{self.prog} --help`", path="argv"
        )


_emit_json = emit_json


# -- commands ---------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from simkit.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.json:
        _emit_json({"valid": True, "scenario": scenario.name, "file": args.scenario, "errors": []})
    else:
        print(f"{args.scenario}: valid — {scenario.name}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from simkit.cli_common import output_path, writing
    from simkit.scenario import json_schema

    if args.out:
        output_path(args.out)
    text = json.dumps(json_schema(), indent=2)
    if args.out:
        with writing(args.out):
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        if args.json:
            _emit_json({"written": args.out})
        else:
            print(f"wrote the scenario JSON Schema to {args.out}")
    else:
        sys.stdout.write(text + "\n")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from simkit.cli_common import executor_from, output_path, progress_bar, scenario_from, writing
    from simkit.report.text import print_simulation
    from simkit.runner import simulate

    if args.out:
        output_path(args.out, folder=True)
    scenario = scenario_from(args)
    with executor_from(args) as executor, progress_bar("simulating", not args.json) as progress:
        results = simulate(
            scenario,
            replications=args.replications,
            seed=args.seed,
            executor=executor,
            progress=progress,
            max_visits=args.max_visits,
        )
    document = results.summary()
    if args.out:
        with writing(args.out):
            written = results.write(args.out)
        document = {**document, "written": [str(p) for p in written]}
    if args.json:
        _emit_json(document)
    else:
        print_simulation(document)
        if args.out:
            print(f"tables written to {args.out}/")
    return 0 if results.succeeded else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from simkit.cli_common import output_path
    from simkit.demo import run_demo

    out = output_path(args.out, folder=True) if args.out else None
    return run_demo(json_output=args.json, out=out)


def cmd_app(args: argparse.Namespace) -> int:
    from simkit.resources import app_dir

    script = app_dir() / "streamlit_app.py"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(args.port),
    ]
    if args.json:  # one JSON document on stdout: the server's own messages go to stderr
        _emit_json({"app": {"url": f"http://localhost:{args.port}", "port": args.port}})
        sys.stdout.flush()
        try:  # a captured stderr (no file descriptor) cannot take them: they are dropped
            sys.stderr.fileno()
            messages: Any = sys.stderr
        except (AttributeError, OSError, ValueError):
            messages = subprocess.DEVNULL
        return subprocess.call(command, stdout=messages)
    return subprocess.call(command)


# -- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="simkit",
        description="Test service levels before you agree them: simulate support queues and "
        "availability, measured as your ITSM tool measures SLAs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        p.set_defaults(handler=handler)
        return p

    p = command("validate", cmd_validate, "check a scenario file and list every problem")
    p.add_argument("scenario", help="scenario YAML file")
    p = command(
        "schema", cmd_schema, "write the JSON Schema of scenario files (editor autocomplete)"
    )
    p.add_argument("--out", help="file to write (default: standard output)")
    p = command("simulate", cmd_simulate, "simulate a scenario and measure its SLAs, OLAs and UCs")
    from simkit.cli_common import add_run_options, whole_number

    add_run_options(p)
    p.add_argument("--out", help="folder for tickets/visits/pauses/outages Parquet files")
    p = command("demo", cmd_demo, "run the whole pipeline on the bundled examples")
    p.add_argument("--out", help="folder for the demo's output files")
    p = command("app", cmd_app, "start the Streamlit front end")
    p.add_argument(
        "--port",
        type=whole_number("--port", 1, 8501, 65535),
        default=8501,
        help="port of the workbench's web server, 1 to 65535 (default 8501)",
    )
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue  # a command not in this build
            raise
        module.register(command)
    return parser


def _json_after_command(argv: list[str]) -> list[str]:
    """``simkit --json validate X`` as ``simkit validate X --json``: ``--json`` is an option of
    every command, and may come before the command's name too."""
    lead = 0
    while lead < len(argv) and argv[lead].startswith("-") and argv[lead] != "--":
        lead += 1
    if "--json" not in argv[:lead] or lead == len(argv):
        return argv
    return [a for a in argv[:lead] if a != "--json"] + argv[lead:] + ["--json"]


def main(argv: Sequence[str] | None = None) -> int:
    argv = _json_after_command(list(sys.argv[1:] if argv is None else argv))
    json_mode = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        return code
    except InputError as error:
        if json_mode:
            _emit_json(error.as_json())
        else:
            sys.stderr.write(error.describe() + "\n")
        return 2
    except SimkitError as error:
        if json_mode:
            _emit_json(
                {
                    "errors": [
                        {"file": None, "line": None, "path": "", "message": str(error), "fix": ""}
                    ]
                }
            )
        else:
            sys.stderr.write(f"error: {error}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as error:  # an internal error: say so plainly, exit 1
        if os.environ.get("SIMKIT_DEBUG"):
            raise
        message = f"internal error: {type(error).__name__}: {error}"
        if json_mode:
            _emit_json(
                {
                    "errors": [
                        {
                            "file": None,
                            "line": None,
                            "path": "",
                            "message": message,
                            "fix": "set SIMKIT_DEBUG=1 for the traceback and report it",
                        }
                    ]
                }
            )
        else:
            sys.stderr.write(message + "\n(set SIMKIT_DEBUG=1 for the traceback)\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
