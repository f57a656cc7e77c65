"""Where the tasks of a sweep run: in this process, in local worker processes, or on
a dask cluster.

Every executor offers the same three operations (the :class:`Executor` protocol)::

    with make_executor("processes", workers=4) as ex:
        futures = [ex.submit(fn, *args) for args in tasks]
        for future in ex.as_completed(futures):
            value = future.result()        # re-raises the task's exception

The functions and arguments given to ``submit`` must be picklable for the process and
dask executors (module-level functions, plain data).  Nothing in a sweep depends on
which executor runs it or on the order in which tasks finish: seeds are fixed before
submission (:mod:`dnpsim.experiments.sweep`).

Implementations
---------------
SerialExecutor()                         lazy, in submission order, in this process
ProcessExecutor(workers=None, threads_per_worker=None)
                                         concurrent.futures over 'spawn'ed processes
DaskExecutor(address=None, n_workers=None, **cluster_kwargs)
                                         dask.distributed: an existing scheduler, or a
                                         LocalCluster started (and stopped) here
make_executor(kind, workers=None, address=None)
check_executor_options(kind, workers=None, address=None)

Worker processes die with the process that started them (a parent-death signal on
Linux, a watch on the parent's pid elsewhere): a sweep whose main process is killed
(job manager, out-of-memory killer) leaves no orphans behind.  Workers ignore SIGINT,
so Ctrl-C in a terminal reaches only the main process, which decides what to keep.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Executor",
    "SerialExecutor",
    "ProcessExecutor",
    "DaskExecutor",
    "make_executor",
    "check_executor_options",
    "EXECUTOR_KINDS",
    "THREAD_ENV_VARS",
]

#: Names accepted by :func:`make_executor` (and by ``dnpsim sweep --executor``).
EXECUTOR_KINDS = ("serial", "processes", "dask")

#: Environment variables that size the thread pools of BLAS/OpenMP/numba.  They are
#: read when a library is loaded, so they must be set before a worker imports numpy.
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


@runtime_checkable
class Executor(Protocol):
    """What the sweep runner needs from an executor.

    ``submit(fn, *args)`` returns a future (anything with ``result()``, which returns
    ``fn(*args)`` or raises its exception); ``as_completed(futures)`` yields the given
    futures as they finish; ``close()`` releases workers and cancels tasks not yet
    started (``close(cancel_running=True)`` also abandons the running ones, stopping
    their workers).  Executors are context managers that call ``close()`` on exit.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any: ...

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]: ...

    def close(self, cancel_running: bool = False) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc_info: Any) -> None: ...


class _ContextManager:
    """``with executor: ...`` calls ``close()`` on the way out, also on errors."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self, cancel_running: bool = False) -> None:  # pragma: no cover - overridden
        pass


# --------------------------------------------------------------------------- serial


class _LazyFuture:
    """A future that runs its call the first time its result is asked for."""

    _PENDING = object()

    def __init__(self, fn: Callable[..., Any], args: tuple):
        self._fn = fn
        self._args = args
        self._value: Any = self._PENDING
        self._error: BaseException | None = None
        self._cancelled = False

    def _run(self) -> None:
        if self._value is not self._PENDING or self._error is not None:
            return
        if self._cancelled or self._fn is None:  # cancelled, or interrupted earlier
            raise cf.CancelledError()
        try:
            self._value = self._fn(*self._args)
        except Exception as exc:  # stored, re-raised by result(), like a real future
            self._error = exc
        finally:
            self._fn = self._args = None  # drop references to large arguments

    def result(self, timeout: float | None = None) -> Any:
        """Run the call if needed; return its value or raise its exception."""
        self._run()
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._run()
        return self._error

    def done(self) -> bool:
        return self._value is not self._PENDING or self._error is not None

    def cancel(self) -> bool:
        if self.done():
            return False
        self._cancelled = True
        return True

    def cancelled(self) -> bool:
        return self._cancelled


class SerialExecutor(_ContextManager):
    """Run tasks one after the other in this process, lazily: a task runs when
    :meth:`as_completed` reaches it (in submission order) or when its ``result()`` is
    asked for.  Interrupting the loop leaves the remaining tasks unrun."""

    def __init__(self) -> None:
        self._futures: list[_LazyFuture] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> _LazyFuture:
        future = _LazyFuture(fn, args)
        self._futures.append(future)
        return future

    def as_completed(self, futures: Iterable[_LazyFuture]) -> Iterator[_LazyFuture]:
        for future in futures:
            if not future.cancelled():
                future._run()
                yield future

    def close(self, cancel_running: bool = False) -> None:
        for future in self._futures:
            future.cancel()
        self._futures = []

    def __repr__(self) -> str:
        return "SerialExecutor()"


# ------------------------------------------------------------------------ processes


def available_cores() -> int:
    """Number of CPU cores this process may run on (affinity mask when known)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _limit_threads(threads: int) -> None:
    """Cap BLAS/OpenMP threads at ``threads`` in this process.

    The environment variables only help libraries not loaded yet; ``threadpoolctl``
    (when installed) also resizes pools that are already running.
    """
    for name in THREAD_ENV_VARS:
        os.environ.setdefault(name, str(threads))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads)


#: prctl option asking the kernel to signal this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Make this worker exit when the process ``parent_pid`` that started it dies.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl``); elsewhere a
    daemon thread polls the parent pid once a second.  Either way a worker never
    outlives a killed sweep (the OOM killer and batch systems kill only the main
    process), and the multiprocessing resource tracker exits once its last client is
    gone.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="dnpsim-parent-watch", daemon=True).start()


def _start_worker(threads: int, parent_pid: int) -> None:
    """Initializer of every worker process: die with the parent, leave SIGINT to the
    parent (which waits for running tasks and keeps their results), cap threads."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_threads(threads)


class ProcessExecutor(_ContextManager):
    """Local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`).

    Workers are started with the ``'spawn'`` method: a forked child would inherit the
    parent's BLAS/OpenMP thread pools in an undefined state.  Each worker gets
    ``threads_per_worker`` BLAS/OpenMP threads (default ``max(1, cores // workers)``),
    so ``workers`` processes together do not oversubscribe the machine.  The thread
    environment variables (:data:`THREAD_ENV_VARS`) are set in this process while the
    executor is open, because spawned workers inherit the environment and may import
    numpy before any initializer runs; variables the user already set are respected,
    and the environment is restored by :meth:`close`.

    Parameters
    ----------
    workers:
        Number of worker processes, default: the number of available cores.
    threads_per_worker:
        BLAS/OpenMP threads per worker, default ``max(1, cores // workers)``.
    """

    def __init__(self, workers: int | None = None, threads_per_worker: int | None = None):
        cores = available_cores()
        workers = cores if workers is None else int(workers)
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        threads = max(1, cores // workers) if threads_per_worker is None else int(threads_per_worker)
        if threads < 1:
            raise ValueError(f"threads_per_worker must be >= 1, got {threads}")
        self.workers = workers
        self.threads_per_worker = threads
        self._saved_env = {name: os.environ.get(name) for name in THREAD_ENV_VARS}
        for name in THREAD_ENV_VARS:
            os.environ.setdefault(name, str(threads))
        self._pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(threads, os.getpid()),
        )
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        # Workers are spawned on demand inside submit.  A child started while SIGINT is
        # ignored keeps ignoring it (CPython installs its KeyboardInterrupt handler only
        # over the default disposition), so a Ctrl-C that arrives while a worker is
        # still importing cannot print a traceback from it.
        if threading.current_thread() is not threading.main_thread():
            return self._pool.submit(fn, *args)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return self._pool.submit(fn, *args)
        finally:
            signal.signal(signal.SIGINT, previous)

    def as_completed(self, futures: Iterable[cf.Future]) -> Iterator[cf.Future]:
        return cf.as_completed(list(futures))

    def close(self, cancel_running: bool = False) -> None:
        """Cancel tasks not yet started, wait for running ones (``cancel_running``:
        stop their workers instead), restore the environment."""
        if self._closed:
            return
        self._closed = True
        try:
            if cancel_running:
                # concurrent.futures has no public way to stop a running task (3.14 adds
                # terminate_workers); without this, interpreter exit would wait for them.
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.kill()
            self._pool.shutdown(wait=not cancel_running, cancel_futures=True)
        finally:
            for name, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.workers}, threads_per_worker={self.threads_per_worker})"


# ----------------------------------------------------------------------------- dask


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            'the dask executor needs dask.distributed; install it with: pip install "dnpsim[dask]"'
        ) from exc
    return distributed


class DaskExecutor(_ContextManager):
    """Tasks on a dask.distributed cluster.

    Parameters
    ----------
    address:
        Address of a running scheduler (``"tcp://host:8786"``), e.g. one started by
        ``dask scheduler`` / ``dask worker`` on a batch system.  ``None`` starts a
        :class:`distributed.LocalCluster` on this machine, closed again by :meth:`close`.
    n_workers:
        Number of workers of the local cluster (ignored with ``address``); default:
        dask's choice.
    connect_timeout:
        Seconds to wait for the scheduler at ``address``; default: dask's
        ``distributed.comm.timeouts.connect`` setting (30 s unless configured).
    **cluster_kwargs:
        Passed to :class:`distributed.LocalCluster` (e.g. ``processes=False``,
        ``threads_per_worker=2``).  Default ``threads_per_worker=1``; dask's nanny
        already starts worker processes with one BLAS/OpenMP thread.

    Raises
    ------
    ImportError
        When dask.distributed is not installed (``pip install "dnpsim[dask]"``).
    SpecError
        ``address``: no scheduler answers there within ``connect_timeout``.
    """

    def __init__(self, address: str | None = None, n_workers: int | None = None, *,
                 connect_timeout: float | None = None, **cluster_kwargs: Any):
        distributed = _import_distributed()
        self._distributed = distributed
        self._cluster = None
        if address is None:
            options = {"threads_per_worker": 1, "dashboard_address": ":0"}
            options.update(cluster_kwargs)
            if n_workers is not None:
                options["n_workers"] = int(n_workers)
            self._cluster = distributed.LocalCluster(**options)
            self.client = distributed.Client(self._cluster)
        else:
            if connect_timeout is None:
                import dask.utils

                connect_timeout = dask.utils.parse_timedelta(
                    dask.config.get("distributed.comm.timeouts.connect"), default="seconds")
            try:
                self.client = distributed.Client(address, timeout=connect_timeout)
            except (OSError, TimeoutError) as exc:
                from dnpsim.errors import SpecError

                raise SpecError("address", f"cannot reach a dask scheduler at {address!r} "
                                f"within {connect_timeout:g} s ({exc})") from None
        self._futures: list[Any] = []

    @property
    def dashboard_link(self) -> str | None:
        """URL of the dask dashboard, if one runs."""
        return getattr(self.client, "dashboard_link", None)

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        # pure=False: two tasks with equal arguments are still two tasks.
        future = self.client.submit(fn, *args, pure=False)
        self._futures.append(future)
        return future

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        return iter(self._distributed.as_completed(list(futures)))

    def close(self, cancel_running: bool = False) -> None:
        """Cancel outstanding tasks (dask cancels running ones too), close the client
        and any cluster started here."""
        if self.client is None:
            return
        try:
            pending = [f for f in self._futures if not f.done()]
            if pending:
                self.client.cancel(pending)
            self._futures = []
            self.client.close()
        finally:
            self.client = None
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None

    def __repr__(self) -> str:
        where = "LocalCluster" if self._cluster is not None else getattr(self.client, "scheduler", None)
        return f"DaskExecutor({where})"


# ---------------------------------------------------------------------------- factory


def check_executor_options(kind: str, workers: int | None = None, address: str | None = None) -> None:
    """Check the options of :func:`make_executor` without starting anything.

    Raises
    ------
    SpecError
        ``executor``: unknown kind; ``workers``: not an integer >= 1; ``address``: given
        for a kind other than ``"dask"``; ``executor``: ``"dask"`` without
        dask.distributed installed.
    """
    from dnpsim.errors import SpecError

    if kind not in EXECUTOR_KINDS:
        raise SpecError("executor", f"unknown executor {kind!r}; choose one of {', '.join(EXECUTOR_KINDS)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise SpecError("workers", f"must be an integer >= 1, got {workers!r}")
    if address is not None and kind != "dask":
        raise SpecError("address", f"a scheduler address is only used by the dask executor, not by {kind!r}")
    if kind == "dask":
        try:
            _import_distributed()
        except ImportError as exc:
            raise SpecError("executor", str(exc)) from None


def make_executor(kind: str, workers: int | None = None, address: str | None = None) -> Executor:
    """Build an executor by name.

    Parameters
    ----------
    kind:
        ``"serial"``, ``"processes"`` or ``"dask"``.
    workers:
        Number of worker processes (``processes``) or of local dask workers
        (``dask`` without ``address``); default: one per core.  Ignored by ``serial``.
    address:
        Scheduler address for ``dask`` (default: start a local cluster).  Only valid
        with ``kind="dask"``.

    Raises
    ------
    SpecError
        Invalid options (:func:`check_executor_options`), or an unreachable scheduler
        (``address``).
    """
    check_executor_options(kind, workers, address)
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    return DaskExecutor(address, n_workers=workers)
