"""The `keras-gen` command.

    keras-gen list                         the reproductions, one line each
    keras-gen reproduce NAME [--field v]   run one (options = its HParams fields)
    keras-gen export NAME --from OUT       export a reproduction's trained model

Problems the user can fix (unknown name, wrong shape or dtype, NaN in data, missing
file) print one line `keras-gen: error: ...` and exit with status 2, without a
traceback. A run interrupted with Ctrl-C exits 130 and resumes from its last
checkpoint when the same command is run again.
"""
import argparse
import dataclasses
import importlib
import sys

from keras_gen import MISSING_TENSORFLOW, tensorflow_installed
from keras_gen.errors import KerasGenError, unknown_name

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


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


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="keras-gen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the reproductions")
    rep = sub.add_parser("reproduce", help="run a reproduction (keras-gen reproduce NAME --help)",
                         add_help=False)
    rep.add_argument("name", nargs="?")
    exp = sub.add_parser("export", help="export a trained reproduction as a TF-Serving SavedModel")
    exp.add_argument("name")
    exp.add_argument("--from", dest="from_dir", required=True,
                     help="the reproduction's --out folder holding the trained model")
    exp.add_argument("--base-dir", default="saved_models", help="model base folder (default: saved_models)")
    exp.add_argument("--version", type=int, default=None, help="version number (default: next free)")
    try:
        if argv[:1] not in (["list"], ["-h"], ["--help"], []) and not tensorflow_installed():
            raise KerasGenError(MISSING_TENSORFLOW)
        if argv[:1] == ["reproduce"]:
            rest = argv[1:]
            if not rest or rest[0].startswith("-"):
                if any(a in ("-h", "--help") for a in rest):
                    rep.print_help()
                    return 0
                parser.error("reproduce needs a NAME; see `keras-gen list`")
            return cmd_reproduce(rest[0], rest[1:])
        ns = parser.parse_args(argv)
        if ns.command == "list":
            return cmd_list(ns)
        return cmd_export(ns)
    except KerasGenError as err:
        print(f"keras-gen: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("keras-gen: interrupted; run the same command again to resume from the last checkpoint",
              file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
