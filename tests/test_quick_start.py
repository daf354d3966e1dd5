"""`.ci/run` runs the README's second quick-start command exactly as written, and both
quick-start commands install with the same tool into the same fresh venv."""
import os
import re

from tests.helpers import ROOT


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def test_ci_runs_the_readme_test_command_as_written():
    readme = _read("README.md")
    block = re.search(r"## Quick start\n.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2, commands
    ci = [line for line in _read(".ci", "run").splitlines() if line.startswith("python3.11")]
    assert ci == [commands[1]]
    install, tests = (c.split(" && .venv/bin/", 3) for c in commands)
    assert install[:3] == [c.replace("[cpu,test]", "[cpu]") for c in tests[:3]]
    assert "pytest" in tests[3] and tests[3].endswith("-n 2 --dist loadfile")
