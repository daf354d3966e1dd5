"""tests/conftest.py runs the heaviest test files first (from tests/file_costs.json): the
table must name only files that exist, and the collected order must follow it."""
import json
import os

from tests.helpers import ROOT


def _costs():
    with open(os.path.join(ROOT, "tests", "file_costs.json"), encoding="utf-8") as f:
        return json.load(f)


def test_file_costs_name_existing_test_files_with_their_seconds():
    costs = _costs()
    assert len(costs) > 50
    for name, seconds in costs.items():
        assert name.startswith("tests/") and os.path.basename(name).startswith("test_"), name
        assert os.path.isfile(os.path.join(ROOT, name)), f"{name} is in file_costs.json but does not exist"
        assert seconds >= 0, name


def test_collected_files_come_heaviest_first(request):
    files = []
    for item in request.session.items:
        name = item.nodeid.split("::")[0]
        if not files or files[-1] != name:
            files.append(name)
    assert len(files) == len(set(files)), "a file's tests were split apart"
    costs = _costs()
    known = [costs[f] for f in files if f in costs]
    assert known == sorted(known, reverse=True)
