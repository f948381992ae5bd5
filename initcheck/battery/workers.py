"""Run the battery's specs in worker processes: ``initcheck check --jobs N``.

Each worker process loads the registry once (the same selection as the
command) and runs whole specs, so everything that lives per spec in one
process stays intact: a contract check runs before the checks that depend
on it, a time-out blocks the rest of its spec, the shared sample pools of a
spec are drawn once.  The parent hands out one spec at a time (the largest
first), reads every outcome as it happens and reports it exactly as the
one-process run does (:class:`Reported`), so the ``--json`` / ``--junitxml``
reports are written as the run goes whatever the number of workers.

What a worker cannot take down:

* a worker that dies (a plugin calls ``os._exit``, segfaults, runs out of
  memory) gives one ``error`` outcome for the check it was running, naming the
  exit code; a new worker takes the remaining specs;
* Ctrl-C reaches the parent only (workers ignore SIGINT); the parent stops
  its workers and writes its reports, as the one-process run does;
* a parent that is killed takes its workers with it: each worker watches the
  parent and exits when it is gone (a hanging check is never left running).

Workers are started with ``spawn``: TensorFlow is not safe to fork once
imported, and a worker imports only what its specs need.  Importing this
module imports neither TensorFlow nor NumPy.

The command starts its workers before it has loaded anything
(:class:`WorkerPool`): each worker loads the registry and plans the run
once, the first plan to arrive is what the command reports against
(:class:`Planned`), so the parent never imports TensorFlow or Keras and the
workers' imports are the only ones the run waits for (measured 2026-12-05:
the parent's own load took 8 s of a 60 s run before any worker started).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Sequence

__all__ = ["Reported", "RunOptions", "Event", "Planned", "WorkerPool", "reported", "worker_threads", "run_in_process",
           "run_in_workers", "default_jobs", "ENV_JOBS"]

#: Environment variable giving the default number of worker processes of ``initcheck check``.
ENV_JOBS = "INITCHECK_JOBS"

#: Seconds the parent waits on its workers' pipes at a time (between two waits it hears Ctrl-C).
_POLL = 0.5


@dataclass
class Reported:
    """One outcome as the command reports it: status, timing, message and (when asked) its results record."""

    qualname: str
    check: str
    family: str
    status: str
    seconds: float
    message: str
    reproduce: str
    record: Optional[dict] = None


@dataclass
class Planned:
    """A run's plan as a worker made it, in a form the parent can hold without loading any plugin.

    ``specs`` lists every loaded spec of the selection in registry order with the names of its planned checks
    (possibly none); ``errors`` and ``warnings`` are the registry's :class:`~initcheck.registry.LoadError`s;
    ``versions`` is :func:`initcheck.keras_compat.versions` as the worker sees it, for the reports' header (empty
    when the run writes no report).
    """

    specs: list[tuple[str, list[str]]]
    errors: list
    warnings: list
    versions: dict

    def items(self) -> list:
        """The planned items, each with its registered check and no spec object (the parent never needs one)."""
        from ..checks import all_checks
        from .items import Item

        checks = all_checks()
        return [Item(qualname, None, checks[name]) for qualname, names in self.specs for name in names]


@dataclass
class Event:
    """What a run tells the command: ``running`` (a check starts), ``outcome`` (one :class:`Reported`),
    ``done`` (a spec's last check reported), ``planned`` (a worker loaded and planned the run: ``planned``)."""

    kind: str
    qualname: str
    index: int = 0
    count: int = 0
    check: str = ""
    outcome: Optional[Reported] = None
    planned: Optional[Planned] = None


@dataclass
class RunOptions:
    """Everything a worker needs to plan and run specs as the command would (picklable)."""

    select: Optional[list] = None
    exclude: Optional[list] = None
    kinds: tuple = ("initializer", "optimizer")
    profile: str = "ci"
    checks: Optional[list] = None
    case: Optional[dict] = None
    timeout: float = 600.0
    false_fail: Optional[float] = None
    false_pass: Optional[float] = None
    with_records: bool = False
    threads: dict = field(default_factory=dict)


def default_jobs() -> int:
    """Worker processes when ``--jobs`` is not given: ``INITCHECK_JOBS``, else the CPUs this process may use.

    A value that is not a positive integer is a ``ValueError`` naming the variable.
    """
    from ..stats import env_number

    jobs = env_number(ENV_JOBS, int, 0, minimum=1, what="a positive integer")
    if jobs:
        return jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def worker_threads(jobs: int) -> dict[str, str]:
    """Thread counts for each of ``jobs`` workers, as environment defaults: the usable CPUs shared out.

    TensorFlow sizes its pools to every CPU in each process; two workers on two CPUs would each run two
    op threads and fight over the cores (measured on the built-ins, 2 CPUs: 209 s wall and 398 CPU s with
    TensorFlow's defaults, 185 s and 355 CPU s with one thread per worker, identical verdicts).  A value
    the user set in the environment wins.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    each = str(max(1, cpus // max(1, jobs)))
    return {"TF_NUM_INTRAOP_THREADS": each, "TF_NUM_INTEROP_THREADS": each, "OMP_NUM_THREADS": each}


def reported(outcome: Any, with_record: bool) -> Reported:
    """A battery :class:`~initcheck.battery.Outcome` as the command reports it."""
    record = None
    if with_record:
        from .verdicts import expected_failure_for
        from ..reports.results import outcome_record

        xf = expected_failure_for(outcome.item) if outcome.status in ("xfailed", "xpassed") else None
        record = outcome_record(outcome.item.qualname, outcome.item.check, outcome.status, outcome.seconds,
                                outcome.message, outcome.evidence, xf, outcome.blocked_by)
        record["reproduce"] = outcome.reproduce
    return Reported(outcome.item.qualname, outcome.item.check.name, outcome.item.check.family, outcome.status,
                    outcome.seconds, outcome.message, outcome.reproduce, record)


def _spec_events(qualname: str, items: Sequence[Any], options: RunOptions) -> Iterator[Event]:
    from .verdicts import run_one

    for k, item in enumerate(items, 1):
        yield Event("running", qualname, k, len(items), item.check.name)
        outcome = run_one(item, options.profile, options.case, timeout=options.timeout)
        yield Event("outcome", qualname, k, len(items), item.check.name, reported(outcome, options.with_records))
    yield Event("done", qualname, len(items), len(items))


def run_in_process(by_spec: "dict[str, list]", options: RunOptions) -> Iterator[Event]:
    """The specs' items (planned by the caller, in order) run here, one after the other."""
    for qualname, items in by_spec.items():
        yield from _spec_events(qualname, items, options)


# ---------------------------------------------------------------------------------------------------- workers

def _watch_parent() -> None:
    """Exit this worker as soon as its parent is gone (killed, crashed): never leave a check running alone."""
    import multiprocessing
    import threading
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(70)

    threading.Thread(target=watch, name="initcheck-parent-watch", daemon=True).start()


def _worker(tasks: Any, results: Any, options: RunOptions) -> None:
    """A worker's life: load the registry and plan the run once, say so, then run each spec handed to it
    until told to stop.

    ``results`` is this worker's own pipe: a ``send`` is written before it returns (a queue's feeder
    thread would still hold it), so what a worker said before it was killed reaches the parent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _watch_parent()  # the environment (INITCHECK_SEED, ...) is the parent's: spawn copies it
    for name, value in options.threads.items():  # before TensorFlow starts its thread pools
        os.environ.setdefault(name, value)
    from .. import keras_compat
    from .items import load, plan
    from .options import apply_budget
    from .verdicts import reset_run_state

    reset_run_state()
    apply_budget(options.false_fail, options.false_pass)
    registry = load(select=options.select, exclude=options.exclude, kinds=options.kinds)
    by_spec: dict[str, list] = {qualname: [] for qualname in registry.specs}
    for item in plan([(q, r.spec) for q, r in registry.specs.items()], options.profile, options.checks):
        by_spec[item.qualname].append(item)
    results.send(Event("planned", "", planned=Planned(
        [(q, [it.check.name for it in its]) for q, its in by_spec.items()], list(registry.errors),
        list(registry.warnings), keras_compat.versions() if options.with_records else {})))
    while True:
        qualname = tasks.get()
        if qualname is None:
            return
        results.send(Event("running", qualname))  # taken: a crash from here on is this spec's
        for event in _spec_events(qualname, by_spec[qualname], options):
            results.send(event)


def _died(running: Event, exitcode: Optional[int], items: Sequence[Any], with_record: bool) -> Reported:
    """The outcome of a spec whose worker died: an error on the check it was running (else its first check)."""
    from .items import reproduce_command
    from ..reports.results import outcome_record

    qualname = running.qualname
    check = next((it.check for it in items if it.check.name == running.check), items[0].check)
    replay = f"{reproduce_command(qualname, check.name, None)} --jobs 1"
    how = ("was lost (no worker process left)" if exitcode is None else
           f"was killed by signal {-exitcode}" if exitcode < 0 else f"exited ({exitcode})")
    where = check.name if running.check else f"{check.name} (or loading its spec)"
    message = (f"the worker process running {where} on {qualname} {how}; the spec's remaining checks did not run "
               f"(a crash in the plugin or in the library under test)\n  reproduce: {replay}")
    record = None
    if with_record:
        record = outcome_record(qualname, check, "error", 0.0, message, [])
        record["reproduce"] = replay
    return Reported(qualname, check.name, check.family, "error", 0.0, message, replay, record)


class WorkerPool:
    """``jobs`` worker processes, started at once: each loads and plans the run while the parent waits.

    :meth:`planned` is the first plan a worker sends (``None`` when every worker died before planning:
    the caller loads in its own process instead, as a one-process run would); :meth:`run` hands out the
    specs, the largest first, and yields the run's events; :meth:`close` stops every worker.
    """

    def __init__(self, options: RunOptions, jobs: int):
        import multiprocessing

        self._ctx = multiprocessing.get_context("spawn")
        self._options = options
        self._tasks = self._ctx.Queue()
        self._workers: dict[Any, Any] = {}  # the read end of a worker's pipe -> its process
        self._running: dict[Any, Event] = {}  # the read end of a worker's pipe -> its last "running" event
        self._planned: Optional[Planned] = None
        for _ in range(max(1, jobs)):
            self._start()

    def _start(self) -> None:
        reader, writer = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(target=_worker, args=(self._tasks, writer, self._options), name="initcheck-worker",
                                 daemon=True)
        proc.start()
        writer.close()  # the worker holds the only write end: its exit is the reader's EOF
        self._workers[reader] = proc

    def _lost(self, reader: Any) -> tuple[Any, Optional[Event]]:
        """A worker's pipe ended (told to stop, or died): forget it; its process and last ``running`` event."""
        proc = self._workers.pop(reader)
        proc.join(timeout=10)
        reader.close()
        return proc, self._running.pop(reader, None)

    def planned(self) -> Optional[Planned]:
        """The first plan a worker sends; ``None`` when every worker exited before sending one."""
        from multiprocessing.connection import wait

        while self._planned is None and self._workers:
            for reader in wait(list(self._workers), timeout=_POLL):
                try:
                    event = reader.recv()
                except EOFError:  # died while loading: a plugin took the process down
                    self._lost(reader)
                    continue
                if event.kind == "planned" and self._planned is None:
                    self._planned = event.planned
        return self._planned

    def run(self, by_spec: "dict[str, list]") -> Iterator[Event]:
        """Hand out the specs' items (the caller's plan; workers run their own, identical one) and yield the
        run's events.  A worker that dies is one ``error`` outcome and a new worker takes the remaining specs.
        Closing the generator (the command stopped: Ctrl-C, ``--maxfail``) stops every worker."""
        from multiprocessing.connection import wait

        options = self._options
        order = sorted(by_spec, key=lambda q: -len(by_spec[q]))
        for qualname in order:
            self._tasks.put(qualname)
        for _ in self._workers:
            self._tasks.put(None)
        remaining = set(order)
        try:
            while remaining:
                if not self._workers:  # cannot happen while a dead worker is replaced; never leave the run hanging
                    for qualname in sorted(remaining):
                        last = Event("running", qualname)
                        yield Event("outcome", qualname, 0, 0, "", _died(last, None, by_spec[qualname],
                                                                         options.with_records))
                        yield Event("done", qualname)
                    return
                for reader in wait(list(self._workers), timeout=_POLL):
                    try:
                        event = reader.recv()
                    except EOFError:  # the worker exited: told to stop, or died
                        proc, last = self._lost(reader)
                        if last is not None and last.qualname in remaining:
                            died = _died(last, proc.exitcode, by_spec[last.qualname], options.with_records)
                            remaining.discard(last.qualname)
                            yield Event("outcome", last.qualname, last.index, last.count, last.check, died)
                            yield Event("done", last.qualname, last.index, last.count)
                            if remaining:
                                self._start()
                                self._tasks.put(None)
                        continue
                    if event.kind == "planned":  # every worker plans; the parent took the first
                        continue
                    if event.kind == "running":
                        self._running[reader] = event
                    elif event.kind == "done":
                        self._running.pop(reader, None)
                        remaining.discard(event.qualname)
                    yield event
        finally:
            self.close()

    def close(self) -> None:
        """Stop every worker (terminate, then kill what is still alive) and release the queue."""
        for proc in self._workers.values():
            if proc.is_alive():
                proc.terminate()
        for proc in self._workers.values():
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
        for reader in self._workers:
            reader.close()
        self._workers.clear()
        self._tasks.cancel_join_thread()
        self._tasks.close()


def run_in_workers(by_spec: "dict[str, list]", options: RunOptions, jobs: int) -> Iterator[Event]:
    """Run the specs' items (planned by the caller) in ``jobs`` worker processes, yielding events as they happen.

    Workers plan the run again themselves (specs are not sent between processes); the largest specs
    go first, so the last one to end is short.  Closing the generator (the command stopped: Ctrl-C,
    ``--maxfail``) stops every worker.
    """
    pool = WorkerPool(options, max(1, min(jobs, len(by_spec))))
    yield from pool.run(by_spec)
