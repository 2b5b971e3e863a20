"""The installed wheel carries the grammar and the rulesets: validate works outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_validates_a_shipped_ruleset(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("postingrules-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    script = (
        "import importlib.resources as r, postingrules, sys;"
        "p = r.files('postingrules') / 'rulesets' / 'fr-ecommerce.rules';"
        "print(postingrules.__file__); print(p)"
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    shown = subprocess.run(
        [str(python), "-c", script], cwd=work, check=True, capture_output=True, text=True, env=env
    ).stdout.split()
    package_dir = Path(shown[0]).parent
    assert str(env_dir) in shown[0], "the installed package must be used, not the checkout"
    before = sorted(p.name for p in package_dir.rglob("*") if "__pycache__" not in p.parts)
    result = subprocess.run(
        [str(env_dir / "bin" / "postingrules"), "validate", shown[1]],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fr-ecommerce.rules: ok" in result.stdout
    after = sorted(p.name for p in package_dir.rglob("*") if "__pycache__" not in p.parts)
    assert before == after, "no parser cache may be written into the package"
