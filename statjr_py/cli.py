"""The ``statjr`` command.

``statjr list``                       templates and their descriptions
``statjr inputs TEMPLATE``            the questions, given the answers so far
``statjr run TEMPLATE --dataset D``   run, asking for missing answers on a terminal
``statjr serve``                      the TREE web interface on 127.0.0.1

``--invars`` takes JSON or the Python-dict text TREE prints as "Current input
string", pasted verbatim.  Mistakes exit with status 2 and one line on
stderr; nothing a user can type produces a traceback.
"""
from __future__ import annotations

import argparse
import ast
import json
import logging
import sys
import time
from typing import Sequence

from .errors import CompileError, InputError, SamplerError

log = logging.getLogger("statjr_py.cli")


def parse_mapping(text: str | None, what: str) -> dict:
    """JSON or Python-literal dict text -> dict."""
    if text is None or not text.strip():
        return {}
    for parser in (json.loads, ast.literal_eval):
        try:
            value = parser(text)
        except (ValueError, SyntaxError, TypeError):
            continue
        if isinstance(value, dict):
            return value
    raise InputError(f"--{what} = {text!r}: not a dict; give JSON or TREE's input string, "
                     "e.g. \"{'y': 'normexam', 'x': 'cons,standlrt'}\"")


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.last, self.start = stream, 0.0, time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        width = 30
        filled = int(width * done / max(total, 1))
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                          f"iterations, {now - self.start:.1f}s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def command_text(template: str, dataset: str, invars: dict, estoptions: dict) -> str:
    """The Python call that reruns this job, as TREE's Command pane shows it."""
    return (f"RunStatJR(template={template!r}, dataset={dataset!r}, invars={invars!r}, "
            f"estoptions={estoptions!r})")


def _ask_missing(template, dataset, invars: dict, estoptions: dict, interactive: bool) -> dict:
    """Fill in missing answers at the terminal, one question at a time."""
    from .datasets import load_dataset
    from .inputs import next_question

    data = load_dataset(dataset)
    columns = list(map(str, data.frame.columns))
    invars = dict(invars)
    # Questions with defaults are not asked here (the defaults show in the
    # input string); the web interface offers them, as TREE does.
    answers, question = next_question(template.inputs, invars, columns, data.frame)
    while question is not None:
        if not interactive:
            raise InputError(
                f"input '{question.key}' is missing ({question.text}); add it to --invars "
                f"(answers so far: {answers.input_string()}), or run on a terminal to be asked")
        d = question.describe()
        print(f"\n{question.text}", file=sys.stderr)
        if question.help:
            print(f"  help: {question.help}", file=sys.stderr)
        if d.get("choices"):
            print("  choices: " + ", ".join(d["choices"]), file=sys.stderr)
        if question.kind in ("variable", "varlist", "l2id"):
            print("  variables: " + ", ".join(columns), file=sys.stderr)
        default = d.get("default")
        reply = input(f"{question.key}{f' [{default}]' if default else ''}> ").strip()
        if not reply and default:
            reply = default
        trial = {**invars, question.key: reply}
        try:
            answers, question = next_question(template.inputs, trial, columns, data.frame)
        except InputError as exc:
            print(f"  {exc}", file=sys.stderr)
            continue
        invars = trial
        print(f"Current input string: {answers.input_string()}", file=sys.stderr)
        print("Command: " + command_text(template.name, str(dataset), dict(answers.strings),
                                     estoptions), file=sys.stderr)
    return invars


def _cmd_list(args) -> int:
    from .registry import templates

    for name, cls in sorted(templates().items(), key=lambda kv: kv[0].lower()):
        print(f"{name:16s} {cls.description}")
    return 0


def _cmd_inputs(args) -> int:
    from .datasets import load_dataset
    from .inputs import next_question
    from .registry import get_template

    template = get_template(args.template)
    invars = parse_mapping(args.invars, "invars")
    frame = load_dataset(args.dataset).frame if args.dataset else None
    columns = list(map(str, frame.columns)) if frame is not None else list(map(str, invars))
    answers, question = next_question(template.inputs, invars, columns, frame)
    for key, value in answers.strings.items():
        print(f"{key} = {value!r}: {answers.questions[key].text}")
    if question is None:
        print("All questions are answered.")
    else:
        d = question.describe()
        print(f"next: {question.key} ({question.kind}): {question.text}")
        if question.help:
            print(f"  help: {question.help}")
        if d.get("choices"):
            print("  choices: " + ", ".join(d["choices"]))
        print("Later questions depend on this answer.")
    return 0


def _cmd_run(args) -> int:
    from .engine import RunStatJR
    from .registry import get_template
    from .results import table_text

    template = get_template(args.template)
    invars = parse_mapping(args.invars, "invars")
    estoptions = parse_mapping(args.estoptions, "estoptions")
    interactive = sys.stdin.isatty() and not args.no_input
    invars = _ask_missing(template, args.dataset, invars, estoptions, interactive)
    progress = ProgressBar() if (sys.stderr.isatty() or args.progress) else None
    results = RunStatJR(template.name, args.dataset, invars, estoptions, progress=progress)
    for name in template.headline:
        if name in results:
            print(f"\n{name}")
            print(table_text(results[name]))
    print(f"\n{len(results)} outputs: " + ", ".join(list(results)[:8])
          + (", ..." if len(results) > 8 else "") + ("" if args.out else "; save them all with --out"))
    if args.out:
        paths = results.save(args.out)
        print(f"\n{len(paths)} outputs written to {args.out}")
    if args.zip:
        results.to_zip(args.zip)
        print(f"all outputs bundled in {args.zip}")
    return 0


def _cmd_serve(args) -> int:
    from .web.app import serve

    serve(args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="statjr", description="Run Stat-JR templates.")
    parser.add_argument("--version", action="version", version=f"statjr-py {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine steps")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the templates").set_defaults(func=_cmd_list)
    p = sub.add_parser("inputs", help="show a template's questions")
    p.add_argument("template")
    p.add_argument("--dataset")
    p.add_argument("--invars", help="answers so far (JSON or TREE's input string)")
    p.set_defaults(func=_cmd_inputs)
    p = sub.add_parser("run", help="run a template")
    p.add_argument("template")
    p.add_argument("--dataset", required=True, help="bundled name or .dta/.csv/.txt path")
    p.add_argument("--invars", help="answers (JSON or TREE's input string)")
    p.add_argument("--estoptions", help="e.g. \"{'burnin': 500, 'iterations': 5000}\"")
    p.add_argument("--out", help="folder to save every output in")
    p.add_argument("--zip", help="zip file to bundle every output in")
    p.add_argument("--no-input", action="store_true", help="never ask; fail on missing answers")
    p.add_argument("--progress", action="store_true", help="show progress even when not a terminal")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("serve", help="the TREE web interface on this machine")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback only)")
    p.add_argument("--port", type=int, default=8765)
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``statjr`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message
        return int(exc.code or 0)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="statjr: %(message)s")
    try:
        return args.func(args)
    except InputError as exc:
        print(f"statjr: error: {exc}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("statjr: stopped", file=sys.stderr)
        return 2
    except CompileError as exc:
        print(f"statjr: compile error: {exc}", file=sys.stderr)
        return 1
    except SamplerError as exc:
        print(f"statjr: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
