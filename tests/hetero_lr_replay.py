"""HeteroLR's training replayed in plain numpy on the joined data: the floor the encrypted run
must match, and the baseline of bench/hetero_lr.py."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from fate_nb.components import _linear


@dataclass
class Replay:
    """Per-epoch losses and the final weights of a plaintext run."""

    losses: list[float]
    guest_weights: np.ndarray
    intercept: float
    host_weights: np.ndarray
    iters: int


def replay(
    guest_x: np.ndarray, host_x: np.ndarray, labels: np.ndarray, params: dict[str, Any]
) -> Replay:
    """Train as HeteroLR does, with every party's values in one place and no encryption."""
    init = {"init_method": "random_uniform", "fit_intercept": True, "random_seed": None}
    init.update(params.get("init_param", {}))
    alpha = float(params.get("alpha", 1.0))
    penalty = str(params.get("penalty", "L2")).upper()
    intercept = bool(init["fit_intercept"])
    guest = _linear.initial_weights(guest_x.shape[1] + int(intercept), init)
    host = _linear.initial_weights(host_x.shape[1], init)
    optimizer = _linear.Optimizer(
        params.get("optimizer", "rmsprop"),
        float(params.get("learning_rate", 0.01)),
        float(params.get("decay", 1)),
        bool(params.get("decay_sqrt", True)),
    )
    signed = 2 * labels - 1
    size = guest_x.shape[1]
    seed = init.get("random_seed")

    losses: list[float] = []
    iters = 0
    for epoch in range(int(params.get("max_iter", 100))):
        shuffle_seed = None if seed is None else int(seed) + epoch
        plan = _linear.batches(
            len(labels),
            int(params.get("batch_size", -1)),
            bool(params.get("shuffle", True)),
            shuffle_seed,
        )
        batch_losses, step_square = [], 0.0
        for positions in plan:
            xg, xh, y = guest_x[positions], host_x[positions], signed[positions]
            bias = guest[size] if intercept else 0.0
            wx = xg @ guest[:size] + bias + xh @ host
            four_d = wx - 2 * y
            rows = len(y)

            grad_guest = np.append(xg.T @ four_d, four_d.sum()) if intercept else xg.T @ four_d
            grad_guest = grad_guest / (4 * rows)
            grad_host = xh.T @ four_d / (4 * rows)
            regular = 0.0
            if penalty == "L2":
                grad_guest[:size] += alpha * guest[:size]
                grad_host += alpha * host
                regular = 0.5 * alpha * (guest[:size] @ guest[:size] + host @ host)
            batch_losses.append(_linear.taylor_loss(wx, y) + regular)

            delta = optimizer.delta(np.concatenate([grad_host, grad_guest]), epoch)
            step_square += float(delta @ delta)
            host -= delta[: len(host)]
            guest -= delta[len(host) :]
            if penalty == "L1":
                amount = alpha * optimizer.last_rate
                host[:] = _linear.soft_threshold(host, amount)
                guest[:size] = _linear.soft_threshold(guest[:size], amount)

        iters = epoch + 1
        losses.append(float(np.mean(batch_losses)))
        last = losses[-2] if len(losses) > 1 else None
        early_stop = params.get("early_stop", "diff")
        if _linear.converged(
            early_stop, float(params.get("tol", 1e-4)), losses[-1], last, math.sqrt(step_square)
        ):
            break

    bias = float(guest[size]) if intercept else 0.0
    return Replay(losses, guest[:size].copy(), bias, host.copy(), iters)
