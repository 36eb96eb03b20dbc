"""Where the suite finds external tools.

In CI (CI=true) a missing tool is a failure, never a silent skip; on a student's or
developer's machine it is a skip whose message says what to install.
"""
from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str, install_hint: str) -> str:
    """Return the absolute path of `name`, or skip (locally) / fail (in CI)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"'{name}' não encontrado no PATH. Instale com: {install_hint}"
    if IN_CI:
        pytest.fail(f"[CI] {message}")
    pytest.skip(message)
