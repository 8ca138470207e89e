"""HomoLR: clients and arbiter run at once in threads through a real broker; the run equals a
plaintext replay, and what the arbiter receives is masked."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gmpy2
import numpy as np
import pandas as pd
import pytest
from csv_files import DATA_DIR
from scipy.special import expit

from fate_nb.components import _linear, _secure_aggregation, module_roles
from fate_nb.components._secure_aggregation import PairwiseMasks, to_fixed_point, unmasked_sum
from fate_nb.components.evaluation import PREDICTION_COLUMNS
from fate_nb.components.homo_lr import HomoLRParam
from fate_nb.federation.codec import decode
from fate_nb.flow.errors import DataError, ParameterError
from fate_nb.flow.store import DataTable

if TYPE_CHECKING:
    from conftest import Flow, Ran, RunningBroker

GUEST, HOST, HOST_2 = ("guest", "9999"), ("host", "10000"), ("host", "10001")
ARBITER = ("arbiter", "10000")
TWO_CLIENTS = {"guest": [9999], "host": [10000], "arbiter": [10000]}
THREE_CLIENTS = {"guest": [9999], "host": [10000, 10001], "arbiter": [10000]}
Party = tuple[str, str]

BENCHMARK = {
    "penalty": "L2",
    "alpha": 0.01,
    "learning_rate": 0.15,
    "optimizer": "rmsprop",
    "batch_size": 320,
    "max_iter": 30,
    "init_param": {"init_method": "zeros"},
}
SETTINGS = [
    (BENCHMARK, TWO_CLIENTS),
    (
        {
            "penalty": "L1",
            "alpha": 0.001,
            "learning_rate": 0.05,
            "optimizer": "adam",
            "batch_size": 64,
            "aggregate_iters": 3,
            "max_iter": 8,
            "early_stop": "weight_diff",
            "tol": 1e-9,
            "init_param": {"init_method": "random_uniform", "random_seed": 7},
        },
        THREE_CLIENTS,
    ),
    (
        {
            "penalty": "none",
            "learning_rate": 0.5,
            "optimizer": "sgd",
            "decay": 0.5,
            "decay_sqrt": False,
            "max_iter": 20,
            "early_stop": "abs",
            "tol": 0.25,
            "init_param": {
                "init_method": "random_normal",
                "random_seed": 3,
                "fit_intercept": False,
            },
        },
        TWO_CLIENTS,
    ),
]


def homo_csv(name: str) -> pd.DataFrame:
    """breast_homo_<name>.csv in the order the component reads it: by id as text."""
    frame = pd.read_csv(DATA_DIR / f"breast_homo_{name}.csv", dtype={"id": str})
    return frame.sort_values("id", kind="stable", ignore_index=True)


def client_frames(roles: dict[str, list[int]]) -> dict[Party, pd.DataFrame]:
    """The guest's rows, and the host's rows whole or split between two hosts."""
    guest, host = homo_csv("guest"), homo_csv("host")
    if len(roles["host"]) == 1:
        return {GUEST: guest, HOST: host}
    return {GUEST: guest, HOST: host.iloc[:90], HOST_2: host.iloc[90:]}


def through_dataio(flow: Flow, frame: pd.DataFrame, party: Party, name: str) -> DataTable:
    """Upload ``frame`` and run DataIO on it with labels, as a job's first component would."""
    table = flow.upload(frame.to_csv(index=False), name=name)
    return flow.run("DataIO", {"with_label": True}, data=table, party=party).output_table()


def through_dataio_all(flow: Flow, frames: dict[Party, pd.DataFrame]) -> dict[Party, DataTable]:
    """Every client's rows through DataIO, as its own party."""
    return {party: through_dataio(flow, f, party, f"c{party[1]}") for party, f in frames.items()}


def train(
    flow: Flow,
    broker: RunningBroker,
    tables: dict[Party, DataTable],
    conf: dict[str, Any],
    roles: dict[str, list[int]],
    eval_tables: dict[Party, DataTable] | None = None,
) -> dict[Party, Ran]:
    """Run HomoLR on every client of ``tables`` and on the arbiter, each in its own thread."""
    contexts = {}
    for party, table in tables.items():
        ctx = flow.context("HomoLR", conf, party=party)
        ctx.data_inputs = {"train_data": [table]}
        if eval_tables and party in eval_tables:
            ctx.data_inputs["eval_data"] = [eval_tables[party]]
        contexts[party] = ctx
    contexts[ARBITER] = flow.context("HomoLR", conf, party=ARBITER)
    return broker.run_parties(contexts, roles)


@dataclass
class Replay:
    """A plaintext run: each round's pooled loss, averaged model and clients' local models."""

    losses: list[float]
    averaged: list[np.ndarray]
    local: list[list[np.ndarray]]
    keys: list[int]
    converged: bool


def replay(frames: list[pd.DataFrame], conf: dict[str, Any]) -> Replay:
    """FedAvg of local logistic-regression training, in numpy, with every client in one place."""
    params, _ = HomoLRParam.from_conf(conf, "replay")
    clients = [
        (f.drop(columns=["id", "y"]).to_numpy(float), f["y"].to_numpy(float)) for f in frames
    ]
    counts = np.array([len(y) for _, y in clients], dtype=float)
    size = clients[0][0].shape[1]
    intercept = bool(params.init_param["fit_intercept"])
    start = _linear.initial_weights(size + int(intercept), params.init_param)
    models = [start.copy() for _ in clients]
    optimizers = [
        _linear.Optimizer(params.optimizer, params.learning_rate, params.decay, params.decay_sqrt)
        for _ in clients
    ]
    step = params.batch_size if params.batch_size > 0 else max(counts)
    every = params.aggregate_iters

    result = Replay([], [], [], [], False)
    for first in range(0, params.max_iter, every):
        epochs = range(first, min(first + every, params.max_iter))
        for (x, y), w, optimizer in zip(clients, models, optimizers, strict=True):
            for epoch in epochs:
                for begin in range(0, len(y), int(step)):
                    xb, yb = x[begin : begin + int(step)], y[begin : begin + int(step)]
                    residual = expit(xb @ w[:size] + (w[size] if intercept else 0.0)) - yb
                    gradient = xb.T @ residual
                    if intercept:
                        gradient = np.append(gradient, residual.sum())
                    gradient = gradient / len(yb)
                    if params.penalty == "L2":
                        gradient[:size] += params.alpha * w[:size]
                    w -= optimizer.delta(gradient, epoch)
                    if params.penalty == "L1":
                        shrink = params.alpha * optimizer.last_rate
                        w[:size] = np.sign(w[:size]) * np.maximum(np.abs(w[:size]) - shrink, 0)
        result.local.append([w.copy() for w in models])
        average = sum(n * w for n, w in zip(counts, models, strict=True)) / counts.sum()

        own = average[:size]
        penalty = {"L2": 0.5 * params.alpha * own @ own, "L1": params.alpha * np.abs(own).sum()}
        losses = [
            np.mean(np.logaddexp(0, -(2 * y - 1) * (x @ own + (average[size] if intercept else 0))))
            + penalty.get(str(params.penalty), 0.0)
            for x, y in clients
        ]
        loss = float(counts @ losses / counts.sum())
        change = np.linalg.norm(average - result.averaged[-1]) if result.averaged else np.inf
        last = result.losses[-1] if result.losses else None
        result.losses.append(loss)
        result.averaged.append(average)
        result.keys.append(epochs[-1])
        models = [average.copy() for _ in clients]
        if _linear.converged(params.early_stop, params.tol, loss, last, float(change)):
            result.converged = True
            break
    return result


@pytest.mark.parametrize(
    ("conf", "roles"), SETTINGS, ids=["benchmark_rmsprop_l2", "adam_l1_3clients", "sgd_none"]
)
def test_training_equals_its_plaintext_replay(
    flow: Flow, broker: RunningBroker, conf: dict[str, Any], roles: dict[str, list[int]]
) -> None:
    frames = client_frames(roles)
    tables = through_dataio_all(flow, frames)

    done = train(flow, broker, tables, conf, roles)

    expected = replay(list(frames.values()), conf)
    loss = done[ARBITER].metrics()["train"]["loss"]
    assert [key for key, _ in loss["data"]] == expected.keys
    np.testing.assert_allclose([value for _, value in loss["data"]], expected.losses, rtol=1e-6)
    assert loss["meta"] == {
        "name": "train",
        "metric_type": "LOSS",
        "unit_name": "iters",
        "curve_name": "loss",
    }
    intercept = conf["init_param"].get("fit_intercept", True)
    final = expected.averaged[-1]
    _, arbiter = done[ARBITER].model()
    np.testing.assert_allclose(arbiter["lossHistory"], expected.losses, rtol=1e-6)
    assert int(arbiter["iters"]) == expected.keys[-1] + 1
    assert arbiter["isConverged"] is expected.converged
    for party in (*frames, ARBITER):
        _, model = done[party].model()
        weights = list(model["weight"].values())
        np.testing.assert_allclose(weights, final[:30], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(model["intercept"], final[30] if intercept else 0.0, rtol=1e-6)
        assert (model["weight"], model["intercept"]) == (arbiter["weight"], arbiter["intercept"])
        assert model["header"] == [f"x{i}" for i in range(30)]
        assert model["iters"] == arbiter["iters"]

    for party, frame in frames.items():
        output, _ = done[party].output()
        margin = frame.filter(like="x").to_numpy() @ final[:30] + (final[30] if intercept else 0)
        np.testing.assert_allclose(output["predict_score"], expit(margin), rtol=1e-6)
        assert done[party].summary == {
            "iters": expected.keys[-1] + 1,
            "is_converged": expected.converged,
        }


def test_benchmark_settings_learn_breast(flow: Flow, broker: RunningBroker) -> None:
    frames = client_frames(TWO_CLIENTS)
    tables = through_dataio_all(flow, frames)

    done = train(flow, broker, tables, BENCHMARK, TWO_CLIENTS)

    losses = [value for _, value in done[ARBITER].metrics()["train"]["loss"]["data"]]
    # RMSprop's first step is about 10 * learning_rate per weight; after it the loss falls.
    assert len(losses) == 30
    assert losses[1:] == sorted(losses[1:], reverse=True)
    assert losses[-1] < 0.15
    for party in frames:
        output, _ = done[party].output()
        assert (output["predict_result"] == output["label"]).mean() > 0.95


def test_arbiter_receives_only_masked_values_whose_sum_is_the_plain_sum(
    flow: Flow, broker: RunningBroker
) -> None:
    frames = client_frames(THREE_CLIENTS)
    tables = through_dataio_all(flow, frames)
    conf = {**SETTINGS[1][0], "max_iter": 6, "aggregate_iters": 2}
    seen: list[tuple[tuple[str, ...], bytes]] = []
    broker.broker.observers.append(lambda key, payload: seen.append((key, payload)))

    train(flow, broker, tables, conf, THREE_CLIENTS)

    expected = replay(list(frames.values()), conf)
    messages = [(key[2], key[3], key[4:6], key[6:8], decode(payload)) for key, payload in seen]
    to_arbiter = [m for m in messages if m[3][0] == "arbiter"]
    assert {name for name, *_ in to_arbiter} == {"model_header", "masked_model", "masked_loss"}
    # The pairwise keys go client to client; the arbiter never holds what seeds the masks.
    keys = [(src, dst) for name, _, src, dst, _ in messages if name == "dh_pubkey"]
    assert sorted(keys) == sorted((a, b) for a in frames for b in frames if a != b)

    clients = list(frames)
    counts = np.array([len(frame) for frame in frames.values()], dtype=float)
    signed_values = []
    for step, local in enumerate(expected.local):
        uploads = {
            src: value
            for name, tag, src, _, value in to_arbiter
            if name == "masked_model" and tag == str(step)
        }
        assert set(uploads) == set(clients)
        total = np.zeros(32, dtype=np.uint64)
        for party, n, weights in zip(clients, counts, local, strict=True):
            upload = uploads[party]
            assert upload.dtype == np.uint64
            plain = np.append(weights, 1.0) * n * 2.0**24
            signed = upload.view(np.int64).astype(float)
            assert np.all(np.abs(signed - plain) > 2.0**30), (step, party)
            signed_values.extend(signed)
            total += upload

        pooled = sum(n * np.append(w, 1.0) for n, w in zip(counts, local, strict=True))
        np.testing.assert_allclose(total.view(np.int64) / 2.0**24, pooled, rtol=0, atol=1e-5)
        (sent,) = [
            value
            for name, tag, _, dst, value in messages
            if name == "aggregated_model" and tag == str(step) and dst == GUEST
        ]
        np.testing.assert_allclose(sent, pooled[:-1] / counts.sum(), rtol=0, atol=1e-9)
        np.testing.assert_allclose(sent, expected.averaged[step], rtol=0, atol=1e-9)

    # Every value the arbiter gets alone is uniform on 64 bits; the true ones are below 2**40.
    high = np.mean(np.abs(np.array(signed_values)) > 2.0**62)
    assert 0.35 < high < 0.65
    losses = [value for name, *_, value in to_arbiter if name == "masked_loss"]
    assert len(losses) == 3 * len(expected.losses)
    # n * loss at 2**24 is below 2**40 for any client here; masked, it almost never is.
    assert all(abs(int(value.view(np.int64)[0])) > 2**40 for value in losses)


def test_validate_rows_are_predicted_and_models_have_fates_shape(
    flow: Flow, broker: RunningBroker
) -> None:
    frames = client_frames(TWO_CLIENTS)
    tables = through_dataio_all(flow, frames)
    test_rows = through_dataio(flow, homo_csv("test"), GUEST, "test")
    conf = {**BENCHMARK, "max_iter": 3, "predict_param": {"threshold": 0.7}}

    done = train(flow, broker, tables, conf, TWO_CLIENTS, eval_tables={GUEST: test_rows})

    output, schema = done[GUEST].output()
    assert schema == {"sid": "id", "header": list(output.columns[1:])}
    assert list(output.columns) == ["id", *PREDICTION_COLUMNS]
    assert output["type"].value_counts().to_dict() == {"train": 227, "validate": 114}
    validate = output[output["type"] == "validate"].sort_values("id")
    assert list(validate["label"]) == list(homo_csv("test").sort_values("id")["y"])
    assert list(output["predict_result"]) == list((output["predict_score"] > 0.7).astype(int))
    detail = [json.loads(text) for text in output["predict_detail"]]
    np.testing.assert_allclose([d["1"] for d in detail], output["predict_score"])
    np.testing.assert_allclose([d["0"] for d in detail], 1 - output["predict_score"])
    assert set(done[HOST].output()[0]["type"]) == {"train"}

    meta, param = done[GUEST].model()
    assert meta["optimizer"] == "rmsprop" and meta["aggregateIters"] == "1"
    names = ["iters", "lossHistory", "isConverged", "weight", "intercept", "header"]
    assert list(param) == [*names, "bestIteration"]
    assert len(param["lossHistory"]) == 3
    assert done[ARBITER].summary["loss_history"] == done[ARBITER].model()[1]["lossHistory"]
    assert done[GUEST].metrics() == {}


def test_clients_with_different_features_are_refused(flow: Flow, broker: RunningBroker) -> None:
    frames = client_frames(TWO_CLIENTS)
    frames[HOST] = frames[HOST].drop(columns=["x29"])
    tables = through_dataio_all(flow, frames)

    with pytest.raises(DataError, match="HomoLR's clients train different models: host 10000"):
        train(flow, broker, tables, BENCHMARK, TWO_CLIENTS)


def test_eval_data_with_other_features_is_refused(flow: Flow, broker: RunningBroker) -> None:
    tables = through_dataio_all(flow, client_frames(TWO_CLIENTS))
    test_rows = through_dataio(flow, homo_csv("test").drop(columns=["x0"]), GUEST, "test")

    with pytest.raises(DataError, match="eval_data on guest 9999 has features"):
        train(flow, broker, tables, BENCHMARK, TWO_CLIENTS, eval_tables={GUEST: test_rows})


def test_labels_other_than_0_and_1_are_refused(flow: Flow, broker: RunningBroker) -> None:
    frames = client_frames(TWO_CLIENTS)
    frames[GUEST] = frames[GUEST].assign(y=frames[GUEST]["y"] + 1)
    tables = through_dataio_all(flow, frames)

    with pytest.raises(DataError, match=r"guest 9999 has labels \[1.0, 2.0\]; HomoLR needs 0"):
        train(flow, broker, tables, BENCHMARK, TWO_CLIENTS)


def test_a_single_client_is_refused(flow: Flow, broker: RunningBroker) -> None:
    table = through_dataio(flow, homo_csv("guest"), GUEST, "guest")

    with pytest.raises(ParameterError, match="at least two clients for secure aggregation"):
        train(flow, broker, {GUEST: table}, BENCHMARK, {"guest": [9999], "arbiter": [10000]})


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"encrypt_param": {"method": "Paillier"}}, "secure aggregation instead of encrypting"),
        ({"optimizer": "sqn"}, "optimizer is 'sqn'; use one of ['sgd', 'rmsprop'"),
        ({"validation_freqs": 1}, "leave validation_freqs and early_stopping_rounds null"),
        ({"early_stopping_rounds": 3}, "leave validation_freqs and early_stopping_rounds null"),
        ({"use_proximal": True}, "use_proximal (FedProx) is not supported; set it false"),
        ({"cv_param": {"need_cv": True}}, "need_cv is not supported yet; set it false"),
        ({"multi_class": "ovo"}, "multi_class is 'ovo'; use one of ['ovr']"),
        ({"penalty": "elastic"}, "penalty is 'ELASTIC'; use one of ['L1', 'L2', 'NONE']"),
        ({"batch_size": 0}, "batch_size is 0; use -1 or above 0"),
        ({"aggregate_iters": 0}, "max_iter and aggregate_iters must be at least 1"),
        ({"learning_rate": 0}, "learning_rate must be above 0 and alpha at least 0"),
    ],
)
def test_unsupported_settings_are_refused(conf: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as raised:
        HomoLRParam.from_conf(conf, "homo_lr_0")

    assert message in raised.value.message
    assert raised.value.message.startswith("homo_lr_0")


def test_defaults_and_roles_follow_fate() -> None:
    params, unknown = HomoLRParam.from_conf({"re_encrypt_batches": 2, "mu": 0.1}, "homo_lr_0")

    assert module_roles()["HomoLR"] == frozenset({"guest", "host", "arbiter"})
    assert unknown == []
    assert (params.penalty, params.alpha, params.tol) == ("L2", 1.0, 1e-4)
    assert (params.optimizer, params.decay, params.decay_sqrt) == ("rmsprop", 1, True)
    assert (params.batch_size, params.learning_rate, params.max_iter) == (-1, 0.01, 100)
    assert (params.early_stop, params.aggregate_iters, params.use_proximal) == ("diff", 1, False)
    assert params.encrypt_param["method"] is None
    assert params.metrics == ["auc", "ks"]


def test_the_group_is_rfc_3526s_2048_bit_safe_prime() -> None:
    prime = _secure_aggregation.modp_prime()

    assert prime.bit_length() == 2048
    assert f"{prime:x}".startswith("ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd1")
    assert f"{prime:x}".endswith("15728e5a8aacaa68ffffffffffffffff")
    assert gmpy2.is_prime(prime, 40) and gmpy2.is_prime((prime - 1) // 2, 40)


def test_masks_cancel_exactly_in_the_sum() -> None:
    order = [GUEST, HOST, HOST_2]
    seeds = {(GUEST, HOST): 11, (GUEST, HOST_2): 12, (HOST, HOST_2): 13}

    def others(me: Party) -> dict[Party, int]:
        return {o: seeds.get((me, o)) or seeds[(o, me)] for o in order if o != me}

    masks = [PairwiseMasks(me, others(me), order) for me in order]
    values = np.random.default_rng(0).normal(scale=1e6, size=(3, 50))

    uploads = [m.mask(v, step=4, phase=0) for m, v in zip(masks, values, strict=True)]

    exact = sum(to_fixed_point(v, 3).view(np.int64) for v in values)
    np.testing.assert_array_equal(unmasked_sum(uploads) * 2.0**24, exact.astype(float))
    np.testing.assert_allclose(unmasked_sum(uploads), values.sum(axis=0), rtol=0, atol=2e-7)
    assert not np.array_equal(masks[0].mask(values[0], 5, 0), uploads[0])
    assert not np.array_equal(masks[0].mask(values[0], 4, 1), uploads[0])


def test_too_large_values_are_refused_rather_than_wrapped() -> None:
    with pytest.raises(DataError, match="lower learning_rate or raise alpha"):
        to_fixed_point(np.array([1.0, 2.0**38]), 2)


def test_pairs_agree_on_distinct_seeds_through_the_broker(broker: RunningBroker) -> None:
    order = [GUEST, HOST, HOST_2]
    feds = {party: broker.federation("job", "dh", party, THREE_CLIENTS) for party in order}

    with ThreadPoolExecutor(3) as pool:
        running = {p: pool.submit(PairwiseMasks.agree, feds[p], p, order) for p in order}
        agreed = {party: future.result() for party, future in running.items()}

    assert agreed[GUEST].seeds[HOST] == agreed[HOST].seeds[GUEST]
    assert agreed[GUEST].seeds[HOST_2] == agreed[HOST_2].seeds[GUEST]
    assert agreed[HOST].seeds[HOST_2] == agreed[HOST_2].seeds[HOST]
    seeds = [agreed[GUEST].seeds[HOST], agreed[GUEST].seeds[HOST_2], agreed[HOST].seeds[HOST_2]]
    assert len(set(seeds)) == 3 and all(seed.bit_length() > 200 for seed in seeds)


@pytest.mark.parametrize("offset", [None, -1, -2, 0], ids=["one", "p-1", "not-in-subgroup", "p"])
def test_a_key_outside_the_group_is_refused(broker: RunningBroker, offset: int | None) -> None:
    order = [GUEST, HOST]
    guest, host = (broker.federation("job", "dh", party, TWO_CLIENTS) for party in order)
    # p - 2 = -2 is a non-residue, since 2 is a residue and -1 is not (p = 7 mod 8).
    bad = 1 if offset is None else _secure_aggregation.modp_prime() + offset
    guest.remote(bad, "dh_pubkey", "setup", "host", ["10000"])

    with pytest.raises(DataError, match="guest 9999 sent a Diffie-Hellman key outside"):
        PairwiseMasks.agree(host, HOST, order)
