"""Runs inside a fate-client virtual environment: executes test code, writes its result as JSON.

Not a test module: ``peer_client.Peer.run`` starts ``<venv>/bin/python driver.py`` with a JSON
request on stdin: ``{"code", "values", "result_path", "repo", "server": {"ip", "port",
"token"}}``. The code runs with ``values`` bound as names and two helpers:
``flow_client()`` (fate-client's own FlowClient for the test server, token added by
``fate_nb.fate_client.add_token``), ``token``, ``is_15`` and ``as_conf(dict)`` (the dict itself
for 1.7+, whose SDK methods take dicts; a JSON file's path for 1.5, whose methods take paths).
Whatever it assigns to ``result`` is written to ``result_path`` as JSON; stdout stays free for
the client's own prints.
"""

import json
import sys
import tempfile


def main() -> None:
    """Read the request, run the code, write ``result``."""
    request = json.load(sys.stdin)
    sys.path.insert(0, request["repo"])
    from fate_nb.fate_client import add_token

    server = request["server"]

    def flow_client():
        from flow_sdk.client import FlowClient

        return add_token(FlowClient(server["ip"], server["port"], "v1"), server["token"])

    is_15 = request["version"].startswith("1.5.")

    def as_conf(data):
        if not is_15:
            return data
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=".", delete=False) as conf:
            json.dump(data, conf)
        return conf.name

    namespace = {
        "flow_client": flow_client,
        "token": server["token"],
        "is_15": is_15,
        "as_conf": as_conf,
        "__name__": "__peer__",
    }
    namespace.update(request["values"])
    exec(compile(request["code"], "<peer test code>", "exec"), namespace)
    with open(request["result_path"], "w") as out:
        json.dump(namespace.get("result"), out, default=repr)


if __name__ == "__main__":
    main()
