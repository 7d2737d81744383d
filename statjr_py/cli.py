"""The ``statjr`` command.

``statjr list``                       templates and their descriptions
``statjr inputs TEMPLATE``            the questions, given the answers so far
``statjr run TEMPLATE --dataset D``   run, asking for missing answers on a terminal
``statjr serve``                      the TREE web interface on 127.0.0.1

``--invars`` takes JSON or the Python-dict text TREE prints as "Current input
string", pasted verbatim.  Mistakes exit with status 2 and one line on
stderr; nothing a user can type produces a traceback.  ``--out`` and ``--zip``
are checked before the run starts, so a typo there never costs the run;
Ctrl-C exits with status 130, as shells expect.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import time
import warnings
from typing import Sequence

from .commands import command_text, parse_mapping
from .errors import CompileError, ConvergenceWarning, InputError, SamplerError, StatJRWarning

log = logging.getLogger("statjr_py.cli")

class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second.

    The line never reaches the terminal's last column (a longer line wraps,
    and every redraw would then leave a line behind), and log records and
    warnings printed while it is drawn first clear it (:meth:`clear`), so
    they never run on from the bar.
    """

    #: The bar being drawn, if any: what log records and warnings clear first.
    active: "ProgressBar | None" = None

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.last, self.start = 0.0, time.monotonic()
        self.stage = None
        self.open = False  # a bar is drawn without its closing newline

    def close(self) -> None:
        """End a bar cut short (Ctrl-C, an error), so the next message gets its own line."""
        if self.open:
            _say("", self.stream)
            self.open = False
        if ProgressBar.active is self:
            ProgressBar.active = None

    def _columns(self) -> int:
        """The width of the terminal the bar is drawn on (80 when it cannot be told)."""
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return shutil.get_terminal_size((80, 24)).columns

    def clear(self) -> None:
        """Erase the drawn bar, so that a message can take its line; the next update redraws it."""
        if self.open:
            _say("\r\033[K", self.stream, end="")

    def __call__(self, done: int, total: int, stage: str = "", unit: str = "iterations") -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total and stage == self.stage:
            return
        if total == 0 and not stage:  # nothing planned and no stage: nothing to show yet
            return
        self.last, self.stage = now, stage
        ProgressBar.active = self
        columns = self._columns()
        clock = f", {now - self.start:.1f}s"
        if total == 0:  # a stage before the run's iterations are known (compiling): its name and the clock
            line = f"{stage}{clock}"
        else:
            line = self._bar(done, total, stage, unit, clock, columns)
        # a stage with nothing planned stays open, so that the run's bar follows on the same line
        self.open = total == 0 or done < total
        _say(f"\r{line[:max(columns - 1, 0)]}\033[K", self.stream, end="" if self.open else "\n")

    @staticmethod
    def _bar(done: int, total: int, stage: str, unit: str, clock: str, columns: int) -> str:
        """The bar's line.  What gives way on a narrow terminal, in turn: the
        count, the bar's length (30 down to 10), then the end of the stage's name."""
        percent = f" {100 * done // total:3d}%"
        count = f" of {total} {unit}"
        label = f"{stage}: " if stage else ""
        if len(label) + 12 + len(percent) + len(count) + len(clock) > columns - 1:
            count = ""
        tail = percent + count + clock
        width = max(10, min(30, columns - 1 - len(label) - len(tail) - 2))
        room = columns - 1 - len(tail) - 2 - width
        if len(label) > room:
            label = f"{stage[:max(room - 5, 0)]}...: " if room > 5 else ""
        filled = int(width * done / total)
        return f"{label}[{'#' * filled}{'.' * (width - filled)}]{tail}"

    def writing(self, done: int, total: int) -> None:
        """The same bar for writing the outputs, the run's last stage."""
        self(done, total, "writing outputs", "files")


def _ask_missing(template, dataset, invars: dict, estoptions: dict, interactive: bool,
                 data=None) -> dict:
    """Fill in missing answers at the terminal, one question at a time.

    ``data`` is ``dataset`` loaded already (the run is given the same one,
    rather than reading the file twice).
    """
    from .datasets import load_dataset
    from .inputs import next_question

    if data is None:
        data = load_dataset(dataset)
    columns = list(map(str, data.frame.columns))
    invars = dict(invars)
    # Answers given in full (--invars) run as they are, defaults applying.  Once
    # a question must be asked at the terminal, every later one is asked too,
    # its default offered (Enter takes it), as the web page offers it.
    answers, question = next_question(template.inputs, invars, columns, data.frame)
    if question is not None and interactive:
        answers, question = next_question(template.inputs, invars, columns, data.frame,
                                          ask_defaults=True)
    asked: list[str] = []  # keys answered at this prompt, for 'back'
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
        hint = f" [{default}]" if default is not None else ""
        reply = input(f"{question.key}{hint} (back to undo)> ").strip()
        if reply.lower() == "back":
            if asked:
                invars.pop(asked.pop(), None)
            else:
                print("  nothing to undo: the earlier answers came from --invars", file=sys.stderr)
            answers, question = next_question(template.inputs, invars, columns, data.frame,
                                              ask_defaults=True)
            continue
        if not reply and default is not None:
            reply = default
        trial = {**invars, question.key: reply}
        try:
            answers, question = next_question(template.inputs, trial, columns, data.frame,
                                              ask_defaults=True)
        except InputError as exc:
            print(f"  {exc}", file=sys.stderr)
            continue
        invars = trial
        asked.append(d["key"])
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


def _check_outputs(args) -> None:
    """Refuse an unusable --out or --zip before the run, not after it."""
    from .results import check_output_folder, check_zip_path

    if args.out is not None:
        check_output_folder(args.out, args.overwrite, what="--out", hint="pass --overwrite")
    if args.zip is not None:
        real = str(check_zip_path(args.zip, args.overwrite, what="--zip", hint="pass --overwrite"))
        if args.out is not None:
            folder = os.path.realpath(os.path.abspath(args.out))
            if real == folder or real.startswith(folder.rstrip(os.sep) + os.sep):
                raise InputError(f"--zip '{args.zip}': inside --out '{args.out}', where the next "
                                 "run would find a file it did not write; put the zip beside "
                                 "the folder, e.g. --zip results.zip")


def _write_failed(flag: str, path: str, exc: OSError) -> int:
    """A disk that fills or a folder that vanishes mid-save: one line, status 1."""
    reason = " ".join((exc.strerror or str(exc)).split())
    if str(path) not in reason:
        reason = f"{flag} '{path}': could not write the outputs ({reason})"
    _tell(f"statjr: error: {reason}")
    return 1


def _cmd_run(args) -> int:
    from .datasets import load_dataset
    from .engine import RunStatJR
    from .registry import get_template
    from .results import table_text

    template = get_template(args.template)
    invars = parse_mapping(args.invars, "invars")
    estoptions = parse_mapping(args.estoptions, "estoptions")
    _check_outputs(args)
    interactive = sys.stdin.isatty() and not args.no_input
    data = load_dataset(args.dataset)  # once: the questions and the run (which copies it) share it
    invars = _ask_missing(template, args.dataset, invars, estoptions, interactive, data)
    progress = ProgressBar() if (sys.stderr.isatty() or args.progress) else None
    try:
        results = RunStatJR(template.name, data, invars, estoptions, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if results.compile_seconds:  # a first run of a model: say where its time went
        _tell("statjr: compiled " + ", ".join(f"{name} in {secs:.1f} s" for name, secs
                                              in results.compile_seconds.items())
              + "; later runs of these models reuse them")
    for name in template.headline:
        if name in results:
            _say(f"\n{name}\n{table_text(results[name])}")
    _say(f"\n{len(results)} outputs: " + ", ".join(list(results)[:8])
         + (", ..." if len(results) > 8 else "")
         + ("" if args.out is not None else "; save them all with --out"))
    if args.out is not None:
        try:
            paths = results.save(args.out, overwrite=args.overwrite,
                                 progress=progress.writing if progress is not None else None)
        except OSError as exc:
            return _write_failed("--out", args.out, exc)
        _say(f"\n{len(paths)} outputs written to {args.out}")
    if args.zip is not None:
        try:
            results.to_zip(args.zip, overwrite=args.overwrite)
        except OSError as exc:
            return _write_failed("--zip", args.zip, exc)
        _say(f"all outputs bundled in {args.zip}")
    return 0


def _say(text: str, stream=None, end: str = "\n") -> None:
    """Print a line on stdout (or ``stream``), flushed, so the tables come before the bar.

    A reader that has gone (``statjr run ... --out DIR | head``, or the
    bar's ``2>&1 | head``) must not cost the run: from then on that stream
    goes nowhere and the command carries on, so the outputs are still written.
    """
    stream = sys.stdout if stream is None else stream
    try:
        print(text, file=stream, end=end, flush=True)
    except BrokenPipeError:
        _silence(stream)


def _tell(text: str) -> None:
    """A message on stderr, on a line of its own even while a bar is drawn."""
    bar = ProgressBar.active
    if bar is not None:
        bar.clear()
    _say(text, sys.stderr)


def _silence(stream) -> None:
    """Point a standard stream whose reader has gone at the null device, so that
    later writes and the exit's flush succeed."""
    try:
        with open(os.devnull, "wb") as null:  # a descriptor to duplicate
            os.dup2(null.fileno(), stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file: drop what it holds
        with contextlib.suppress(Exception):
            stream.truncate(0)


def _cmd_serve(args) -> int:
    from .web.app import serve

    for flag, value in (("--max-upload", args.max_upload), ("--idle-timeout", args.idle_timeout)):
        if not value > 0:
            raise InputError(f"{flag} = {value!r}: must be a positive number; e.g. {flag} 200")
    if not args.max_runs >= 1:
        raise InputError(f"--max-runs = {args.max_runs!r}: must be 1 or more; e.g. --max-runs 1")
    serve(args.host, args.port, max_upload_mb=args.max_upload, allow_hosts=args.allow_host,
          idle_timeout=args.idle_timeout * 60, max_runs=args.max_runs)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

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
    p.add_argument("--overwrite", action="store_true",
                   help="write --out among files statjr did not write (an earlier run's files "
                        "are replaced, others kept), and let --zip replace a file that is not a zip")
    p.add_argument("--no-input", action="store_true", help="never ask; fail on missing answers")
    p.add_argument("--progress", action="store_true", help="show progress even when not a terminal")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("serve", help="the TREE web interface on this machine")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback only)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--max-upload", type=float, default=200, metavar="MB",
                   help="largest dataset upload in MB (default 200); an upload may take at most "
                        "max(4 x this, 64) MB in memory")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME[:PORT]",
                   help="another Host name to answer to (e.g. this machine's LAN name with "
                        "--host 0.0.0.0); loopback names and --host are always allowed")
    p.add_argument("--idle-timeout", type=float, default=120, metavar="MINUTES",
                   help="forget a browser session unused for this long (default 120)")
    p.add_argument("--max-runs", type=int, default=1, metavar="N",
                   help="most template runs executing at once across all sessions (default 1: a "
                        "run already uses every core); later runs wait in turn as Queued")
    p.set_defaults(func=_cmd_serve)
    return parser


class _BarClearingHandler(logging.StreamHandler):
    """Log records on stderr, each on a line of its own even while a progress bar is drawn."""

    def emit(self, record: logging.LogRecord) -> None:
        bar = ProgressBar.active
        if bar is not None:
            bar.clear()
        super().emit(record)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """statjr-py's warnings as one line each on stderr; others as Python prints them."""
    if issubclass(category, StatJRWarning):
        kind = "convergence" if issubclass(category, ConvergenceWarning) else "data"
        _tell(f"statjr: {kind} warning: " + " ".join(str(message).splitlines()))
    else:
        _tell(warnings.formatwarning(message, category, filename, lineno, line).rstrip("\n"))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``statjr`` console script; returns the exit status.

    Called without ``argv`` (as the console script and ``python -m
    statjr_py.cli`` call it), it reads ``sys.argv`` and, once the command is
    done, ends the process itself (:func:`_end_process`), skipping the
    interpreter's teardown; called with ``argv`` (tests, other programs) it
    only returns the status.
    """
    status = _main(argv)
    if argv is None:
        _end_process(status)
    return status


def _end_process(status: int) -> None:
    """Exit now, doing what a normal exit does that anyone could see, and no more.

    After a run, Python spent 0.25-0.35 s freeing every module and object
    (numpy, pandas, the templates, the results) before the process ended: a
    tenth of the worked example's wall time, for nothing the user sees
    (docs/performance.md).  So: non-daemon threads are joined and atexit
    functions run (logging's flush, temporary folders, coverage) as at exit,
    stdout and stderr are flushed, and then ``os._exit``.  If any of that
    fails (a closed pipe, a Python without these hooks), this returns and the
    normal exit follows.
    """
    import atexit
    import threading

    try:
        threading._shutdown()  # what Py_FinalizeEx does first: join non-daemon threads
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - any doubt: leave the exit to Python
        return
    os._exit(status)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message
        return int(exc.code or 0)
    handler = _BarClearingHandler()
    handler.setFormatter(logging.Formatter("statjr: %(message)s"))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[handler])
    shown = warnings.showwarning
    warnings.showwarning = _one_line_warning
    try:
        return args.func(args)
    except InputError as exc:
        print("statjr: error: " + " ".join(str(exc).splitlines()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("statjr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `statjr list | head`: the reader left, as `yes | head`'s does
        _silence(sys.stdout)
        _silence(sys.stderr)
        return 141  # 128 + SIGPIPE, the status of a writer whose reader has gone
    except EOFError:
        print("statjr: error: input ended before every question was answered; give the answers "
              "with --invars (add --no-input to be told which are missing)", file=sys.stderr)
        return 2
    except CompileError as exc:
        print(f"statjr: compile error: {exc}", file=sys.stderr)
        return 1
    except SamplerError as exc:
        print(f"statjr: {exc}", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = shown


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
