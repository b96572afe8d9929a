"""The bounded pool a run's canaries collect in: BigQuery runs jobs in parallel, DuckDB gives each worker a cursor."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from pipeline_canary.warehouse import Warehouse

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0  # how long a failed run waits for its statements to stop
T = TypeVar("T")


class Pool(Generic[T]):
    """Runs ``jobs`` on up to ``size`` daemon threads; :meth:`arrivals` yields ``(position, value)`` as each ends.

    An exception that escapes a job (a bug: warehouse errors are per-canary results) is raised by
    :meth:`arrivals`. Leaving the ``with`` block stops the jobs not started; on an exception it also
    interrupts the statements in flight and waits :data:`STOP_GRACE_S` for them. Daemons: a statement
    that ignores the interrupt cannot keep the process alive. ``own`` warehouses are closed once no
    worker uses them. One job (or a pool of one) runs in the caller's thread, when it is asked for.
    """

    def __init__(self, jobs: Sequence[Callable[[], T]], size: int, warehouse: Warehouse, *, own: bool) -> None:
        self._todo: queue.SimpleQueue[tuple[int, Callable[[], T]]] = queue.SimpleQueue()
        for item in enumerate(jobs):
            self._todo.put(item)
        self._count = len(jobs)
        self._done: queue.SimpleQueue[tuple[int, T] | BaseException] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._warehouse, self._own = warehouse, own
        self._inline = list(jobs) if min(size, len(jobs)) <= 1 else None
        self._threads = (
            []
            if self._inline is not None
            else [
                threading.Thread(target=self._work, name=f"canary-sql-{n}", daemon=True)
                for n in range(min(size, len(jobs)))
            ]
        )

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                index, job = self._todo.get_nowait()
            except queue.Empty:
                return
            try:
                self._done.put((index, job()))
            except BaseException as exc:
                self._done.put(exc)
                return

    def arrivals(self) -> Iterator[tuple[int, T]]:
        if self._inline is not None:
            for index, job in enumerate(self._inline):
                yield index, job()
            return
        for _ in range(self._count):
            arrived = self._done.get()
            if isinstance(arrived, BaseException):
                raise arrived
            yield arrived

    def __enter__(self) -> Pool[T]:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self._stop.set()
        deadline = None
        if kind is not None:  # e.g. KeyboardInterrupt: stop the statements in flight
            deadline = time.monotonic() + STOP_GRACE_S
            try:
                self._warehouse.interrupt()
            except Exception:  # the connection may be closing at the same moment
                log.debug("interrupt failed", exc_info=True)
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if not self._own:
            return
        if any(thread.is_alive() for thread in self._threads):
            log.warning("a statement did not stop within %gs; its warehouse connection is left open", STOP_GRACE_S)
            return
        try:
            self._warehouse.close()
        except Exception:
            log.warning("closing the warehouse after the run failed", exc_info=True)
