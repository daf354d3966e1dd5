"""Pieces the test files share: running code in a fresh Python process."""
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


def run_fresh_python(code, timeout=300, cwd=None, without_keras_gen=False, env_extra=None):
    """Runs `code` in a new interpreter (TensorFlow not yet initialised, so it may set up
    logical devices) and returns the JSON object it prints on its last line.

    With `without_keras_gen`, importing keras_gen in that process raises.
    """
    code = textwrap.dedent(code)
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
