"""Running chains: estimation options, seeds and parallelism.

Each chain owns one C++ sampler object; chains run on threads (the cffi
calls release the GIL) or on any ``concurrent.futures.Executor`` the caller
passes.  Seeds for the chains are spawned from the one user seed through
numpy's ``SeedSequence``, so a fixed seed reproduces every chain exactly and
the chains' streams do not overlap.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

import numpy as np

from . import kernel
from .build import Module
from .errors import InputError, SamplerError, short_repr

log = logging.getLogger("statjr_py.run")

#: How many iterations one call into C++ runs: small enough for a live
#: progress bar, large enough that the call overhead is invisible.
CHUNK = 500


#: Upper bounds on the counts: a typo of a few zeros should be an error at
#: once, not a MemoryError after a minute or a run that never ends.
LIMITS = {"burnin": 10 ** 9, "iterations": 10 ** 9, "thinning": 10 ** 6, "nchains": 64,
          "seed": 2 ** 63 - 1, "processes": 1024}


def _as_int(key: str, value: Any, minimum: int) -> int:
    maximum = LIMITS.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str, np.integer, np.floating)):
        raise InputError(f"estoptions '{key}' = {short_repr(value)}: not a number; give a whole number")
    try:
        f = float(value)
        exact = int(value) if isinstance(value, (int, np.integer)) else None
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"estoptions '{key}' = {short_repr(value)}: not a number; "
                         "give a whole number") from None
    if exact is None and (not np.isfinite(f) or not f.is_integer()):
        raise InputError(f"estoptions '{key}' = {short_repr(value)}: must be a whole number "
                         f">= {minimum}; give e.g. {max(minimum, 1)}")
    n = exact if exact is not None else int(f)
    if n < minimum or (maximum is not None and n > maximum):
        top = f" and <= {maximum}" if maximum is not None else ""
        raise InputError(f"estoptions '{key}' = {short_repr(value)}: must be a whole number "
                         f">= {minimum}{top}; give e.g. {max(minimum, 1)}")
    return n


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in ("yes", "y", "no", "n", "true", "false", "1", "0"):
        raise InputError(f"estoptions '{key}' = {short_repr(value)}: not a yes/no value; "
                         "give True or False")
    return text in ("yes", "y", "true", "1")


def _as_float(key: str, value: Any, minimum: float) -> float:
    try:
        f = float(value) if isinstance(value, (int, float, str, np.number)) \
            and not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError, OverflowError):
        f = float("nan")
    if not f >= minimum:  # also NaN
        raise InputError(f"estoptions '{key}' = {short_repr(value)}: must be a number >= "
                         f"{minimum:g}; give e.g. {max(minimum, 1.0):g}")
    return f


#: Chains per run unless estoptions say otherwise (R-hat needs more than one).
NCHAINS = 3


@dataclass
class EstOptions:
    """Estimation options (``estoptions`` in RunStatJR).

    Defaults follow Stat-JR's TREE: 500 burn-in and 5000 monitored
    iterations, thinning 1, seed 1; three chains so that the multiple-chain
    diagnostics (R-hat, Brooks-Gelman-Rubin plot) are available by default.
    ``processes`` caps how many chains run at once: by default the number of
    cores, or ``nchains``'s default (3) if that is more.  On a 2-core machine a
    pool of 2 would start the third chain only when the first two were done and
    run it alone, with a core idle; three threads sharing the two cores finish
    sooner (ImputeModel on the worked example 1.53 s against 1.23 s, the whole
    worked example 2.07 s against 1.78 s, 2026-11-30).  It never changes the
    draws: each chain has its own seed.  ``diagnostics`` False skips the six-panel SVGs (they take about
    0.2 s per parameter).

    A run warns (:class:`~statjr_py.ConvergenceWarning`) when a monitored
    parameter's rank-normalised R-hat exceeds ``rhat_max`` (1.05) or its bulk
    ESS falls below ``ess_min`` (100): Vehtari et al. (2021) ask for R-hat
    below 1.01 and ESS above 100 per chain before trusting a summary, so these
    defaults flag runs that are clearly not there.  ``check_convergence``
    False turns the check off (2LevelImpute does so for each model-of-interest
    fit and checks them together).
    """

    burnin: int = 500
    iterations: int = 5000
    thinning: int = 1
    nchains: int = NCHAINS
    seed: int = 1  # any whole number in [0, 2**63)
    processes: int = field(default_factory=lambda: max(os.cpu_count() or 1, NCHAINS))
    diagnostics: bool = True
    rhat_max: float = 1.05
    ess_min: float = 100.0
    check_convergence: bool = True

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> "EstOptions":
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise InputError(f"estoptions = {short_repr(options)}: must be a dict; give e.g. "
                             "{'burnin': 500, 'iterations': 5000, 'seed': 1}")
        options = dict(options)
        known = {f.name for f in fields(cls)}
        for key in options:
            if not isinstance(key, str):
                raise InputError(f"estoptions key {short_repr(key)}: option names are strings; use "
                                 + ", ".join(sorted(known)))
            if key not in known:
                from .errors import suggest
                raise InputError(f"estoptions '{key}' = {short_repr(options[key])}: unknown option; use "
                                 + ", ".join(sorted(known)) + suggest(key, known))
        opts = cls(**options)
        opts.validate()
        return opts

    def validate(self) -> "EstOptions":
        """Coerce and check every option; raise InputError naming the bad one."""
        self.burnin = _as_int("burnin", self.burnin, 0)
        self.iterations = _as_int("iterations", self.iterations, 1)
        self.thinning = _as_int("thinning", self.thinning, 1)
        self.nchains = _as_int("nchains", self.nchains, 1)
        self.seed = _as_int("seed", self.seed, 0)
        self.processes = _as_int("processes", self.processes, 1)
        self.diagnostics = _as_bool("diagnostics", self.diagnostics)
        self.check_convergence = _as_bool("check_convergence", self.check_convergence)
        self.rhat_max = _as_float("rhat_max", self.rhat_max, 1.0)
        self.ess_min = _as_float("ess_min", self.ess_min, 0.0)
        if self.iterations < self.thinning:
            raise InputError(f"estoptions 'iterations' = {self.iterations}: fewer than "
                             f"'thinning' = {self.thinning}, so nothing would be stored; "
                             "raise iterations or lower thinning")
        return self


def available_memory() -> int:
    """Bytes of memory the system could give this process now (Linux MemAvailable)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2 ** 62  # unknown: do not refuse


#: Stored draws are copied a few times on their way to the tables (the draws
#: array, the ``out`` frame, summaries): count them this many times over.
DRAW_COPIES = 3


#: Never refuse a run that needs less than this: available memory is a
#: snapshot, and a small run should not fail on a passing low.
MEMORY_FLOOR = 64 * 2 ** 20


def check_memory(nbytes: float, what: str, fix: str) -> None:
    """Refuse a run whose stored results will not fit in memory.

    Parameters
    ----------
    nbytes : float
        What the run will hold at once.
    what : str
        What holds it, for the message.
    fix : str
        Which inputs to lower.
    """
    avail = available_memory()
    if nbytes > max(avail, MEMORY_FLOOR):
        raise InputError(f"{what} would need {nbytes / 2 ** 30:.3g} GiB of memory but "
                         f"{avail / 2 ** 30:.3g} GiB are available; {fix}")


def check_draws_memory(opts: "EstOptions", nparams: int, template: str) -> None:
    """The memory check for an ordinary MCMC run's stored draws."""
    draws = opts.nchains * (opts.iterations // opts.thinning) * nparams * 8 * DRAW_COPIES
    check_memory(draws, f"{template}: storing {opts.iterations // opts.thinning} draws of "
                 f"{nparams} parameters in {opts.nchains} chains",
                 "lower estoptions 'iterations' or 'nchains', or raise 'thinning'")


def chain_seeds(seed: int, n: int) -> list[int]:
    """Independent 64-bit seeds for ``n`` chains from one user seed."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]


class Cancelled(KeyboardInterrupt):
    """A chain stopped because the run was interrupted (Ctrl-C)."""


#: The cancel flag every sampler of this process reads before each iteration
#: (cpp/statjr/entry.hpp).  Set when the main thread is interrupted while it
#: waits for chains; cleared when a new run starts with none in progress.
_CANCEL = np.zeros(1, dtype=np.int32)
_running = [0]
_running_lock = threading.Lock()


def request_cancel() -> None:
    """Ask every running chain in this process to stop within one iteration,
    and every compile (a model compiling beside the chains) to stop now."""
    _CANCEL[0] = 1
    kernel.interrupt()


class Sampler:
    """One chain: a C++ sampler object behind a small Python handle."""

    def __init__(self, module: Module, arrays: Mapping[str, np.ndarray], seed: int):
        self.module = module
        ffi, lib = module.ffi, module.lib
        # Keep the arrays alive as long as the sampler holds pointers to them.
        self._arrays = [np.ascontiguousarray(a) for a in arrays.values()]
        self._ptrs = ffi.new("void *[]", [ffi.from_buffer(a) for a in self._arrays] or [ffi.NULL])
        self._lens = ffi.new("int64_t[]", [a.size for a in self._arrays] or [0])
        err = ffi.new("char[]", 1024)
        self._p = lib.sjr_create(self._ptrs, self._lens, seed & (2**64 - 1), err, 1024)
        if self._p == ffi.NULL:
            raise InputError("the model could not be set up: " + ffi.string(err).decode()
                             + "; check the data and inputs")
        self.nparams = lib.sjr_nparams()

    def _fail(self, what: str) -> SamplerError:
        msg = self.module.ffi.string(self.module.lib.sjr_error(self._p)).decode()
        return SamplerError(f"sampler failed while {what}: {msg}")

    def sample(self, niter: int, thin: int = 1, adapt: bool = False,
               store: bool = True) -> np.ndarray:
        """Run ``niter`` iterations; return the stored draws (rows = draws)."""
        rows = niter // thin if store else 0
        out = np.empty((rows, self.nparams))
        ptr = self.module.ffi.from_buffer("double[]", out) if store else self.module.ffi.NULL
        cancel = self.module.ffi.from_buffer("int32_t[]", _CANCEL)
        got = self.module.lib.sjr_sample(self._p, niter, thin, int(adapt), ptr, cancel)
        if got == -2:
            raise Cancelled("the run was interrupted")
        if got < 0:
            raise self._fail("sampling")
        return out[:got]

    def call(self, what: str, nout: int, data: np.ndarray | None = None) -> np.ndarray:
        """A template-specific request (residuals, deviance, imputations, ...)."""
        ffi = self.module.ffi
        inp = np.ascontiguousarray(data if data is not None else np.zeros(0), dtype=float)
        out = np.empty(nout)
        got = self.module.lib.sjr_call(self._p, what.encode(), ffi.from_buffer("double[]", inp),
                                       inp.size, ffi.from_buffer("double[]", out), nout)
        if got < 0:
            raise self._fail(f"answering '{what}'")
        return out[:got]

    def close(self) -> None:
        if getattr(self, "_p", None) is not None and self._p != self.module.ffi.NULL:
            self.module.lib.sjr_free(self._p)
            self._p = None

    def __del__(self):
        self.close()


class Progress:
    """One run's progress across all its stages, reported to one callback.

    The whole run is one bar: a template that knows its stages in advance
    (2LevelImpute: imputation, model-of-interest fits, complete cases) calls
    :meth:`plan` with the total iterations, and every sampler of the run,
    its sub-runs' included, adds to the same count.  Otherwise each sampling
    :meth:`expect` announces its iterations as it starts.  The callback is called as
    ``callback(done, total, stage)`` when it takes three arguments, else
    ``callback(done, total)``; calls are thread-safe.  While a model compiles
    (:meth:`compiling`) the stage shown is "compiling NAME", so that a cold
    run's first seconds do not look like a sampler stuck at 0%.
    """

    def __init__(self, callback: Callable | None):
        self.callback = callback
        self.done = self.total = 0
        self.planned = False
        self.stage = ""
        self._compiling: list[str] = []  # models being compiled now, in the order they started
        #: Seconds each model compiled for in this run (``Results.compile_seconds``).
        self.compiled: dict[str, float] = {}
        self._lock = threading.Lock()
        self._three = False
        if callback is not None:
            import inspect
            try:
                params = inspect.signature(callback).parameters.values()
                self._three = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                                  for p in params) >= 3 or any(p.kind == p.VAR_POSITIONAL
                                                               for p in params)
            except (TypeError, ValueError):
                self._three = False

    def plan(self, total: int) -> None:
        """The whole run's iterations, known up front."""
        with self._lock:
            self.total, self.planned = self.done + total, True

    def expect(self, n: int) -> None:
        """Iterations about to run, unless the run planned them already."""
        if not self.planned:
            with self._lock:
                self.total += n

    def set_stage(self, stage: str) -> None:
        self.stage = stage
        self.add(0)

    @contextlib.contextmanager
    def compiling(self, name: str):
        """Show "compiling NAME" as the stage while the block runs.

        Models compile concurrently (2LevelImpute's imputation model and its
        complete-case fit), so each adds its name and removes it when done,
        and the run's own stage comes back when none is left.  The callback
        is called twice a second meanwhile, so a bar's clock keeps moving.
        Threads waiting for the same model's compile each time it (build
        enters this for them too); the longest wait is the compile's time
        (``compiled``), not their sum.
        """
        with self._lock:
            self._compiling.append(name)
        self.add(0)
        started, done = time.perf_counter(), threading.Event()

        def tick() -> None:
            while not done.wait(0.5):
                self.add(0)

        ticker = threading.Thread(target=tick, daemon=True, name="statjr-compile-progress")
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()
            with self._lock:
                self._compiling.remove(name)
                self.compiled[name] = max(self.compiled.get(name, 0.0), time.perf_counter() - started)
            self.add(0)

    def add(self, n: int) -> None:
        if self.callback is None:
            return
        with self._lock:
            self.done += n
            done, total = min(self.done, self.total), self.total
            if self._three:
                stage = ("compiling " + ", ".join(dict.fromkeys(self._compiling)) if self._compiling
                         else self.stage)
                self.callback(done, total, stage)
            else:
                self.callback(done, total)


@dataclass
class Fetch:
    """Requests for a live sampler, by name: ``{name: (what, nout)}``.

    A plain object rather than a callback, so that chains can be shipped to
    other processes (a dask cluster) and still bring their extras back.
    """

    requests: dict[str, tuple[str, int]] = field(default_factory=dict)

    def __call__(self, sampler: "Sampler") -> dict:
        return {name: sampler.call(what, nout) for name, (what, nout) in self.requests.items()}


@dataclass
class Segment:
    """A stretch of one chain.

    ``adapt`` lets Metropolis steps tune their proposals (burn-in only);
    ``store`` keeps every ``thin``-th draw; ``snapshot`` (a :class:`Fetch`)
    is asked of the live sampler at the end of the stretch, and its answer
    returned (imputed datasets, residual moments, ...).
    """

    iterations: int
    adapt: bool = False
    store: bool = True
    thin: int = 1
    snapshot: Fetch | None = None


def run_segments(module: Module, arrays: Mapping[str, np.ndarray], seed: int,
                 segments: list[Segment], progress: Progress | None = None) -> tuple[np.ndarray, list]:
    """Run one chain through ``segments``; return stored draws and snapshots."""
    sampler = Sampler(module, arrays, seed)
    try:
        parts, snaps = [np.empty((0, sampler.nparams))], []
        for seg in segments:
            left = seg.iterations
            step = max(CHUNK // seg.thin, 1) * seg.thin
            while left > 0:
                n = min(step, left)
                drawn = sampler.sample(n, thin=seg.thin, adapt=seg.adapt, store=seg.store)
                if seg.store:
                    parts.append(drawn)
                left -= n
                if progress:
                    progress.add(n)
            if seg.snapshot is not None:
                snaps.append(seg.snapshot(sampler))
        return np.vstack(parts), snaps
    finally:
        sampler.close()


def chain_task(source: str, arrays: Mapping[str, np.ndarray], segments: list[Segment],
               seed: int) -> tuple[np.ndarray, list]:
    """One chain from the C++ source: what a remote worker runs.

    The worker builds the module itself (or loads it from its compile cache,
    keyed by the source's hash), since compiled modules cannot be pickled.
    """
    from .build import build

    return run_segments(build(source), arrays, seed, segments)


def parallel_map(fn: Callable, items: list, executor: Executor | None, processes: int) -> list:
    """``[fn(x) for x in items]`` on the caller's executor or a thread pool.

    Ctrl-C while waiting sets the process's cancel flag, so every chain
    (including those of nested runs on worker threads) stops within one
    iteration; the pool is then joined before ``KeyboardInterrupt`` goes on
    up, so no sampler is left running behind the caller's back.
    """
    with _running_lock:
        if _running[0] == 0:
            _CANCEL[0] = 0
        _running[0] += 1
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, min(processes, len(items))))
    futures = []
    try:
        futures = [pool.submit(fn, x) for x in items]
        return [f.result() for f in futures]
    except KeyboardInterrupt:
        request_cancel()
        for f in futures:
            f.cancel()
        raise
    finally:
        try:
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
        finally:
            with _running_lock:
                _running[0] -= 1


def run_chain_set(module: Module, arrays: Mapping[str, np.ndarray], seeds: list[int],
                  segments: list[Segment], executor: Executor | None, processes: int,
                  progress: Progress | None = None) -> list[tuple[np.ndarray, list]]:
    """Chains in parallel: on local threads (with progress), or on ``executor``."""
    if executor is None:
        return parallel_map(lambda seed: run_segments(module, arrays, seed, segments, progress),
                            seeds, None, processes)
    return parallel_map(functools.partial(chain_task, module.source, dict(arrays), segments),
                        seeds, executor, processes)


@dataclass
class Schedule:
    """How each chain runs: its segments, and how to label and use its draws.

    Build one with :meth:`plain` (burn-in, then monitoring) or
    :meth:`snapshots` (ImputeModel's "first at ``first``, then every
    ``every``").  ``first_iteration`` labels the first stored draw,
    ``thin`` the step between labels, and summaries leave out the first
    ``discard`` stored draws.
    """

    segments: list[Segment]
    first_iteration: int = 1
    thin: int = 1
    discard: int = 0

    @classmethod
    def plain(cls, burnin: int, iterations: int, thinning: int = 1,
              fetch: Fetch | None = None) -> "Schedule":
        """Burn-in (adapting, not stored), then ``iterations`` monitored, every
        ``thinning``-th stored; ``fetch`` is asked of each chain at the end."""
        monitored = iterations - iterations % thinning
        return cls([Segment(burnin, adapt=True, store=False),
                    Segment(monitored, thin=thinning, snapshot=fetch or Fetch())],
                   first_iteration=burnin + thinning, thin=thinning)

    @classmethod
    def snapshots(cls, first: int, every: int, count: int, take: Fetch) -> "Schedule":
        """Every iteration stored; ``take`` asked at ``first``, ``first + every``, ...

        Metropolis proposals adapt in the first half of the first ``first``
        iterations, which summaries then leave out.
        """
        adapt = first // 2
        segments = [Segment(adapt, adapt=True), Segment(first - adapt, snapshot=take)]
        segments += [Segment(every, snapshot=take) for _ in range(count - 1)]
        return cls(segments, first_iteration=1, thin=1, discard=adapt)

    @property
    def iterations(self) -> int:
        """Iterations one chain runs."""
        return sum(seg.iterations for seg in self.segments)

    @property
    def stored(self) -> int:
        """Draws one chain stores."""
        return sum(seg.iterations // seg.thin for seg in self.segments if seg.store)

    def labels(self, ndraws: int) -> np.ndarray:
        """The iteration number of each stored draw."""
        return self.first_iteration + self.thin * np.arange(ndraws)
