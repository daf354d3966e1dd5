"""A reproduction run as 2 workers through `keras-gen launch` (subprocesses on free loopback
ports, the helpers of `test_launch.py`), and the checks every such run must pass: exit
status 0, one metrics.json (the chief's, in `--out`; worker 1's private folder gone), 2
replicas. The reproductions' tests then compare its numbers with one process's."""
import json
import os

from tests.distributed.test_launch import _cli, _finish


def launch_two_workers(name, args, out, timeout=900):
    """`keras-gen launch --workers 2 reproduce NAME ARGS --out OUT`: its metrics.json record."""
    out = str(out)
    stdout, _ = _finish(_cli(["launch", "--workers", "2", "reproduce", name, *args, "--out", out]), timeout=timeout)
    assert "[worker 1]" in stdout and f"[worker 0] wrote {os.path.join(out, 'metrics.json')}" in stdout
    found = [os.path.join(d, f) for d, _, files in os.walk(out) for f in files if f == "metrics.json"]
    assert found == [os.path.join(out, "metrics.json")], found
    assert not [d for d in os.listdir(out) if d.startswith(".worker")]  # worker 1 wrote nothing that stays
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    assert metrics["strategy"] == {"name": "multiworker", "replicas": 2}
    return metrics
