"""fate_nb.fate_client in fate-client's own environments: the token on FlowClient and `flow`."""

from __future__ import annotations

from peer_client import Peer


def test_flow_client_without_token_is_told_to_send_one(peer: Peer) -> None:
    reply = peer.run(
        """
        from flow_sdk.client import FlowClient
        result = FlowClient(ip, port, "v1").job.query(job_id="0")
        """,
        ip=peer.ip,
        port=peer.port,
    )
    assert reply["retcode"] == 101
    assert "authentication required" in reply["retmsg"]


def test_add_token_authenticates_a_flow_client(peer: Peer) -> None:
    reply = peer.run(
        """
        from flow_sdk.client import FlowClient
        from fate_nb.fate_client import add_token
        client = FlowClient(ip, port, "v1")
        assert add_token(client, token) is client
        result = client.job.query(job_id="0")
        """,
        ip=peer.ip,
        port=peer.port,
    )
    assert reply["retcode"] != 0
    assert "0" in reply["retmsg"]


def test_add_token_reads_fate_nb_token_and_takes_a_session(peer: Peer) -> None:
    reply = peer.run(
        """
        import os
        import requests
        from fate_nb.fate_client import add_token
        os.environ["FATE_NB_TOKEN"] = token
        session = add_token(requests.Session())
        result = session.post(base_url + "v1/job/query", json={"job_id": "0"}).json()
        """,
        base_url=peer.base_url,
    )
    assert "retcode" in reply


def test_add_token_refuses_other_objects_and_a_missing_token(peer: Peer) -> None:
    reply = peer.run(
        """
        import os
        from flow_sdk.client import FlowClient
        from fate_nb.fate_client import add_token
        os.environ.pop("FATE_NB_TOKEN", None)
        result = []
        for target, given in ((object(), "t"), (FlowClient("127.0.0.1", 1, "v1"), None)):
            try:
                add_token(target, given)
            except (TypeError, ValueError) as error:
                result.append([type(error).__name__, str(error)])
        """
    )
    assert reply[0][0] == "TypeError"
    assert "object" in reply[0][1]
    assert "FlowClient" in reply[0][1]
    assert reply[1][0] == "ValueError"
    assert "FATE_NB_TOKEN" in reply[1][1]


def test_sitecustomize_authenticates_the_flow_cli(flow_cli: Peer) -> None:
    reply = flow_cli.cli("job", "query", "-j", "0")
    assert reply["retcode"] != 0
    assert "0" in reply["retmsg"]
