"""Wall time of every reproduction as one process and as a two-worker cluster on this machine.

For each reproduction of `keras-gen list`, a short configuration (`SHORT` below) is run
twice, one run after the other, never two at once:

    1 process    keras-gen reproduce NAME <short options> --out DIR/NAME/1p
    2 workers    keras-gen launch --workers 2 reproduce NAME <short options> --out DIR/NAME/2w

The launcher starts two `keras-gen reproduce ... --strategy multiworker` processes with
the `TF_CONFIG` of one worker each (it adds `--strategy multiworker` itself, so the
benchmark does not pass it) on loopback ports: a MultiWorkerMirroredStrategy cluster of
two replicas sharing this machine's cores. A reproduction with an `--export-dir` option
is also given `--export-dir DIR/NAME/<1p|2w>/saved_models`, so nothing lands in
`saved_models/` even where an export is not switched off by `--no-export`. Both runs get the
same environment: this process's, with `TF_CPP_MIN_LOG_LEVEL=2` (less noise) and
`PYTHONUNBUFFERED=1` (what the launcher gives its workers anyway). Each run starts from an
empty `--out` (a reproduction resumes from what it finds there, which would skip work).

A short configuration keeps a reproduction's models and data at their real sizes and
trains much less: one report seed (`--seeds 10`), one or two epochs or a few hundred
steps, and one setting where the reproduction sweeps (one learning rate, one model of a
models list, one beta pair, ...). They were sized from the per-epoch times in the
TensorBoard logs of full default runs, to take roughly 20-90 s as one process on a quiet
2-core machine; evaluation is left as the reproduction does it, so in some rows
(vae-mnist's IWAE bound, rbm-digits' AIS, the digit GANs' scores) scoring takes longer
than training. `--check` parses every entry exactly as `keras-gen reproduce` does
(`keras_gen.cli`'s options from the module's `HParams`, then
`reproductions.common.validate`), also the argument list each launched worker gets, and
checks that `SHORT` names exactly the reproductions of `keras-gen list`; it trains nothing.

Per run: wall seconds (`time.perf_counter` around the child process, from start to exit),
CPU seconds of the run's processes (user + sys of the waited-for children, workers
included), exit status, the load average before it started, and from a successful run's
`metrics.json` its `strategy` (replicas), `claims_met`, `xla` and `reused_parts`. The ratio
is 2 workers / 1 process: above 1 the cluster is slower. Two workers on the same 2 cores
do not add compute; the ratio measures what the multi-worker path costs (two TensorFlow
runtimes, gradients all-reduced over loopback gRPC, the workers agreeing through collectives
on what is finished before every part and `fit`, and everything outside `fit` (data
loading, evaluation, figures) done by both workers).
Train steps also compile with XLA only on a single replica (`jit_compile_for`), so a
1-process run may use XLA where the 2-worker run cannot. The notes column marks:

    one device    the reproduction cannot use replicas (`common.one_device_only`): under
                  the launcher the chief runs it alone on one device and worker 1 ends at
                  once with one line; its 2-worker run is expected to succeed with one
                  replica (a run with 2 replicas, or a failure, is a benchmark failure)
    no fit        nothing is trained with TensorFlow: both workers do the same work
    local fit     models are fitted outside the strategy's scope: each worker trains its
                  own copy, nothing is distributed

The machine's speed drifts with other jobs (compare the recorded load averages and CPU
seconds before reading much into a ratio).

    PYTHONPATH=. .venv/bin/python benchmarks/multiworker_walltime.py [--only a,b] [--skip a,b] [--out DIR]
                                                                      [--timeout 900]
    PYTHONPATH=. .venv/bin/python benchmarks/multiworker_walltime.py --check

Writes `DIR/walltime.json` (default DIR: /tmp/keras_gen_walltime; rows of earlier
invocations into the same DIR are kept, this invocation's replace theirs), the runs in
`DIR/NAME/1p` and `DIR/NAME/2w` with their logs `DIR/NAME/1p.log` and `DIR/NAME/2w.log`,
and prints a markdown table. A run over `--timeout` seconds is stopped with its process
group (and the workers a launcher started) and recorded as a timeout. All 32 should take
one to two hours. Exit status 1 when a run failed or timed out, or a
one-device reproduction ran with more than one replica; 2 for a bad option or name.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

DEFAULT_OUT = "/tmp/keras_gen_walltime"
DEFAULT_TIMEOUT = 900.0
WORKERS = 2
MODES = ("1p", "2w")

# ---------------------------------------------------------------- the short configurations
# What is cut, against the defaults (every entry: one report seed instead of three or ten).
SHORT = {
    # 3 epochs of 576 steps -> 1
    "group-meeting-autoencoder": ["--seeds", "10", "--epochs", "1", "--no-export"],
    # up to 200 epochs (early stopping) -> 2; the IWAE bound (k = 500) dominates
    "vae-mnist": ["--seeds", "10", "--epochs", "2", "--no-export"],
    # up to 40 epochs -> 2
    "cvae-mnist": ["--seeds", "10", "--epochs", "2", "--no-export"],
    # betas 1,4,10 -> 1,4 (it needs two to compare); 30 epochs -> 2
    "beta-vae-disentanglement": ["--seeds", "10", "--betas", "1,4", "--epochs", "2"],
    # up to 40 epochs (AAE and the plain AE baseline) -> 2
    "aae-mnist": ["--seeds", "10", "--epochs", "2", "--no-export"],
    # 20 epochs of the VAE and of the DCGAN -> 1
    "vae-vs-gan-sharpness": ["--seeds", "10", "--epochs", "1"],
    # data scales given,none -> given; 4,000 generator steps -> 400
    "gan-1d-equilibrium": ["--seeds", "10", "--data-scales", "given", "--steps", "400"],
    # 6,000 toy steps -> 600, 600 digits steps -> 60
    "gmmn": ["--seeds", "10", "--steps", "600", "--digits-steps", "60"],
    # 20 epochs -> 1; AIS (10,000 temperatures) unchanged
    "rbm-digits": ["--seeds", "10", "--epochs", "1", "--no-export"],
    # 40 epochs -> 4
    "optimal-discriminator": ["--seeds", "10", "--epochs", "4"],
    # 1,500 critic and discriminator steps (per theta bank) -> 200
    "disjoint-supports": ["--seeds", "10", "--critic-steps", "200", "--discriminator-steps", "200"],
    # already short (300 steps of a scalar game); seed-free
    "minmax-vs-maxmin": ["--seeds", "10"],
    # models gan,wgan,wgan_gp -> wgan_gp; a 4-rate sweep -> 1e-3 (its chosen rate; no sweep); 5,000 steps -> 500
    "gan-vs-wgan-gp-ring": ["--seeds", "10", "--models", "wgan_gp", "--learning-rates", "1e-3", "--steps", "500"],
    # 60 epochs -> 1
    "dcgan-mnist": ["--seeds", "10", "--epochs", "1", "--no-export"],
    # models wgan,wgan_gp -> wgan; 5,000 generator iterations in 25 epochs -> 100 in 2
    # (the S1 feature autoencoder still trains its 3 epochs: a fixed recipe)
    "wgan-piano-roll": ["--seeds", "10", "--models", "wgan", "--generator-iterations", "100", "--epochs", "2",
                        "--no-export"],
    # 40 epochs -> 1
    "cgan-mnist": ["--seeds", "10", "--epochs", "1", "--no-export"],
    "acgan-mnist": ["--seeds", "10", "--epochs", "1", "--no-export"],
    # 45 epochs -> 1
    "infogan-mnist": ["--seeds", "10", "--epochs", "1", "--no-export"],
    # 4 settings -> baseline (so no claim: they compare a trick with the baseline);
    # 3 sweep rates -> 2e-4 (the sweep run still trains once); 10 epochs -> 1
    "gan-tricks-ablation": ["--seeds", "10", "--settings", "baseline", "--learning-rates", "2e-4", "--epochs", "1"],
    # 50 runs of 500 episodes per seed, unchanged (tabular, NumPy)
    "cliff-walking": ["--seeds", "10"],
    # 50,000 environment steps -> 10,000
    "dqn-cartpole": ["--seeds", "10", "--total-steps", "10000", "--no-export"],
    # latent dims 16,50 -> 16; 40 epochs -> 1
    "bigan-mnist": ["--seeds", "10", "--latent-dims", "16", "--epochs", "1", "--no-export"],
    # 30 / 8 / 5 epochs (softmax, CNN, adversarial training) -> 2 / 1 / 1; the accuracy
    # curves' budgets -> the claims' budgets only
    "adversarial-digits": ["--seeds", "10", "--softmax-epochs", "2", "--cnn-epochs", "1", "--adv-epochs", "1",
                           "--linf-curve", "0.3", "--l2-curve", "3"],
    # models rnn,lstm,gru -> lstm; 2,000 steps -> 300
    "long-term-dependencies": ["--seeds", "10", "--models", "lstm", "--steps", "300"],
    # models lstm,gru,transformer -> lstm (one part: trained in this process whatever --jobs); 25 epochs -> 2
    "seq2seq-addition": ["--seeds", "10", "--models", "lstm", "--rnn-epochs", "2", "--no-export"],
    # unchanged (layer-graph arithmetic on the four networks, gradients of a small one)
    "cnn-arithmetic": ["--seeds", "10"],
    # unchanged (least squares, and 2-epoch fits that count train steps)
    "bias-variance-and-validation": ["--seeds", "10"],
    # 2,000 steps -> 500; the same-rate sweep 0.1,0.5,2,8 -> 2
    "batch-norm-digits": ["--seeds", "10", "--steps", "500", "--sweep-learning-rates", "2"],
    # 100 epochs of 35 steps -> 10
    "ce-vs-mse": ["--seeds", "10", "--epochs", "10"],
    # 1,000 GD steps -> 300, SGD at most 100 epochs -> 10; digits: 3 epochs -> 1, an 8-rate sweep -> 0.01
    "critical-points-and-sharpness": ["--seeds", "10", "--gd-steps", "300", "--sgd-max-epochs", "10",
                                      "--digits-epochs", "1", "--digits-rates", "0.01"],
    # models gcn,gat,sage -> gcn (200 full-graph steps, unchanged)
    "graph-spectra-karate": ["--seeds", "10", "--models", "gcn"],
    # models gcn,gat,sage,mlp -> gcn (up to 200 epochs, early stopping)
    "gnn-cora": ["--seeds", "10", "--models", "gcn", "--no-export"],
}

# Refuse any strategy but the default (`common.one_device_only`): their 2-worker run must exit 2.
ONE_DEVICE = ("critical-points-and-sharpness", "dqn-cartpole", "gnn-cora", "graph-spectra-karate")
# Train nothing with TensorFlow.
NO_FIT = ("cliff-walking", "cnn-arithmetic")
# Fit models built outside `r.strategy.scope()`: every worker trains its own copy.
LOCAL_FIT = ()  # none since every reproduction builds its models in the strategy scope

# List options that `common.validate` leaves as text and the reproduction parses in `run`:
# parsed here by the module's own helper, so `--check` catches a bad item too.
EXTRA_CHECKS = {
    "beta-vae-disentanglement": lambda m, hp: m.parse_betas(hp.betas),
    "gan-tricks-ablation": lambda m, hp: m.parse_rates(hp.learning_rates),
    "gan-vs-wgan-gp-ring": lambda m, hp: (m.floats(hp.learning_rates, "learning_rates"),
                                          _disjoint_seeds(hp.seeds, hp.selection_seeds)),
    "gmmn": lambda m, hp: (m.floats(hp.bandwidths, "bandwidths"), m.floats(hp.digits_bandwidths, "digits_bandwidths")),
    "critical-points-and-sharpness": lambda m, hp: m.parse_rates(hp.digits_rates),
    "adversarial-digits": lambda m, hp: (m._budgets(hp.linf_curve, "linf_curve"), m._budgets(hp.l2_curve, "l2_curve")),
    "bigan-mnist": lambda m, hp: _positive_ints(hp.latent_dims, "latent_dims"),
}


def _disjoint_seeds(seeds, selection_seeds):
    from keras_gen.errors import KerasGenError
    from reproductions.common import parse_int_list

    both = set(parse_int_list(seeds, "seeds")) & set(parse_int_list(selection_seeds, "selection_seeds"))
    if both:
        raise KerasGenError(f"--selection-seeds and --seeds share {sorted(both)}")


def _positive_ints(text, option):
    from keras_gen.errors import KerasGenError
    from reproductions.common import parse_int_list

    if min(parse_int_list(text, option)) < 1:
        raise KerasGenError(f"--{option.replace('_', '-')} must be positive integers, got {text!r}")


def kind_of(name):
    if name in ONE_DEVICE:
        return "one device"
    if name in NO_FIT:
        return "no fit"
    if name in LOCAL_FIT:
        return "local fit"
    return "fit"


# ---------------------------------------------------------------- commands
def keras_gen():
    """The `keras-gen` command of this Python (the venv's script, else `python -m keras_gen.cli`)."""
    script = os.path.join(os.path.dirname(sys.executable), "keras-gen")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "keras_gen.cli"]


def environment():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")


def listed_names():
    """The reproductions `keras-gen list` prints, in its order."""
    res = subprocess.run(keras_gen() + ["list"], cwd=REPO, env=environment(), capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"`keras-gen list` failed (exit {res.returncode}): {res.stderr.strip()}")
    return [line.split()[0] for line in res.stdout.splitlines() if line.strip()]


def run_dir(out, name, mode):
    return os.path.join(out, name, mode)


def reproduce_args(name, out, mode, has_export_dir):
    """`reproduce NAME <short options> --out DIR/NAME/<mode> [--export-dir ...]`."""
    folder = run_dir(out, name, mode)
    args = ["reproduce", name, *SHORT[name], "--out", folder]
    if has_export_dir:
        args += ["--export-dir", os.path.join(folder, "saved_models")]
    return args


def command(name, out, mode, has_export_dir):
    args = reproduce_args(name, out, mode, has_export_dir)
    if mode == "1p":
        return keras_gen() + args
    return keras_gen() + ["launch", "--workers", str(WORKERS)] + args


# ---------------------------------------------------------------- checking the options
class OptionError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # report, do not exit
        raise OptionError(message)


def hparams(name, argv):
    """`(module, HParams)` exactly as `keras-gen reproduce NAME <argv>` builds and checks them.

    Raises:
        OptionError: an unknown option or a value of the wrong type (argparse's message).
        KerasGenError: a value `common.validate` (or `EXTRA_CHECKS`) rejects.
    """
    from keras_gen.cli import _add_hparam_options, _module
    from reproductions.common import validate

    module = _module(name)
    parser = _Parser(prog=f"keras-gen reproduce {name}", add_help=False)
    _add_hparam_options(parser, module.HParams)
    # argparse would take `--epoch` for `--epochs`; an abbreviation breaks when a field is added
    abbreviated = [a for a in argv if a.startswith("--") and a.split("=")[0] not in parser._option_string_actions]
    if abbreviated:
        raise OptionError(f"not an option's full name: {' '.join(abbreviated)}")
    hp = module.HParams(**vars(parser.parse_args(argv)))
    validate(hp)
    if name in EXTRA_CHECKS:
        EXTRA_CHECKS[name](module, hp)
    return module, hp


def has_export_dir(module):
    import dataclasses

    return any(f.name == "export_dir" for f in dataclasses.fields(module.HParams))


def check_entry(name, out):
    """Checks SHORT[name] as the 1-process run and as each launched worker get it; returns a problem or None."""
    from keras_gen.errors import KerasGenError
    from keras_gen.launch import worker_command

    bad = [o for o in SHORT[name] if o.split("=")[0] in ("--out", "--strategy", "--export-dir")]
    if bad:
        return f"the benchmark sets {', '.join(bad)} itself; remove it from SHORT"
    try:
        module, _ = hparams(name, SHORT[name])
        export_dir = has_export_dir(module)
        _, hp1 = hparams(name, reproduce_args(name, out, "1p", export_dir)[2:])
        worker_argv = worker_command(reproduce_args(name, out, "2w", export_dir))[3:]  # after `python -m keras_gen.cli`
        _, hp2 = hparams(name, worker_argv[2:])
    except (OptionError, KerasGenError, TypeError, ValueError) as err:
        return f"{type(err).__name__}: {err}"
    if hp1.strategy != "default" or hp2.strategy != "multiworker":
        return f"strategies {hp1.strategy!r} / {hp2.strategy!r}, expected 'default' / 'multiworker'"
    if export_dir and not (hp1.export_dir.startswith(out) and hp2.export_dir.startswith(out)):
        return "an export would land outside --out"
    import inspect

    source = inspect.getsource(module)
    if ("one_device_only(" in source) != (name in ONE_DEVICE):
        return f"ONE_DEVICE is out of date: the module {'calls' if name not in ONE_DEVICE else 'no longer calls'} " \
               "common.one_device_only"
    if name in NO_FIT and (".fit(" in source or "fit_digit_gan" in source):
        return "NO_FIT is out of date: the module fits a model"
    if name in LOCAL_FIT and ("strategy" in source or ".fit(" not in source):
        return "LOCAL_FIT is out of date: the module fits under the strategy, or not at all"
    return None


def check(names, out):
    """Prints one line per SHORT entry; returns the number of problems."""
    problems, ok = 0, 0
    listed = set(names)
    for name in names:
        if name not in SHORT:
            print(f"FAIL {name}: in `keras-gen list` but not in SHORT")
            problems += 1
            continue
        problem = check_entry(name, out)
        if problem:
            problems += 1
            print(f"FAIL {name}: {problem}")
        else:
            ok += 1
            print(f"ok   {name:<30} [{kind_of(name)}] {' '.join(SHORT[name])}")
    for name in SHORT:
        if name not in listed:
            print(f"FAIL {name}: in SHORT but not in `keras-gen list`")
            problems += 1
    if set(ONE_DEVICE + NO_FIT + LOCAL_FIT) - set(SHORT):
        print(f"FAIL ONE_DEVICE/NO_FIT/LOCAL_FIT name something not in SHORT: "
              f"{sorted(set(ONE_DEVICE + NO_FIT + LOCAL_FIT) - set(SHORT))}")
        problems += 1
    covered = "exactly" if listed == set(SHORT) else "NOT exactly"
    print(f"\nSHORT has {len(SHORT)} entries and covers {covered} the {len(names)} reproductions of `keras-gen list`; "
          f"{ok} entries parse and validate as `keras-gen reproduce` and its launched workers get them; "
          f"{problems} problem(s)")
    return problems


# ---------------------------------------------------------------- running
WORKER_PID = re.compile(r"\[launch\] worker \d+: pid (\d+)")
WORKER_PREFIX = re.compile(r"^\[worker \d+\] ")


def _children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _ours(pid):
    """Whether `pid` is still a keras-gen process (a launcher's worker this benchmark started)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"keras_gen.cli" in f.read()
    except OSError:
        return False


def _stop(proc, log_path, grace=15.0):
    """Stops a run and everything it started.

    SIGINT to its process group first: `keras-gen launch` then stops its workers (each in
    its own session) and a single process exits as after Ctrl-C; SIGKILL to the group
    after `grace` s; then SIGKILL to any worker (pids from the launcher's log) still there.
    """
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        try:  # the group may outlive its leader
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        break
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            pids = [int(m.group(1)) for m in WORKER_PID.finditer(f.read())]
    except OSError:
        pids = []
    for pid in pids:
        if _ours(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    proc.wait()


def error_line(log_path):
    """The run's one-line error: the first `keras-gen: error:` line, else the last line naming an error."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = [WORKER_PREFIX.sub("", ln.rstrip()) for ln in f if ln.strip()]
    except OSError:
        return "no log"
    for ln in lines:
        if "keras-gen: error:" in ln:
            return ln.strip()
    for ln in reversed(lines):
        if re.search(r"\w*(Error|Exception)\b", ln) and not ln.startswith(("I0000", "W0000", "[launch]")):
            return ln.strip()
    return lines[-1].strip() if lines else "no output"


def read_metrics(folder):
    try:
        with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError):
        return {}
    return {k: m.get(k) for k in ("strategy", "claims_met", "xla", "reused_parts", "seconds")}


def measure(name, out, mode, has_export, timeout):
    """Runs one command (from an empty `--out`); returns its record."""
    folder = run_dir(out, name, mode)
    log_path = os.path.join(out, name, f"{mode}.log")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    cmd = command(name, out, mode, has_export)
    record = {"command": cmd, "log": log_path, "out": folder, "load_avg_before": [round(x, 2) for x in os.getloadavg()]}
    timed_out = False
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        cpu0 = _children_cpu()
        start = time.perf_counter()
        # Its own session: a timeout stops the whole group, not this benchmark.
        proc = subprocess.Popen(cmd, cwd=REPO, env=environment(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(proc, log_path)
        except KeyboardInterrupt:
            _stop(proc, log_path)
            raise
        wall = time.perf_counter() - start
        cpu = _children_cpu() - cpu0
    record.update(wall_s=round(wall, 1), cpu_s=round(cpu, 1), exit=proc.returncode, timed_out=timed_out)
    if proc.returncode == 0 and not timed_out:
        record.update(read_metrics(folder))
        record["error"] = None
    else:
        record["error"] = f"timed out after {timeout:g} s" if timed_out else error_line(log_path)
    return record


def judge(name, runs):
    """`(ok, note, ratio)` of one reproduction's two runs."""
    one, two = runs["1p"], runs["2w"]
    notes, ok = [], True
    kind = kind_of(name)
    if one["exit"] != 0 or one["timed_out"]:
        ok = False
        notes.append(f"1 process failed: {one['error']}")
    elif (one.get("strategy") or {}).get("replicas") != 1:
        notes.append(f"1 process ran {(one.get('strategy') or {}).get('replicas')} replicas")
    if kind == "one device":
        replicas = (two.get("strategy") or {}).get("replicas")
        if two["exit"] != 0 or two["timed_out"]:
            ok = False
            notes.append(f"2 workers failed: {two['error']}")
        elif replicas != 1:
            ok = False
            notes.append(f"expected the chief alone (1 replica) under 2 workers, got {replicas}")
        else:
            notes.append("one device: the chief ran it alone, worker 1 ended at once")
    else:
        if kind != "fit":
            notes.insert(0, kind)
        if two["exit"] != 0 or two["timed_out"]:
            ok = False
            notes.append(f"2 workers failed: {two['error']}")
        elif (two.get("strategy") or {}).get("replicas") != WORKERS:
            notes.append(f"2 workers ran {(two.get('strategy') or {}).get('replicas')} replicas")
    for mode, label in (("1p", "1 process"), ("2w", "2 workers")):
        if runs[mode].get("reused_parts"):
            notes.append(f"{label} reused {runs[mode]['reused_parts']}")
    both = all(r["exit"] == 0 and not r["timed_out"] for r in runs.values())
    ratio = round(two["wall_s"] / one["wall_s"], 2) if both and one["wall_s"] > 0 else None
    return ok, "; ".join(notes), ratio


def _cell(run):
    if run["timed_out"]:
        return f"timeout ({run['wall_s']:.0f})"
    if run["exit"] != 0:
        return f"{run['wall_s']:.1f} (exit {run['exit']})"
    return f"{run['wall_s']:.1f}"


def table(rows):
    lines = ["| reproduction | short options | 1 process s | 2 workers s | ratio | note |",
             "|---|---|---:|---:|---:|---|"]
    for name, row in rows:
        esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        lines.append(f"| {name} | `{' '.join(row['options'])}` | {_cell(row['runs']['1p'])} | "
                     f"{_cell(row['runs']['2w'])} | {ratio} | {esc(row['note'])} |")
    return "\n".join(lines)


def load_results(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_results(path, results, args):
    results.update(benchmark="multiworker_walltime", updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                   python=sys.executable, cpu_count=os.cpu_count(), workers=WORKERS, timeout_s=args.timeout,
                   environment={"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"})
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    os.replace(tmp, path)


def select(names, only, skip):
    """The reproductions to run, in `keras-gen list` order; raises OptionError for an unknown name."""
    def items(text, option):
        chosen = [s.strip() for s in text.split(",") if s.strip()]
        unknown = [s for s in chosen if s not in names]
        if unknown:
            raise OptionError(f"--{option}: unknown reproduction(s) {', '.join(unknown)}; see `keras-gen list`")
        return chosen

    picked = items(only, "only") if only else list(names)
    dropped = set(items(skip, "skip")) if skip else set()
    return [n for n in names if n in picked and n not in dropped]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                epilog="See the module docstring (benchmarks/multiworker_walltime.py) for details.")
    p.add_argument("--only", default="", help="comma-separated reproductions to run (default: all)")
    p.add_argument("--skip", default="", help="comma-separated reproductions to leave out")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"folder of the runs and walltime.json (default: {DEFAULT_OUT})")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"seconds per run before it is stopped (default: {DEFAULT_TIMEOUT:g})")
    p.add_argument("--check", action="store_true",
                   help="only check SHORT: every entry's options as the CLI parses and validates them, and that it "
                        "names exactly the reproductions of `keras-gen list`; trains nothing")
    args = p.parse_args(argv)
    out = os.path.abspath(args.out)
    names = listed_names()
    if args.check:
        return 1 if check(names, out) else 0

    try:
        chosen = select(names, args.only, args.skip)
    except OptionError as err:
        print(f"multiworker_walltime: error: {err}", file=sys.stderr)
        return 2
    problems = {n: check_entry(n, out) if n in SHORT else "not in SHORT" for n in chosen}
    bad = {n: pr for n, pr in problems.items() if pr}
    if bad:
        for n, pr in bad.items():
            print(f"multiworker_walltime: error: {n}: {pr}", file=sys.stderr)
        return 2
    from keras_gen.cli import _module

    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "walltime.json")
    results = load_results(path)
    results.setdefault("reproductions", {})
    rows, failed = [], []
    print(f"{len(chosen)} reproduction(s), 1 process then {WORKERS} workers each; runs and logs in {out}", flush=True)
    try:
        for i, name in enumerate(chosen, 1):
            export = has_export_dir(_module(name))
            runs = {}
            for mode in MODES:
                print(f"[{i}/{len(chosen)}] {name} {mode}: {' '.join(command(name, out, mode, export))}", flush=True)
                runs[mode] = measure(name, out, mode, export, args.timeout)
                r = runs[mode]
                extra = (f"{(r.get('strategy') or {}).get('replicas')} replica(s), claims {r.get('claims_met')}"
                         if r["exit"] == 0 and not r["timed_out"] else r["error"])
                print(f"    {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, exit {r['exit']}: {extra}", flush=True)
            ok, note, ratio = judge(name, runs)
            row = {"options": SHORT[name], "kind": kind_of(name), "runs": runs, "ratio": ratio, "note": note, "ok": ok}
            results["reproductions"][name] = row
            save_results(path, results, args)
            rows.append((name, row))
            if not ok:
                failed.append(name)
    except KeyboardInterrupt:
        print("\ninterrupted; the finished rows are in " + path, file=sys.stderr)
        if rows:
            print("\n" + table(rows))
        return 130
    print("\n" + table(rows))
    print(f"\nwrote {path}" + (f"; {len(failed)} failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
