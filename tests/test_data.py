import hashlib

import pandas as pd

from kit import data, drift


def _digest(paths):
    return {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in paths.items()}


def test_same_seed_same_bytes(tmp_path):
    first = _digest(data.generate(tmp_path / "a", seed=7))
    second = _digest(data.generate(tmp_path / "b", seed=7))
    other = _digest(data.generate(tmp_path / "c", seed=8))
    assert first == second
    assert all(first[k] != other[k] for k in first)


def test_schema_sizes_and_ids(tmp_path):
    paths = data.generate(tmp_path)
    frames = {k: pd.read_csv(p) for k, p in paths.items()}
    assert {k: len(f) for k, f in frames.items()} == {"treino": 6000, "novos_1": 2000, "novos_2": 2000}
    for frame in frames.values():
        assert list(frame.columns) == data.COLUMNS
        assert set(frame["pais"].dropna()) == {"França", "Espanha", "Alemanha"}
        assert set(frame["cartao_credito"]) == {"Sim", "Não"}
        assert frame[data.FEATURES].isna().to_numpy().any(), "deve haver valores ausentes para imputar"
    ids = pd.concat([f["id_cliente"] for f in frames.values()])
    assert ids.is_unique
    assert ids.between(10_000_000, 99_999_999).all()


def test_churn_rates_and_drift(tmp_path):
    frames = {k: pd.read_csv(p) for k, p in data.generate(tmp_path).items()}
    assert 0.17 <= frames["treino"]["saiu"].mean() <= 0.25
    assert abs(frames["novos_1"]["saiu"].mean() - frames["treino"]["saiu"].mean()) < 0.03
    assert frames["novos_2"]["saiu"].mean() > frames["treino"]["saiu"].mean() + 0.02
    psi_1 = drift.psi_table(frames["treino"], frames["novos_1"]).set_index("feature")["psi"]
    psi_2 = drift.psi_table(frames["treino"], frames["novos_2"]).set_index("feature")["psi"]
    assert psi_1.max() < drift.PSI_MODERATE
    assert psi_2["idade"] > drift.PSI_SIGNIFICANT


def test_psi_zero_for_identical_and_positive_for_shift():
    ref = pd.Series(range(1000), dtype=float)
    assert drift.psi(ref, ref) < 1e-9
    assert drift.psi(ref, ref + 300) > 0.2
