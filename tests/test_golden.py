"""The demo site, built at a fixed now, matches the checked-in golden tree byte for byte.

After an intended change: HEARD_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py,
then review the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, heard, snapshot

GOLDEN = ROOT / "tests" / "golden" / "site"
NOW = "2026-11-30T12:00:00Z"


def test_demo_site_matches_the_golden_tree(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = heard("build", "--site", ROOT, "--out", out, "--now", NOW)
    assert result.exit_code == 0, result.stderr
    built = snapshot(out)
    if os.environ.get("HEARD_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(out, GOLDEN)
    golden = snapshot(GOLDEN)
    assert sorted(built) == sorted(golden), "files differ: " + str(
        sorted(set(built) ^ set(golden))[:10]
    )
    for name in sorted(built):
        if built[name] != golden[name]:
            diff = difflib.unified_diff(
                golden[name].decode("utf-8", "replace").splitlines(),
                built[name].decode("utf-8", "replace").splitlines(),
                f"golden/{name}",
                f"built/{name}",
                lineterm="",
                n=1,
            )
            raise AssertionError("\n".join(list(diff)[:40]))


def test_builds_do_not_depend_on_hash_seeds(tmp_path: Path) -> None:
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "generator",
                "build",
                "--site",
                str(ROOT),
                "--out",
                str(out),
                "--now",
                NOW,
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        trees.append(snapshot(out))
    assert trees[0] == trees[1]
