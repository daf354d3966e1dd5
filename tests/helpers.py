"""Pieces the test files share: running code in a fresh Python process."""
import atexit
import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Prepended to a script that must prove a SavedModel needs nothing from keras_gen:
# any import of keras_gen in that process fails (an editable install would otherwise
# make it importable whatever PYTHONPATH says).
_BLOCK_KERAS_GEN = '''
import sys as _sys
class _BlockKerasGen:
    def find_spec(self, name, path=None, target=None):
        if name == "keras_gen" or name.startswith("keras_gen."):
            raise ModuleNotFoundError(f"{name} is blocked in this process")
        return None
_sys.meta_path.insert(0, _BlockKerasGen())
'''


# A test's "fresh process" is one of two long-lived Python processes per pytest process,
# started on first use: one where importing keras_gen fails (SavedModel checks), one with
# keras_gen and the CPU split into 2 logical devices (2-replica checks). Each script runs
# there in a new namespace, after `keras.backend.clear_session()`, with its own
# environment additions and working directory. Starting TensorFlow costs ~14 CPU-s on the
# 2-core CI machine and ~20 tests need such a process: one start per kind saves minutes
# of a default run. Scripts take their MirroredStrategy from `get_strategy("mirrored")`,
# the one strategy of the process: two MirroredStrategy objects in one process reuse
# collective instance keys ("Shape mismatch in the collective instance 100").
# `own_process=True` gives a script a new interpreter all to itself.
_SERVER = r"""
import contextlib, io, json, os, sys, traceback
if sys.argv[1] == "blocked":
    exec(sys.argv[2])  # the keras_gen blocker
else:
    from keras_gen.training.strategy import setup_logical_cpus
    setup_logical_cpus(2)
requests = sys.stdin.buffer
replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
sys.stdout = sys.stderr  # stray output of imports must not mix with the replies
for line in requests:
    request = json.loads(line)
    env, cwd = dict(os.environ), os.getcwd()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    out, error = io.StringIO(), None
    try:
        if "keras" in sys.modules:
            sys.modules["keras"].backend.clear_session()
        with contextlib.redirect_stdout(out):
            exec(compile(request["code"], "<fresh-process script>", "exec"), {"__name__": "__main__"})
    except BaseException:
        error = traceback.format_exc()
    finally:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
    replies.write((json.dumps({"stdout": out.getvalue(), "error": error}) + "\n").encode())
"""
_SERVERS = {}


class _Server:
    def __init__(self, kind):
        import tempfile

        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
        if kind == "blocked":
            env.pop("PYTHONPATH", None)
        else:
            env["PYTHONPATH"] = ROOT
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVER, kind, _BLOCK_KERAS_GEN], env=env, cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.pending = b""

    def stderr_tail(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-3000:]

    def call(self, code, env, cwd, timeout):
        import select
        import time

        self.proc.stdin.write((json.dumps({"code": code, "env": env, "cwd": cwd}) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise AssertionError(f"the fresh-process script ran over {timeout} s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    tail = self.stderr_tail()
                    self.close()
                    raise AssertionError(f"the fresh process died:\n{tail}")
                self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for kind, server in list(_SERVERS.items()):
            if server is self:
                del _SERVERS[kind]


def _close_servers():
    for server in list(_SERVERS.values()):
        server.close()


atexit.register(_close_servers)


def run_fresh_python(code, timeout=300, cwd=None, without_keras_gen=False, env_extra=None, own_process=False):
    """Runs `code` in a process that has not imported or trained anything of this one (see
    above) and returns the JSON object it prints on its last line.

    With `without_keras_gen`, importing keras_gen in that process raises. With
    `own_process`, a new interpreter runs only this script.
    """
    code = textwrap.dedent(code)
    if not own_process:
        kind = "blocked" if without_keras_gen else "keras_gen"
        server = _SERVERS.get(kind)
        if server is None or server.proc.poll() is not None:
            server = _SERVERS[kind] = _Server(kind)
        reply = server.call(code, dict(env_extra or {}), cwd or ROOT, timeout)
        assert reply["error"] is None, reply["error"][-3000:]
        return json.loads(reply["stdout"].strip().splitlines()[-1])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if without_keras_gen:
        code = _BLOCK_KERAS_GEN + code
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = ROOT
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd or ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
