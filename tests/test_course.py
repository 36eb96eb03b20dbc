"""kit.course: a primeira célula de cada aula — ambiente, start() idempotente e finish()."""
from __future__ import annotations

import httpx

from kit import _process, course, runner


def test_check_environment_lists_what_this_machine_has():
    table = course.check_environment()
    assert list(table.columns) == ["item", "versão / situação", "ok"]
    items = dict(zip(table["item"], table["versão / situação"]))
    import kit

    assert items["kit"] == kit.__version__ and items["Modo da stack"] in ("compose", "native", "binder", "none")


def test_start_twice_is_the_same_lesson_and_finish_stops_it(trained, capsys, monkeypatch):
    # Sem Prometheus (outro teste do mesmo processo pode ter uma stack no ar): a aula roda sem stack.
    monkeypatch.setattr(course.settings, "prometheus_url", f"http://127.0.0.1:{_process.free_port()}")
    port = _process.free_port()
    first = course.start(stack_up=False, api_port=port)
    try:
        assert first.mode == "none" and httpx.get(f"{first.api.url}/health").json()["status"] == "ok"
        again = course.start(stack_up=False, api_port=port)  # a célula rodada de novo
        assert again.api is first.api
        assert "API em http://127.0.0.1:" in repr(first)
    finally:
        course.finish()
    assert runner.port_is_free("127.0.0.1", port) and not first.api.running
    assert "Tudo parado" in capsys.readouterr().out


def test_wait_for_scrape_gives_up_quietly_without_prometheus(monkeypatch):
    monkeypatch.setattr(course.settings, "prometheus_url", f"http://127.0.0.1:{_process.free_port()}")
    assert course.wait_for_scrape(timeout=1) is False
