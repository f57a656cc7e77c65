"""The one stationary residual of the package (no physics, numpy only)."""

from __future__ import annotations

import numpy as np

__all__ = ["stationary_residual"]


def stationary_residual(generator, x: np.ndarray, *, diagonal: np.ndarray | None = None):
    """Residual of a candidate stationary vector x of dx/dt = L x, the one definition
    every stationary solver of the package reports:

        residual = ||L x||_1 / sum_n |L_nn| |x_n|

    the net flux left over as a fraction of the total flux out of all states.  For a
    rate equation (x = populations p, -L_nn = escape rate of state n) the
    denominator is the probability leaving all states per unit time; for a Lindblad
    equation (x = vec(rho), column stacking) |L_nn| |x_n| weighs every population by
    its decay rate and every coherence by its precession and dephasing rates.  Why
    this normalization: it is dimensionless and invariant under scaling L (a change
    of time unit) or x (a normalization), and it compares the left-over flux with the
    flux the state itself carries, not with the largest rate of the generator
    (||L||_1 is dominated by a GHz precession that the populations never feel); 0 for
    an exact stationary state, O(1) for a vector that is not stationary at all.

    Parameters
    ----------
    generator : dense (n, n) array, scipy sparse (n, n) matrix, or a callable
        x -> L x (matrix-free; any leading batch axes of x are passed through)
    x : (..., n) candidate vector(s), real or complex
    diagonal : (..., n) diagonal L_nn; required for a callable ``generator``, taken
        from the matrix otherwise
    Returns a float, or an array of the batch shape for batched ``x``.  A vector with
    no flux at all (sum_n |L_nn| |x_n| = 0) has residual 0 if L x = 0, else inf.
    """
    if callable(generator):
        if diagonal is None:
            raise ValueError("a matrix-free generator needs its diagonal")
        product = generator(x)
    else:
        product = generator @ x
        diagonal = generator.diagonal() if diagonal is None else diagonal
    flux = np.sum(np.abs(diagonal) * np.abs(x), axis=-1)
    left = np.sum(np.abs(product), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = left / flux
    ratio = np.where((flux == 0.0) & (left == 0.0), 0.0, ratio)
    return float(ratio) if np.ndim(ratio) == 0 else ratio
