# Monitoramento MLOps — comandos do curso.
#   make lab    → prepara tudo e abre o JupyterLab em notebooks/
#   make test   → instala o que falta e roda a suíte inteira
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.instalado

.PHONY: help venv system-deps prepare stack stack-down doctor lab test test-fast course notebooks bench clean exercises grade meus-exercicios

help:
	@echo "make lab   - cria .venv, prepara dados/modelo, sobe a stack possível e abre o JupyterLab"
	@echo "make test  - cria .venv, instala dependências (e Prometheus/Alertmanager se root+apt) e roda os testes"
	@echo "make course - roda os seis notebooks sem interface (papermill) e mostra o tempo de cada um"
	@echo "make notebooks - reexecuta os notebooks no lugar (antes de um commit)"
	@echo "make bench - benchmarks (treino e custo da instrumentação)"
	@echo "make meus-exercicios - copia os exercícios para meus_exercicios/ (sem sobrescrever): é lá que você trabalha"
	@echo "make exercises [FORCE=1] - regera exercises/ a partir de solutions/ (nbgrader)"
	@echo "make grade SUBMISSIONS=pasta [GRADES=notas] [TIMEOUT=120] [JOBS=n] - corrige as entregas (uma subpasta por aluno)"

$(STAMP): requirements.txt requirements-dev.txt requirements-instructor.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -r requirements-instructor.txt -e .
	@# O aluno não precisa dos menus do nbgrader no JupyterLab (a correção é por `make grade`).
	@# Para ligá-los: .venv/bin/jupyter labextension enable --level=sys_prefix @jupyter/nbgrader
	$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

system-deps:
	@bash scripts/install_system_deps.sh

prepare: venv
	$(BIN)/python -m kit prepare

stack: venv
	@$(BIN)/python -m kit stack up --rapido || echo "A stack não subiu (veja a mensagem acima); seguindo sem ela."

stack-down: venv
	$(BIN)/python -m kit stack down

doctor: venv
	$(BIN)/python -m kit doctor

lab: prepare stack
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/01_preparacao_ambiente.ipynb \
		$(if $(filter 0,$(shell id -u)),--allow-root,)

test: venv system-deps
	$(BIN)/python -m pytest
	KIT_HOME=$$(mktemp -d) $(BIN)/python -m pytest -p no:cacheprovider --nbval-lax \
		--nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/

course: venv
	$(BIN)/python scripts/run_course.py

# Reexecuta os notebooks no lugar (saídas novas para o commit), num KIT_HOME limpo.
notebooks: venv
	KIT_HOME=$$(mktemp -d) $(BIN)/python scripts/run_course.py --atualizar
	KIT_HOME=$$(mktemp -d) $(BIN)/python scripts/run_course.py --atualizar --pasta solutions

test-fast: venv
	$(BIN)/python -m pytest -m "not slow"

bench: venv
	$(BIN)/python bench/bench_training.py
	$(BIN)/python bench/bench_instrumentation.py

clean:
	rm -rf .run outputs/*.csv logs/*.log logs/*.json

# --- Exercícios -------------------------------------------------------------------------
# Aluno: `make meus-exercicios` copia exercises/ex*.ipynb para meus_exercicios/ (fora do git) sem
# sobrescrever nada; trabalhe lá — exercises/ é regerado pelo instrutor.
meus-exercicios:
	@mkdir -p meus_exercicios
	@for nb in exercises/ex*.ipynb; do \
		dest=meus_exercicios/$$(basename "$$nb"); \
		if [ -e "$$dest" ]; then echo "mantido (já existe, não sobrescrevo o seu trabalho): $$dest"; \
		else cp "$$nb" "$$dest" && echo "copiado: $$dest"; fi; \
	done
	@echo "Pronto: abra os notebooks de meus_exercicios/ no JupyterLab (make lab) e trabalhe neles."

# Instrutor
GRADES  ?= notas
TIMEOUT ?= 120
JOBS    ?=

exercises: venv
	$(BIN)/python scripts/exercises.py generate $(if $(FORCE),--force,)

grade: venv
	@test -n "$(SUBMISSIONS)" || { echo "Use: make grade SUBMISSIONS=<pasta com uma subpasta por aluno>"; exit 2; }
	$(BIN)/python scripts/exercises.py grade "$(SUBMISSIONS)" --output "$(GRADES)" --timeout $(TIMEOUT) \
		$(if $(JOBS),--jobs $(JOBS),)
