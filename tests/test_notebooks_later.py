"""nbval das últimas aulas (06 e 07), em paralelo com as primeiras: veja tests/test_notebooks.py.

Um arquivo à parte só para o xdist (`--dist loadfile`) mandar as duas metades para processos diferentes.
"""
from __future__ import annotations

import pytest

from tests.test_notebooks import LATER, run_nbval, shared_fast_stack  # noqa: F401 (fixture usada abaixo)

pytestmark = pytest.mark.slow


def test_later_lessons_match_the_commit_and_run_again_in_the_same_kernel(shared_fast_stack, tmp_path):
    run_nbval(LATER, shared_fast_stack, tmp_path)
