"""The plaintext arithmetic of FATE's linear models: initial weights, batches, optimizers.

The federated components call these on the values each party may see; tests call them on the
joined data to replay a training run without encryption.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from fate_nb.flow.errors import ParameterError

OPTIMIZERS = ("sgd", "rmsprop", "adam", "adagrad", "nesterov_momentum_sgd")
INIT_METHODS = ("random_uniform", "random_normal", "zeros", "ones", "const")


def initial_weights(size: int, init_param: Mapping[str, Any], seed_offset: int = 0) -> np.ndarray:
    """Weights for ``size`` features by FATE's ``init_param`` (the intercept is not included)."""
    method = init_param.get("init_method", "random_uniform")
    seed = init_param.get("random_seed")
    rng = np.random.default_rng(None if seed is None else int(seed) + seed_offset)
    if method == "zeros":
        return np.zeros(size)
    if method == "ones":
        return np.ones(size)
    if method == "const":
        return np.full(size, float(init_param.get("init_const", 1)))
    if method == "random_normal":
        return rng.normal(size=size)
    if method == "random_uniform":
        return rng.uniform(size=size)
    raise ParameterError(f"init_param.init_method is {method!r}; use one of {list(INIT_METHODS)}")


def batches(count: int, batch_size: int, shuffle: bool, seed: int | None) -> list[np.ndarray]:
    """Row positions of each mini-batch of one epoch; -1 (or too large) is one full batch."""
    order = np.arange(count)
    if shuffle and 0 < batch_size < count:
        order = np.random.default_rng(seed).permutation(count)
    if batch_size <= 0 or batch_size >= count:
        return [order]
    return [order[start : start + batch_size] for start in range(0, count, batch_size)]


def learning_rate(base: float, decay: float, decay_sqrt: bool, epoch: int) -> float:
    """FATE's decayed learning rate in epoch ``epoch`` (from 0)."""
    if decay_sqrt:
        return base / math.sqrt(1 + decay * epoch)
    return base / (1 + decay * epoch)


class Optimizer:
    """One of FATE's optimizers, applied to the stacked gradient of every party's weights."""

    def __init__(
        self, method: str, rate: float, decay: float = 1.0, decay_sqrt: bool = True
    ) -> None:
        if method not in OPTIMIZERS:
            raise ParameterError(f"optimizer is {method!r}; use one of {list(OPTIMIZERS)}")
        self.method = method
        self.rate = rate
        self.decay = decay
        self.decay_sqrt = decay_sqrt
        self.step = 0
        self.last_rate = rate
        self._first: np.ndarray | None = None
        self._second: np.ndarray | None = None

    def delta(self, gradient: np.ndarray, epoch: int) -> np.ndarray:
        """What to subtract from the weights for this gradient, in epoch ``epoch``."""
        rate = learning_rate(self.rate, self.decay, self.decay_sqrt, epoch)
        self.last_rate = rate
        self.step += 1
        if self._first is None or self._second is None:
            self._first = np.zeros_like(gradient)
            self._second = np.zeros_like(gradient)

        if self.method == "sgd":
            return rate * gradient
        if self.method == "rmsprop":
            self._second = 0.99 * self._second + 0.01 * gradient**2
            return rate * gradient / np.sqrt(self._second + 1e-6)
        if self.method == "adagrad":
            self._second = self._second + gradient**2
            return rate * gradient / np.sqrt(self._second + 1e-7)
        if self.method == "adam":
            self._first = 0.9 * self._first + 0.1 * gradient
            self._second = 0.999 * self._second + 0.001 * gradient**2
            first = self._first / (1 - 0.9**self.step)
            second = self._second / (1 - 0.999**self.step)
            return rate * first / (np.sqrt(second) + 1e-8)
        # Nesterov momentum: look ahead along the accumulated velocity.
        previous = self._first
        self._first = 0.9 * self._first - rate * gradient
        return -(-0.9 * previous + 1.9 * self._first)


def soft_threshold(weights: np.ndarray, amount: float) -> np.ndarray:
    """The L1 proximal step: shrink every weight towards 0 by ``amount``."""
    return np.sign(weights) * np.maximum(np.abs(weights) - amount, 0.0)


def converged(
    early_stop: str, tol: float, loss: float, last_loss: float | None, delta_norm: float
) -> bool:
    """FATE's stopping rules: ``diff`` and ``abs`` of the loss, ``weight_diff`` of the step."""
    if early_stop == "diff":
        return last_loss is not None and abs(last_loss - loss) < tol
    if early_stop == "abs":
        return loss < tol
    return delta_norm < tol


def sigmoid(values: np.ndarray) -> np.ndarray:
    """The logistic function, stable for large magnitudes."""
    return np.exp(-np.logaddexp(0.0, -values))


def taylor_loss(wx: np.ndarray, y_signed: np.ndarray) -> float:
    """FATE's second-order Taylor expansion of the logistic loss, averaged over rows."""
    return float(np.log(2) - 0.5 * np.mean(y_signed * wx) + 0.125 * np.mean(wx**2))
