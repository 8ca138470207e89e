"""Parties of a job exchanging messages through a real broker on its own event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from fate_nb.federation import Federation, FederationError, FederationTimeout, IntArray
from fate_nb.federation.broker import Broker
from fate_nb.federation.codec import decode

ROLES = {"guest": [9999], "host": [10000, 10001], "arbiter": [10000]}
JOB, COMPONENT = "20261203000000000001", "intersection_0"


class RunningBroker:
    """A broker serving on an event loop in a thread, as it does in the server."""

    def __init__(self) -> None:
        self.broker = Broker()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.socket = str(self.call(self.broker.start()))
        self.parties: list[Federation] = []

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def soon(self, function: Any, *args: Any) -> Any:
        async def run() -> Any:
            return function(*args)

        return self.call(run())

    def party(self, role: str, party_id: int, job_id: str = JOB, timeout: float = 10) -> Federation:
        token = self.soon(self.broker.register, job_id, COMPONENT, role, str(party_id), ROLES)
        party = Federation(self.socket, token, role, str(party_id), ROLES, timeout=timeout)
        self.parties.append(party)
        return party

    def stop(self) -> None:
        for party in self.parties:
            party.close()
        self.call(self.broker.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def running() -> Iterator[RunningBroker]:
    broker = RunningBroker()
    yield broker
    broker.stop()


def test_a_message_reaches_its_receiver_whole(running: RunningBroker) -> None:
    guest, host = running.party("guest", 9999), running.party("host", 10000)
    value = {"ids": IntArray([2**1500, 7]), "x": np.eye(3), "e": 65537}

    guest.remote(value, "guest_pubkey_ids", 0, "host", [10000])
    (received,) = host.get("guest_pubkey_ids", 0, "guest")

    assert received["ids"] == value["ids"]
    np.testing.assert_array_equal(received["x"], np.eye(3))
    assert received["e"] == 65537


def test_a_receiver_may_ask_before_the_message_is_sent(running: RunningBroker) -> None:
    guest, arbiter = running.party("guest", 9999), running.party("arbiter", 10000)

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(arbiter.get_one, "loss", "iter_3", "guest")
        time.sleep(0.2)
        guest.remote(0.25, "loss", "iter_3", "arbiter")

        assert waiting.result(5) == 0.25


def test_each_host_gets_its_own_copy_and_tags_keep_messages_apart(
    running: RunningBroker,
) -> None:
    arbiter = running.party("arbiter", 10000)
    hosts = [running.party("host", 10000), running.party("host", 10001)]

    arbiter.remote("key-1", "paillier_pubkey", 1, "host")
    arbiter.remote("key-2", "paillier_pubkey", 2, "host")

    for host in hosts:
        assert host.get("paillier_pubkey", 2, "arbiter") == ["key-2"]
        assert host.get("paillier_pubkey", 1, "arbiter") == ["key-1"]


def test_values_from_several_parties_come_in_conf_order(running: RunningBroker) -> None:
    guest = running.party("guest", 9999)
    running.party("host", 10001).remote("second", "host_forward", 0, "guest")
    running.party("host", 10000).remote("first", "host_forward", 0, "guest")

    assert guest.get("host_forward", 0, "host") == ["first", "second"]


def test_a_message_that_never_comes_times_out_with_its_name(running: RunningBroker) -> None:
    host = running.party("host", 10000, timeout=0.2)

    with pytest.raises(FederationTimeout) as raised:
        host.get("fore_gradient", 7, "guest")

    assert raised.value.message == (
        "host 10000 waiting for 'fore_gradient' (7) from guest 9999: no message in 0.2 s"
    )


def test_parties_outside_the_job_are_refused(running: RunningBroker) -> None:
    guest = running.party("guest", 9999)
    stranger = Federation(running.socket, "not-a-token", "guest", "9999", ROLES)
    running.parties.append(stranger)

    with pytest.raises(FederationError, match="no party \\['12345'\\] of role 'host'"):
        guest.remote(1, "x", 0, "host", [12345])
    with pytest.raises(FederationError, match="unknown federation token"):
        stranger.remote(1, "x", 0, "host")


def test_messages_of_another_job_do_not_arrive(running: RunningBroker) -> None:
    other_guest = running.party("guest", 9999, job_id="20261203000000000002")
    host = running.party("host", 10000, timeout=0.2)

    other_guest.remote("secret", "x", 0, "host", [10000])

    with pytest.raises(FederationTimeout):
        host.get("x", 0, "guest")


def test_an_ended_job_fails_its_waiting_parties(running: RunningBroker) -> None:
    host = running.party("host", 10000)

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(host.get, "fore_gradient", 0, "guest")
        time.sleep(0.2)
        running.soon(running.broker.drop_job, JOB)

        with pytest.raises(FederationError, match=f"job {JOB} has ended"):
            waiting.result(5)


def test_observers_see_every_message_with_its_route(running: RunningBroker) -> None:
    seen: list[tuple[Any, Any]] = []
    running.broker.observers.append(lambda key, payload: seen.append((key, decode(payload))))

    running.party("guest", 9999).remote([1, 2], "intersect_ids", 0, "host")

    assert seen == [
        ((JOB, COMPONENT, "intersect_ids", "0", "guest", "9999", "host", "10000"), [1, 2]),
        ((JOB, COMPONENT, "intersect_ids", "0", "guest", "9999", "host", "10001"), [1, 2]),
    ]
