"""The `keras-gen` command.

    keras-gen list                         the reproductions, one line each
    keras-gen reproduce NAME [--field v]   run one (options = its HParams fields)
    keras-gen export NAME --from OUT       export a reproduction's trained model
    keras-gen launch --workers N reproduce NAME [--field v]
                                           run one as N workers of a multi-worker cluster
                                           on this machine (keras_gen/launch.py)
    keras-gen report [--run] [--only N,..] RESULTS.md and results/ from the runs' claim records

Problems the user can fix (unknown name, wrong shape or dtype, NaN in data, missing
file) print one line `keras-gen: error: ...` and exit with status 2, without a
traceback. A run interrupted with Ctrl-C exits 130 and resumes from its last
checkpoint when the same command is run again. A worker of a multi-worker cluster that
loses another worker (killed, or its host gone) prints one line
`keras-gen: error: lost another worker ...` and exits with status 3; rerunning the
cluster resumes from the last backup.
"""
import argparse
import dataclasses
import importlib
import os
import sys

from keras_gen import MISSING_TENSORFLOW, tensorflow_installed
from keras_gen.errors import KerasGenError, NothingToDo, unknown_name

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_WORKER_LOST = 3


def _table():
    # The CLI is the one place that knows about the reproductions package.
    from reproductions import REPRODUCTIONS

    return REPRODUCTIONS


def _module(name):
    table = _table()
    if name not in table:
        raise unknown_name("reproduction", name, table)
    return importlib.import_module(table[name][0])


def _add_hparam_options(parser, hparams_cls):
    for field in dataclasses.fields(hparams_cls):
        flag = "--" + field.name.replace("_", "-")
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        # argparse formats help with %; a literal % (e.g. "decays to 5%") must be doubled
        help_text = (field.metadata.get("help", "") + f" (default: {default!r})").replace("%", "%%")
        if isinstance(default, bool):
            parser.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction,
                                default=default, help=help_text)
        elif isinstance(default, (tuple, list)):
            elem = type(default[0]) if default else str
            parser.add_argument(flag, dest=field.name, nargs="+", type=elem, default=default, help=help_text)
        elif default is None:
            parser.add_argument(flag, dest=field.name, default=None, help=help_text)
        else:
            parser.add_argument(flag, dest=field.name, type=type(default), default=default, help=help_text)


def cmd_list(_args):
    table = _table()
    width = max(len(n) for n in table)
    for name, (_, description) in table.items():
        print(f"{name:<{width}}  {description}")
    return 0


def cmd_reproduce(name, argv):
    module = _module(name)
    parser = argparse.ArgumentParser(prog=f"keras-gen reproduce {name}", description=module.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_hparam_options(parser, module.HParams)
    ns = parser.parse_args(argv)
    hp = module.HParams(**vars(ns))
    from reproductions.common import validate

    validate(hp)  # every option's range and names, before anything slow starts
    module.run(hp)
    return 0


def cmd_export(ns):
    module = _module(ns.name)
    if not hasattr(module, "export"):
        raise KerasGenError(f"reproduction {ns.name!r} has no model to export")
    path = module.export(ns.from_dir, base_dir=ns.base_dir, version=ns.version)
    print(f"exported {path}")
    return 0


def _lost_worker(err):
    """Whether `err` is TensorFlow reporting that a collective lost another worker."""
    if not os.environ.get("TF_CONFIG") and not os.environ.get("SLURM_JOB_ID"):
        return False
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover
        return False
    lost = (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.AbortedError,
            tf.errors.DeadlineExceededError, tf.errors.InternalError)
    return isinstance(err, lost)


def cmd_launch(argv):
    parser = argparse.ArgumentParser(
        prog="keras-gen launch", description=launch_doc(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="keras-gen launch --workers N reproduce NAME [options]")
    parser.add_argument("--workers", type=int, default=2, help="number of worker processes (default: 2)")
    if "reproduce" not in argv:
        if any(a in ("-h", "--help") for a in argv):
            parser.print_help()
            return 0
        parser.error("launch needs `reproduce NAME [options]` after its own options")
    cut = argv.index("reproduce")
    ns = parser.parse_args(argv[:cut])
    rest = argv[cut:]
    if len(rest) > 1 and not rest[1].startswith("-"):
        _module(rest[1])  # an unknown name is reported once, here, not by every worker
    from keras_gen.launch import launch

    return launch(ns.workers, rest)


def launch_doc():
    from keras_gen import launch

    return launch.__doc__


def cmd_report(ns):
    """Runs the reproductions (with --run), then writes RESULTS.md and results/ from runs/."""
    import os

    from keras_gen import report
    from reproductions.common import parse_choice_list

    table = _table()
    names = parse_choice_list(ns.only, "only", table, "reproduction") if ns.only else list(table)
    failed = []
    if ns.run:
        for name in names:
            options = ["--out", os.path.join(ns.from_dir, name)] + (["--seeds", ns.seeds] if ns.seeds else [])
            print(f"== keras-gen reproduce {name} {' '.join(options)}", flush=True)
            try:
                cmd_reproduce(name, options)
            except Exception as err:  # noqa: BLE001 - one failed reproduction must not stop the others
                import traceback

                if not isinstance(err, KerasGenError):
                    traceback.print_exc()
                print(f"keras-gen: error: {name}: {err}", file=sys.stderr)
                failed.append(name)
    generated_by = "keras-gen report " + ("--run" if ns.run else f"--from {ns.from_dir}")
    path, runs = report.write_report(ns.from_dir, ns.output, ns.results_dir, names=names, generated_by=generated_by,
                                     readme=ns.readme or None,
                                     descriptions={n: d for n, (_, d) in table.items()})
    claims = [c for r in runs if r["record"] for c in r["record"]["claims"]]
    print(f"wrote {path} ({len(runs)} runs, {len(claims)} claims, {sum(c['met'] for c in claims)} met) and "
          f"{ns.results_dir}/")
    for r in runs:
        for problem in r["problems"]:
            print(f"  {problem}")
    if failed:
        raise KerasGenError(f"{len(failed)} reproduction(s) failed: {', '.join(failed)}")
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="keras-gen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the reproductions")
    rep = sub.add_parser("reproduce", help="run a reproduction (keras-gen reproduce NAME --help)",
                         add_help=False)
    rep.add_argument("name", nargs="?")
    sub.add_parser("launch", help="run a reproduction as N workers on this machine "
                                  "(keras-gen launch --workers N reproduce NAME ...)", add_help=False)
    exp = sub.add_parser("export", help="export a trained reproduction as a TF-Serving SavedModel")
    exp.add_argument("name")
    exp.add_argument("--from", dest="from_dir", required=True,
                     help="the reproduction's --out folder holding the trained model")
    exp.add_argument("--base-dir", default="saved_models", help="model base folder (default: saved_models)")
    exp.add_argument("--version", type=int, default=None, help="version number (default: next free)")
    rpt = sub.add_parser("report", help="write RESULTS.md and results/ from the runs' claim records")
    rpt.add_argument("--from", dest="from_dir", default="runs", help="folder of the runs (default: runs)")
    rpt.add_argument("--run", action="store_true", help="run the reproductions first (defaults, into --from)")
    rpt.add_argument("--only", default="", help="comma-separated reproductions (default: all)")
    rpt.add_argument("--seeds", default="", help="with --run: the report seeds of every reproduction")
    rpt.add_argument("--output", default="RESULTS.md", help="the report file (default: RESULTS.md)")
    rpt.add_argument("--results-dir", default="results", help="folder for the figures (default: results)")
    rpt.add_argument("--readme", default="README.md",
                     help="rewrite this file's reproductions table from the same runs ('' = none; default: README.md)")
    try:
        needs_tf = argv[:1] not in (["list"], ["-h"], ["--help"], [], ["report"]) or "--run" in argv
        if needs_tf and not tensorflow_installed():
            raise KerasGenError(MISSING_TENSORFLOW)
        if argv[:1] == ["reproduce"]:
            rest = argv[1:]
            if not rest or rest[0].startswith("-"):
                if any(a in ("-h", "--help") for a in rest):
                    rep.print_help()
                    return 0
                parser.error("reproduce needs a NAME; see `keras-gen list`")
            return cmd_reproduce(rest[0], rest[1:])
        if argv[:1] == ["launch"]:
            return cmd_launch(argv[1:])
        ns = parser.parse_args(argv)
        if ns.command == "list":
            return cmd_list(ns)
        if ns.command == "report":
            return cmd_report(ns)
        return cmd_export(ns)
    except NothingToDo as done:
        print(f"keras-gen: {done}", flush=True)
        return 0
    except KerasGenError as err:
        print(f"keras-gen: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("keras-gen: interrupted; run the same command again to resume from the last checkpoint",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - only a lost worker is turned into one line
        if not _lost_worker(err):
            raise
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        print(f"keras-gen: error: lost another worker of the cluster ({type(err).__name__}: {first}); "
              "run the same command on every worker (or the same keras-gen launch) again to resume "
              "from the last backup", file=sys.stderr)
        return EXIT_WORKER_LOST


if __name__ == "__main__":
    sys.exit(main())
