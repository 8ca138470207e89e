"""HeteroLR's three parties: what the guest, a host and the arbiter each compute and send.

``hetero_lr.py`` lists the messages; fixed-point scales are noted where values are encoded.
With P = ``floating_point_precision``: forwards and 4d are at 2**P, gradients and squares at
2**(2P); the arbiter divides them back out.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import gmpy2
import numpy as np

from fate_nb.components import _linear
from fate_nb.crypto.paillier import KeyPair, PublicKey, encode
from fate_nb.federation import IntArray
from fate_nb.flow.errors import DataError

if TYPE_CHECKING:
    from fate_nb.components.base import TaskContext
    from fate_nb.components.hetero_lr import Batch

log = logging.getLogger(__name__)


def _ciphers(values: Any) -> list[Any]:
    return [gmpy2.mpz(value) for value in values]


def _wire(ciphers: list[Any]) -> IntArray:
    return IntArray(int(c) for c in ciphers)


def _fixed(matrix: np.ndarray, bits: int) -> np.ndarray:
    return np.rint(matrix * float(2**bits)).astype(np.int64)


def _l2(ctx: TaskContext) -> bool:
    return ctx.params.penalty == "L2"


def _encrypted_gradient(
    ctx: TaskContext,
    key: PublicKey,
    four_d: list[Any],
    features: np.ndarray,
    weights: np.ndarray,
    intercept: bool,
) -> dict[str, Any]:
    """[[sum of 4d * x]] per feature (and the intercept), plus the L2 term, at 2**(2P)."""
    bits = ctx.params.floating_point_precision
    rows = len(four_d)
    gradient = key.dot(four_d, _fixed(features, bits))
    if intercept:
        gradient.append(key.mul_plain([key.total(four_d)], [2**bits])[0])
    if _l2(ctx):
        penalty = ctx.params.alpha * weights * 4 * rows
        if intercept:
            penalty[-1] = 0.0
        gradient = key.add_plain(gradient, encode(penalty, 2 * bits))
    return {"gradient": _wire(gradient), "bits": 2 * bits, "divisor": 4 * rows}


def _apply(ctx: TaskContext, weights: np.ndarray, step: dict[str, Any], intercept: bool) -> None:
    """Take the arbiter's step; L1 shrinks the feature weights afterwards."""
    weights -= np.asarray(step["delta"], dtype=np.float64)
    if ctx.params.penalty == "L1":
        last = len(weights) - 1 if intercept else len(weights)
        amount = ctx.params.alpha * float(step["rate"])
        weights[:last] = _linear.soft_threshold(weights[:last], amount)


def _model(
    ctx: TaskContext,
    header: list[str],
    weights: np.ndarray,
    intercept: float,
    iters: int,
    converged: bool,
    losses: list[float],
) -> dict[str, Any]:
    """Save the party's model; answer FATE's summary of it (with fate-nb's ``iters``)."""
    params = ctx.params
    meta = {
        "penalty": params.penalty or "NONE",
        "tol": params.tol,
        "alpha": params.alpha,
        "optimizer": params.optimizer,
        "batchSize": str(params.batch_size),
        "learningRate": params.learning_rate,
        "maxIter": str(params.max_iter),
        "earlyStop": params.early_stop,
        "fitIntercept": bool(params.init_param.get("fit_intercept", True)),
        "needOneVsRest": False,
        "reEncryptBatches": "0",
    }
    param = {
        "iters": iters,
        "lossHistory": losses,
        "isConverged": converged,
        "weight": {name: float(w) for name, w in zip(header, weights, strict=True)},
        "intercept": float(intercept),
        "header": header,
        "bestIteration": -1,
    }
    ctx.save_model(meta, param)
    return {
        "coef": param["weight"],
        "intercept": param["intercept"],
        "is_converged": converged,
        "one_vs_rest": False,
        "best_iteration": -1,
        "iters": iters,
    }


def train_guest(ctx: TaskContext, rows: Batch) -> tuple[dict[str, Any], np.ndarray]:
    """Train the guest's weights and intercept; return the summary and train scores."""
    fed, params = ctx.federation, ctx.params
    assert fed is not None and rows.labels is not None
    bits = params.floating_point_precision
    key = PublicKey.from_message(fed.get_one("paillier_pubkey", 0, "arbiter"))
    hosts = fed.parties("host")
    intercept = bool(params.init_param.get("fit_intercept", True))
    size = rows.features.shape[1]
    weights = _linear.initial_weights(size + int(intercept), params.init_param)
    signed = 2 * rows.labels - 1
    seed = params.init_param.get("random_seed")

    iters, converged = 0, False
    for epoch in range(params.max_iter):
        shuffle_seed = None if seed is None else int(seed) + epoch
        plan = _linear.batches(len(rows.ids), params.batch_size, params.shuffle, shuffle_seed)
        fed.remote({"count": len(rows.ids), "batches": plan}, "batch_info", epoch, "host")
        fed.remote(len(plan), "batch_info", epoch, "arbiter")
        for number, positions in enumerate(plan):
            tag = f"{epoch}.{number}"
            features, y = rows.features[positions], signed[positions]
            guest_wx = features @ weights[:size] + (weights[size] if intercept else 0.0)

            forwards = [_ciphers(f) for f in fed.get("host_forward", tag, "host")]
            host_wx = forwards[0]
            for other in forwards[1:]:
                host_wx = key.add(host_wx, other)
            four_d = key.add_plain(host_wx, encode(guest_wx - 2 * y, bits))
            fed.remote(_wire(four_d), "fore_gradient", tag, "host")

            gradient = _encrypted_gradient(ctx, key, four_d, features, weights, intercept)
            fed.remote(gradient, "guest_gradient", tag, "arbiter")
            if len(hosts) == 1:
                square = gmpy2.mpz(fed.get_one("host_loss_square", tag, "host"))
                fed.remote(
                    _loss_terms(ctx, key, host_wx, guest_wx, y, square, weights, intercept),
                    "loss",
                    tag,
                    "arbiter",
                )
            _apply(ctx, weights, fed.get_one("guest_optim_gradient", tag, "arbiter"), intercept)

        iters = epoch + 1
        if fed.get_one("converge_flag", epoch, "arbiter"):
            converged = True
            break

    host_scores = sum(np.asarray(s, dtype=np.float64) for s in fed.get("host_predict", 0, "host"))
    bias = weights[size] if intercept else 0.0
    scores = _linear.sigmoid(rows.features @ weights[:size] + bias + host_scores)
    return _model(ctx, rows.header, weights[:size], bias, iters, converged, []), scores


def _loss_terms(
    ctx: TaskContext,
    key: PublicKey,
    host_wx: list[Any],
    guest_wx: np.ndarray,
    y: np.ndarray,
    host_square: Any,
    weights: np.ndarray,
    intercept: bool,
) -> dict[str, Any]:
    """[[sum y*wx]] at 2**P, [[sum wx**2]] and [[the guest's L2 term]] at 2**(2P)."""
    bits = ctx.params.floating_point_precision
    plain_y = encode([float(y @ guest_wx)], bits)
    sum_y = key.add_plain(key.dot(host_wx, y.reshape(-1, 1).astype(np.int64)), plain_y)[0]
    cross = key.dot(host_wx, _fixed((2 * guest_wx).reshape(-1, 1), bits))[0]
    square = key.add_plain(key.add([cross], [host_square]), encode([guest_wx @ guest_wx], 2 * bits))
    own = weights[:-1] if intercept else weights
    regular = 0.5 * ctx.params.alpha * float(own @ own) if _l2(ctx) else 0.0
    return {
        "sum_y_wx": int(sum_y),
        "sum_wx_square": int(square[0]),
        "regular": int(key.encrypt(encode([regular], 2 * bits))[0]),
        "bits": bits,
        "count": len(y),
    }


def run_host(ctx: TaskContext, rows: Batch) -> dict[str, Any]:
    """Train the host's weights; they never leave the host."""
    fed, params = ctx.federation, ctx.params
    assert fed is not None
    bits = params.floating_point_precision
    key = PublicKey.from_message(fed.get_one("paillier_pubkey", 0, "arbiter"))
    single = len(fed.parties("host")) == 1
    weights = _linear.initial_weights(rows.features.shape[1], params.init_param)

    iters, converged = 0, False
    for epoch in range(params.max_iter):
        info = fed.get_one("batch_info", epoch, "guest")
        if int(info["count"]) != len(rows.ids):
            raise DataError(
                f"the guest has {info['count']} rows and this host {len(rows.ids)}; "
                "run an Intersection before HeteroLR"
            )
        for number, positions in enumerate(info["batches"]):
            tag = f"{epoch}.{number}"
            features = rows.features[np.asarray(positions, dtype=np.int64)]
            wx = features @ weights
            fed.remote(_wire(key.encrypt(encode(wx, bits))), "host_forward", tag, "guest")
            if single:
                square = key.encrypt(encode([wx @ wx], 2 * bits))[0]
                fed.remote(int(square), "host_loss_square", tag, "guest")
                regular = 0.5 * params.alpha * float(weights @ weights) if _l2(ctx) else 0.0
                fed.remote(
                    int(key.encrypt(encode([regular], 2 * bits))[0]),
                    "host_loss_regular",
                    tag,
                    "arbiter",
                )

            four_d = _ciphers(fed.get_one("fore_gradient", tag, "guest"))
            gradient = _encrypted_gradient(ctx, key, four_d, features, weights, False)
            fed.remote(gradient, "host_gradient", tag, "arbiter")
            _apply(ctx, weights, fed.get_one("host_optim_gradient", tag, "arbiter"), False)

        iters = epoch + 1
        if fed.get_one("converge_flag", epoch, "arbiter"):
            converged = True
            break

    fed.remote(rows.features @ weights, "host_predict", 0, "guest")
    return _model(ctx, rows.header, weights, 0.0, iters, converged, [])


def run_arbiter(ctx: TaskContext) -> dict[str, Any]:
    """Hold the private key: decrypt gradients and losses, step the optimizer, judge convergence."""
    fed, params = ctx.federation, ctx.params
    assert fed is not None
    keypair = KeyPair(int(params.encrypt_param["key_length"]))
    for role in ("guest", "host"):
        fed.remote(keypair.public_key.to_message(), "paillier_pubkey", 0, role)
    hosts = fed.parties("host")
    early_stop = params.early_stop
    if len(hosts) > 1 and early_stop != "weight_diff":
        log.warning("the loss needs a single host; %d hosts stop on weight_diff", len(hosts))
        early_stop = "weight_diff"
    optimizer = _linear.Optimizer(
        params.optimizer, params.learning_rate, params.decay, params.decay_sqrt
    )

    losses: list[float] = []
    iters, converged = 0, False
    for epoch in range(params.max_iter):
        batch_losses, step_square = [], 0.0
        for number in range(int(fed.get_one("batch_info", epoch, "guest"))):
            tag = f"{epoch}.{number}"
            parts = fed.get("host_gradient", tag, "host")
            parts.append(fed.get_one("guest_gradient", tag, "guest"))
            plain = [_decrypt_gradient(keypair, part) for part in parts]
            delta = optimizer.delta(np.concatenate(plain), epoch)
            step_square += float(delta @ delta)

            offset = 0
            for party, values in zip([*hosts, None], plain, strict=True):
                share = {"delta": delta[offset : offset + len(values)], "rate": optimizer.last_rate}
                offset += len(values)
                if party is None:
                    fed.remote(share, "guest_optim_gradient", tag, "guest")
                else:
                    fed.remote(share, "host_optim_gradient", tag, "host", [party])
            if len(hosts) == 1:
                batch_losses.append(_decrypt_loss(keypair, fed, tag))

        iters = epoch + 1
        loss = float(np.mean(batch_losses)) if batch_losses else math.nan
        if batch_losses:
            losses.append(loss)
            ctx.log_metric_data("train", "loss", [(epoch, loss)])
        last = losses[-2] if len(losses) > 1 else None
        converged = _linear.converged(early_stop, params.tol, loss, last, math.sqrt(step_square))
        for role in ("guest", "host"):
            fed.remote(converged, "converge_flag", epoch, role)
        if converged:
            break

    ctx.set_metric_meta(
        "train",
        "loss",
        {"name": "train", "metric_type": "LOSS", "unit_name": "iters", "curve_name": "loss"},
    )
    ctx.save_model(
        {"optimizer": params.optimizer, "earlyStop": early_stop},
        {"iters": iters, "lossHistory": losses, "isConverged": converged},
    )
    return {"iters": iters, "is_converged": converged, "loss_history": losses}


def _decrypt_gradient(keypair: KeyPair, part: dict[str, Any]) -> np.ndarray:
    values = np.asarray(keypair.decrypt(_ciphers(part["gradient"])), dtype=np.float64)
    return values / float(2 ** int(part["bits"])) / float(part["divisor"])


def _decrypt_loss(keypair: KeyPair, fed: Any, tag: str) -> float:
    terms = fed.get_one("loss", tag, "guest")
    (host_regular,) = keypair.decrypt([gmpy2.mpz(fed.get_one("host_loss_regular", tag, "host"))])
    sum_y, square, regular = keypair.decrypt(
        [gmpy2.mpz(terms[name]) for name in ("sum_y_wx", "sum_wx_square", "regular")]
    )
    bits, count = int(terms["bits"]), int(terms["count"])
    mean_y = sum_y / 2**bits / count
    mean_square = square / 2 ** (2 * bits) / count
    return float(
        math.log(2)
        - 0.5 * mean_y
        + 0.125 * mean_square
        + (regular + host_regular) / 2 ** (2 * bits)
    )
