from kit.config import _load_dotenv


def test_dotenv_strips_inline_comments_and_quotes(tmp_path):
    env = tmp_path / ".env"
    env.write_text('# comentário\nA=1\nB=auto   # explicação\nC="com # dentro" # fora\nD=\nE=\'x y\'\nsem_igual\n')
    assert _load_dotenv(env) == {"A": "1", "B": "auto", "C": "com # dentro", "D": "", "E": "x y"}


def _alert_threshold(alertname: str, metric: str) -> float:
    """O número com que a regra `alertname` compara `metric` em monitoring/prometheus/alert_rules.yml."""
    import re

    import yaml

    from kit.config import settings

    rules = yaml.safe_load((settings.root / "monitoring" / "prometheus" / "alert_rules.yml").read_text("utf-8"))
    expr = next(r["expr"] for g in rules["groups"] for r in g["rules"] if r.get("alert") == alertname)
    found = re.fullmatch(rf"\s*{metric}(?:\{{[^}}]*\}})?\s*[<>]=?\s*([0-9.]+)\s*", expr)
    assert found, f"a regra {alertname} mudou de forma ({expr!r}): ajuste este teste e o limiar em kit/config.py"
    return float(found[1])


def test_alert_thresholds_match_the_kit():
    """Os limiares do kit (mensagens da CLI, situação 'drift' da tabela de PSI) são os das regras de alerta."""
    from kit import drift
    from kit.config import settings

    assert _alert_threshold("ModelF2Low", "model_f2_score") == settings.f2_alert_threshold
    assert _alert_threshold("DataDrift", "data_drift_psi") == settings.psi_alert_threshold
    assert drift.PSI_SIGNIFICANT == settings.psi_alert_threshold


def test_predictions_path_is_one_place(tmp_path):
    """A API, o teste de carga e `predict` usam o mesmo arquivo de predições."""
    import inspect

    from kit import api, load, model
    from kit.config import settings

    assert settings.predictions_path == settings.outputs_dir / "predicoes.csv"
    for module in (api, load, model):
        assert '"predicoes.csv"' not in inspect.getsource(module), module.__name__
