"""fate-client's flow_sdk FlowClient (1.5.3 and 1.11.3) against fate-nb: each call's own return."""

from __future__ import annotations

from typing import Any

from peer_client import Peer


def test_job_submit_returns_job_id_and_model_info(trained_job: Any) -> None:
    assert trained_job["retcode"] == 0
    assert trained_job["jobId"] == trained_job["data"]["job_id"]
    assert trained_job["data"]["board_url"]
    model_info = trained_job["data"]["model_info"]
    assert model_info["model_id"].startswith("arbiter-10000#guest-9999#host-10000#model")
    assert model_info["model_version"] == trained_job["jobId"]


def test_job_query_lists_every_party_in_success(peer: Peer, trained_job: Any) -> None:
    reply = peer.sdk(
        "result = client.job.query(job_id=job_id)",
        job_id=trained_job["jobId"],
    )
    assert reply["retcode"] == 0, reply
    parties = {(row["f_role"], str(row["f_party_id"])) for row in reply["data"]}
    assert parties == {("guest", "9999"), ("host", "10000"), ("arbiter", "10000")}
    assert {row["f_status"] for row in reply["data"]} == {"success"}
