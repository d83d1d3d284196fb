"""What POST /v1/policies/validate costs at its bounds (api/policy_bounds.py),
through the Flask test client in this process (one sync worker's view).
Prints one JSON line.

    .venv/bin/python bench/bench_validate.py [--repeat N]

Cases, each the worst of N runs (seconds):

- ``served``: the shipped set as is (the everyday call; ~2,400 nodes);
- ``nodes_at_bound``: one rules file of flat keys just under MAX_POLICY_NODES
  (every key a schema finding: the loader's worst case per node);
- ``bytes_at_bound``: few nodes, text just under MAX_POLICY_BYTES;
- ``files_at_bound``: MAX_VALIDATE_FILES small files;
- ``over_nodes`` / ``over_bytes``: just past each bound: refused (422 / 413)
  before anything is loaded — what an attacker's request now costs;
- ``attack_2024``: the issue's attack, 49,000 keys in 528 KB (7.5 s before the
  bounds).

Also ``decide_ms_p50``: a decision's latency in the same process between the
validations (a sync worker serves one request at a time; other workers are
unaffected, so this is the floor a caller sees from this one).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from tariff.api import create_app
    home = tempfile.mkdtemp(prefix="tariff-bench-validate-")
    app = create_app({"POLICIES_DIR": str(ROOT / "policies"), "FIXTURES_DIR": "", "DECISION_LOG": "off",
                      "STATE_DIR": os.path.join(home, "state"),
                      "DATABASE_URL": f"sqlite:///{os.path.join(home, 'ledger.sqlite3')}"})
    config = app.config
    client = app.test_client()  # loopback, no key: local mode (admin)
    nodes, size, files = config["MAX_POLICY_NODES"], config["MAX_POLICY_BYTES"], config["MAX_VALIDATE_FILES"]

    flat = lambda n: "rules:\n  - id: r0\n" + "".join(f"    k{i}: v\n" for i in range((n - 4) // 2))  # noqa: E731
    cases = {
        "served": {},
        "nodes_at_bound": {"rules/many.yaml": flat(nodes - 10)},
        "bytes_at_bound": {"rules/long.yaml": "rules: []\n# " + "x" * (size - 200) + "\n"},
        "files_at_bound": {f"rules/f{i}.yaml": "rules: []\n" for i in range(files)},
        "over_nodes": {"rules/many.yaml": flat(nodes + 10)},
        "over_bytes": {"rules/long.yaml": "rules: []\n# " + "x" * (size + 10) + "\n"},
        "attack_2024": {"rules/attack.yaml": "".join(f"k{i}: {i}\n" for i in range(49_000))[:528_000]},
    }
    decision = {"plan": "enterprise_self_serve", "as_of": "2026-04-10",
                "organization": {"term_start": "2026-01-01", "credit_balance": "250.00", "spend": "10.00",
                                 "limit": "1000"},
                "member": {"id": "m-ana", "role": "member", "spend": "5.00", "limit": "50"},
                "event": {"type": "usage_precheck", "product": "chat"}}
    out: dict = {"bench": "validate", "max_policy_nodes": nodes, "max_policy_bytes": size,
                 "max_validate_files": files, "timeout_s": config["VALIDATE_TIMEOUT_S"]}
    statuses, decide_ms = {}, []
    for name, body in cases.items():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.post("/v1/policies/validate", json={"files": body})
            times.append(time.perf_counter() - started)
            statuses[name] = response.status_code
            started = time.perf_counter()
            assert client.post("/v1/decisions", json=decision).status_code == 200
            decide_ms.append((time.perf_counter() - started) * 1000)
        out[f"{name}_s"] = round(max(times), 4)
    out["status"] = statuses
    out["decide_ms_p50"] = round(statistics.median(decide_ms), 3)
    out["load_avg_1m"] = os.getloadavg()[0]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
