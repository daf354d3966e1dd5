"""The keras-gen command: listing, and one clear line (exit 2) for every user error."""
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_gen import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GMA = "group-meeting-autoencoder"


def run_cli(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_shows_every_reproduction_with_a_description(capsys):
    from reproductions import REPRODUCTIONS

    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == len(REPRODUCTIONS)
    assert any(l.startswith(GMA) and "23,616" in l for l in lines)


def _npy(tmp_path, name, array):
    path = tmp_path / name
    np.save(path, array)
    return str(path)


@pytest.mark.parametrize(
    "args, message",
    [
        (["reproduce", "no-such-thing"], "unknown reproduction 'no-such-thing'; choose one of: "),
        (["reproduce", GMA, "--rows", "diagonal"], "unknown rows 'diagonal'; choose one of: frames, staves"),
        (["reproduce", GMA, "--strategy", "tpu"], "unknown strategy 'tpu'"),
        (["reproduce", GMA, "--midi-dir", "/no/such/folder"], "MIDI folder not found: /no/such/folder"),
        (["reproduce", GMA, "--data", "/no/such/rolls.npy"], "data file not found: /no/such/rolls.npy"),
        (["reproduce", GMA, "--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["reproduce", "dcgan-mnist", "--latent-dim", "-1"], "--latent-dim must be >= 1, got -1"),
        (["reproduce", "dcgan-mnist", "--label-smoothing", "1.5"], "--label-smoothing must be < 1, got 1.5"),
        (["reproduce", "dcgan-mnist", "--eval-split", "train"], "unknown eval split 'train'; choose one of: test, validation"),
        (["reproduce", GMA, "--seeds", "1,x"], "--seeds must be comma-separated integers, got '1,x'"),
        (["reproduce", GMA, "--precision", "half"], "unknown precision 'half'"),
        (["export", GMA, "--from", "/no/such/run"], "no trained model at /no/such/run"),
    ],
)
def test_user_errors_are_one_line(capsys, tmp_path, args, message):
    args = [a.replace("OUT", str(tmp_path)) for a in args] + (["--out", str(tmp_path / "o")] if args[0] == "reproduce" and len(args) > 2 else [])
    code, _, err = run_cli(capsys, *args)
    assert code == cli.EXIT_USER_ERROR
    assert err.startswith("keras-gen: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_a_bad_xla_switch_is_one_line_before_any_work(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_XLA", "sometimes")
    code, _, err = run_cli(capsys, "reproduce", GMA, "--out", str(tmp_path / "o"))
    assert code == cli.EXIT_USER_ERROR and len(err.strip().splitlines()) == 1
    assert err.startswith("keras-gen: error: KERAS_GEN_XLA must be 'on' or 'off', got 'sometimes'")
    assert not (tmp_path / "o" / "metrics.json").exists()


def test_bad_data_files_are_named(capsys, tmp_path):
    wrong_shape = _npy(tmp_path, "wrong.npy", np.zeros((20, 3, 88), np.float32))
    with_nan = np.zeros((20, 2, 88, 1), np.float32)
    with_nan[3, 1, 40, 0] = np.nan
    nan_path = _npy(tmp_path, "nan.npy", with_nan)
    strings = _npy(tmp_path, "text.npy", np.array(["a", "b"]))
    out_of_range = _npy(tmp_path, "range.npy", np.full((20, 2, 88), 3.0, np.float32))
    empty = _npy(tmp_path, "empty.npy", np.zeros((0, 2, 88), np.float32))
    for path, message in [
        (empty, "has 0 rolls; need at least 10"),
        (wrong_shape, "has shape [20, 3, 88, 1]; expected [b, 2, 88, 1]"),
        (nan_path, "contains 1 NaN or infinite values"),
        (strings, "has dtype <U1; expected numbers"),
        (out_of_range, "has values in [3, 3]; piano rolls must be in [0, 1]"),
    ]:
        code, _, err = run_cli(capsys, "reproduce", GMA, "--data", path, "--out", str(tmp_path / "o"))
        assert code == cli.EXIT_USER_ERROR, err
        assert message in err and len(err.strip().splitlines()) == 1


def test_installed_command_exits_nonzero_without_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run([sys.executable, "-m", "keras_gen.cli", "reproduce", "wgan-everything"],
                         capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip() == ("keras-gen: error: unknown reproduction 'wgan-everything'; choose one of: "
                                  + ", ".join(sorted(__import__("reproductions").REPRODUCTIONS)))


def test_reproduce_help_lists_the_hparams(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["reproduce", GMA, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--epochs", "--batch-size", "--l1", "--l2", "--rows", "--seed", "--out", "--strategy", "--midi-dir"):
        assert flag in out


@pytest.mark.parametrize("name", sorted(__import__("reproductions").REPRODUCTIONS))
def test_every_reproduction_has_a_working_help(name, capsys):
    """Every HParams field becomes an option; help strings may contain % (argparse formats them)."""
    import dataclasses
    import importlib

    module = importlib.import_module(__import__("reproductions").REPRODUCTIONS[name][0])
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["reproduce", name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for field in dataclasses.fields(module.HParams):
        assert "--" + field.name.replace("_", "-") in out, (name, field.name)


HIDE_TENSORFLOW = r"""
import sys
class HideTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, HideTensorFlow())
"""
IMPORT_WITHOUT_TF = HIDE_TENSORFLOW + r"""
import keras_gen  # the package itself imports: `keras-gen list` needs nothing more
try:
    import keras_gen.models
except ImportError as err:
    print("IMPORTERROR", err)
"""


def test_import_without_tensorflow_says_which_extra_to_install():
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", IMPORT_WITHOUT_TF], capture_output=True, text=True, env=env)
    assert "IMPORTERROR" in out.stdout, out.stderr
    assert ".[cpu]" in out.stdout and ".[gpu]" in out.stdout


@pytest.mark.parametrize("args, code", [(["list"], 0), (["reproduce", "dcgan-mnist"], 2),
                                        (["export", "dcgan-mnist", "--from", "x"], 2)])
def test_command_without_tensorflow_lists_or_says_so_in_one_line(args, code):
    script = HIDE_TENSORFLOW + f"from keras_gen.cli import main; sys.exit(main({args!r}))"
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr
    if code == 0:
        assert "dcgan-mnist" in out.stdout
    else:
        assert out.stderr.strip().count("\n") == 0 and "keras-gen: error: keras_gen needs TensorFlow" in out.stderr
