"""Running chains: estimation options, seeds and parallelism.

Each chain owns one C++ sampler object; chains run on threads (the cffi
calls release the GIL) or on any ``concurrent.futures.Executor`` the caller
passes.  Seeds for the chains are spawned from the one user seed through
numpy's ``SeedSequence``, so a fixed seed reproduces every chain exactly and
the chains' streams do not overlap.
"""
from __future__ import annotations

import functools
import logging
import os
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

import numpy as np

from .build import Module
from .errors import InputError, SamplerError

log = logging.getLogger("statjr_py.run")

#: How many iterations one call into C++ runs: small enough for a live
#: progress bar, large enough that the call overhead is invisible.
CHUNK = 500


def _as_int(key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool):
        raise InputError(f"estoptions '{key}' = {value!r}: not a number; give a whole number")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(f"estoptions '{key}' = {value!r}: not a number; "
                         "give a whole number") from None
    if not f.is_integer() or f < minimum:
        raise InputError(f"estoptions '{key}' = {value!r}: must be a whole number "
                         f">= {minimum}; give e.g. {max(minimum, 1)}")
    return int(f)


@dataclass
class EstOptions:
    """Estimation options (``estoptions`` in RunStatJR).

    Defaults follow Stat-JR's TREE: 500 burn-in and 5000 monitored
    iterations, thinning 1, seed 1; three chains so that the multiple-chain
    diagnostics (R-hat, Brooks-Gelman-Rubin plot) are available by default.
    ``processes`` caps how many chains run at once (default: the number of
    cores).  ``diagnostics`` False skips the six-panel SVGs (they take about
    0.2 s per parameter).
    """

    burnin: int = 500
    iterations: int = 5000
    thinning: int = 1
    nchains: int = 3
    seed: int = 1
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    diagnostics: bool = True

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> "EstOptions":
        options = dict(options or {})
        known = {f.name for f in fields(cls)}
        for key in options:
            if key not in known:
                from .errors import suggest
                raise InputError(f"estoptions '{key}' = {options[key]!r}: unknown option; use "
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
        if not isinstance(self.diagnostics, bool):
            from .inputs import YesNo
            self.diagnostics = YesNo("diagnostics", "").parse(self.diagnostics, [])
        if self.iterations < self.thinning:
            raise InputError(f"estoptions 'iterations' = {self.iterations}: fewer than "
                             f"'thinning' = {self.thinning}, so nothing would be stored; "
                             "raise iterations or lower thinning")
        return self

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def chain_seeds(seed: int, n: int) -> list[int]:
    """Independent 64-bit seeds for ``n`` chains from one user seed."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]


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
        got = self.module.lib.sjr_sample(self._p, niter, thin, int(adapt), ptr)
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
    """Thread-safe counter of iterations done, reported to a callback."""

    def __init__(self, total: int, callback: Callable[[int, int], None] | None):
        self.total, self.done, self.callback = total, 0, callback
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        if self.callback is None:
            return
        with self._lock:
            self.done += n
            self.callback(self.done, self.total)


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
    """``[fn(x) for x in items]`` on the caller's executor or a thread pool."""
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, min(processes, len(items))))
    try:
        return [f.result() for f in [pool.submit(fn, x) for x in items]]
    finally:
        if own:
            pool.shutdown()


def run_chain_set(module: Module, arrays: Mapping[str, np.ndarray], seeds: list[int],
                  segments: list[Segment], executor: Executor | None, processes: int,
                  progress: Progress | None = None) -> list[tuple[np.ndarray, list]]:
    """Chains in parallel: on local threads (with progress), or on ``executor``."""
    if executor is None:
        return parallel_map(lambda seed: run_segments(module, arrays, seed, segments, progress),
                            seeds, None, processes)
    return parallel_map(functools.partial(chain_task, module.source, dict(arrays), segments),
                        seeds, executor, processes)


def run_chains(module: Module, arrays: Mapping[str, np.ndarray], opts: EstOptions,
               progress: Callable[[int, int], None] | None = None,
               executor: Executor | None = None,
               fetch: Fetch | None = None) -> tuple[np.ndarray, list[dict]]:
    """Run ``opts.nchains`` chains in parallel: burn-in (adapting), then monitoring.

    Returns
    -------
    draws : ndarray, shape (nchains, ndraws, nparams)
    extras : list of dict, one per chain: ``fetch`` asked after monitoring
    """
    counter = Progress(opts.nchains * (opts.burnin + opts.iterations), progress)
    monitored = opts.iterations - opts.iterations % opts.thinning
    segments = [Segment(opts.burnin, adapt=True, store=False),
                Segment(monitored, thin=opts.thinning, snapshot=fetch or Fetch())]
    results = run_chain_set(module, arrays, chain_seeds(opts.seed, opts.nchains), segments,
                            executor, opts.processes, counter)
    return np.stack([r[0] for r in results]), [r[1][0] for r in results]
