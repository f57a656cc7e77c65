"""How many BLAS threads the dense linear algebra of the solvers may use (no physics).

Small dense products and factorizations run faster on one thread than on several
(thread start-up and synchronization dominate); callers that parallelize over
independent problems themselves (one microwave frequency per thread) run BLAS
single-threaded.  The limits are set through ``threadpoolctl``.
"""

from __future__ import annotations

import contextlib
import functools

#: Below this block size one BLAS thread is faster than several (thread start-up and
#: synchronization dominate small products; on a busy machine spinning threads are
#: an order of magnitude slower still).
SMALL_BLOCK = 600


def blas_threads_for(dim: int):
    """Context manager limiting BLAS to one thread for matrices smaller than
    :data:`SMALL_BLOCK`, a no-op otherwise."""
    return single_threaded_blas() if dim < SMALL_BLOCK else contextlib.nullcontext()


def single_threaded_blas():
    """Context manager running BLAS single-threaded (for callers that parallelize
    over independent problems themselves)."""
    return _threadpool_controller().limit(limits=1, user_api="blas")


def available_blas_threads() -> int:
    """Threads the loaded BLAS may use in this process (1 if none is found)."""
    info = [lib for lib in _threadpool_controller().info() if lib.get("user_api") == "blas"]
    return max([lib.get("num_threads", 1) for lib in info] or [1])


@functools.lru_cache(maxsize=1)
def _threadpool_controller():
    # inspecting the loaded BLAS libraries costs ~0.3 ms; do it once per process
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
