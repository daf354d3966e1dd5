"""`keras-gen launch --workers N reproduce NAME [options]`: a multi-worker cluster on this machine.

Starts N copies of `keras-gen reproduce NAME [options] --strategy multiworker`, each with
the `TF_CONFIG` of one worker of a cluster on free loopback ports
(`{"cluster": {"worker": ["127.0.0.1:p0", ...]}, "task": {"type": "worker", "index": i}}`),
and prints their output line by line, each line prefixed with `[worker i]`. Worker 0 is
the chief: it alone writes `--out` and the export; the others write to a private folder
that they delete at the end (`keras_gen.training.write_dir`).

When a worker fails (non-zero exit, or killed), the launcher stops the others (SIGTERM,
then SIGKILL after a few seconds) and exits with that worker's status (128 + signal for
a killed one). Every `fit` of a reproduction resumes from its backup, so running the
same launch again continues where the cluster stopped.

On a real cluster there is no launcher: run the same `keras-gen reproduce NAME
--strategy multiworker [options]` on every host, each with its own `TF_CONFIG` (the
same `cluster`, its own `task`), or under Slurm (`srun`, one task per node) without a
`TF_CONFIG`: `keras_gen.training.get_strategy` then asks `SlurmClusterResolver`.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from keras_gen.errors import KerasGenError

HOST = "127.0.0.1"


def free_ports(n, host=HOST):
    """`n` distinct TCP ports that are free on `host` right now (bound together, then released)."""
    sockets = []
    try:
        for _ in range(int(n)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_configs(ports, host=HOST):
    """The `TF_CONFIG` (JSON text) of each worker of a cluster on `host:ports`."""
    cluster = {"worker": [f"{host}:{p}" for p in ports]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(len(ports))]


def worker_command(argv):
    """`python -m keras_gen.cli <argv> --strategy multiworker` (the strategy added if absent).

    Raises:
        KerasGenError: `argv` is not `reproduce NAME ...`, or asks for another strategy.
    """
    argv = list(argv)
    if len(argv) < 2 or argv[0] != "reproduce" or argv[1].startswith("-"):
        raise KerasGenError("launch runs `reproduce NAME [options]`: keras-gen launch --workers N reproduce NAME ...")
    strategy = None
    for i, a in enumerate(argv):
        if a == "--strategy" and i + 1 < len(argv):
            strategy = argv[i + 1]
        elif a.startswith("--strategy="):
            strategy = a.split("=", 1)[1]
    if strategy is None:
        argv += ["--strategy", "multiworker"]
    elif strategy != "multiworker":
        raise KerasGenError(f"launch trains with --strategy multiworker, got --strategy {strategy}")
    return [sys.executable, "-m", "keras_gen.cli", *argv]


def _pump(stream, prefix, sink, lock):
    for line in iter(stream.readline, ""):
        with lock:
            sink.write(f"{prefix} {line}" if line.endswith("\n") else f"{prefix} {line}\n")
            sink.flush()
    stream.close()


def _stop(procs, grace):
    """SIGTERM to every running worker's process group, SIGKILL to those still running after `grace` s."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def _status(code):
    return 128 - code if code < 0 else code  # killed by signal s -> 128 + s, as a shell reports it


def launch(workers, argv, host=HOST, stop_grace=5.0, out=None, err=None):
    """Runs `keras-gen <argv>` as `workers` workers of one cluster; returns the exit status.

    0 when every worker exits 0; otherwise the status of the first worker that failed
    (the others are stopped). Ctrl-C stops every worker and returns 130.
    """
    workers = int(workers)
    if workers < 1:
        raise KerasGenError(f"--workers must be >= 1, got {workers}")
    cmd = worker_command(argv)
    out = out or sys.stdout
    err = err or sys.stderr
    lock = threading.Lock()
    ports = free_ports(workers, host)
    procs, pumps = [], []
    for i, config in enumerate(tf_configs(ports, host)):
        env = dict(os.environ, TF_CONFIG=config, PYTHONUNBUFFERED="1", KERAS_GEN_WORKER=str(i))
        # Each worker in its own process group: stopping it stops whatever it started.
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        procs.append(p)
        with lock:
            out.write(f"[launch] worker {i}: pid {p.pid}, {host}:{ports[i]}{' (chief)' if i == 0 else ''}\n")
            out.flush()
        for stream, sink in ((p.stdout, out), (p.stderr, err)):
            t = threading.Thread(target=_pump, args=(stream, f"[worker {i}]", sink, lock), daemon=True)
            t.start()
            pumps.append(t)
    status = 0
    try:
        while True:
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                i, code = failed[0]
                status = _status(code)
                with lock:
                    err.write(f"[launch] worker {i} exited with status {status}; stopping the other workers "
                              f"(run the same launch again to resume)\n")
                    err.flush()
                _stop(procs, stop_grace)
                break
            if all(c == 0 for c in codes):
                break
            time.sleep(0.2)
    except KeyboardInterrupt:
        _stop(procs, stop_grace)
        status = 130
    for t in pumps:
        t.join(timeout=5)
    return status
