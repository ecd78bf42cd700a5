# deps.sh - installs what imagegen needs on a fresh Debian 12 machine, and nothing twice.
# Sourced by scripts/run-local and scripts/test. Needs root (or sudo) for apt.

IMAGEGEN_APT_PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libcurl4-openssl-dev libssl-dev liblua5.4-dev lua5.4 lua-cjson lua-cjson-dev
  libjansson-dev libmicrohttpd-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev libwebp-dev
  lua-busted lua-dkjson python3 python3-botocore python3-pil valgrind
  nodejs npm zip unzip curl ca-certificates procps file binutils
  autoconf automake libtool
  chromium
)

ig_deps_apt() {
  local missing=()
  local p
  for p in "${IMAGEGEN_APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # Node.js may come from outside Debian's packages (a preinstalled node and npm): accept it.
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    local keep=()
    for p in "${missing[@]}"; do
      [ "$p" = nodejs ] || [ "$p" = npm ] || keep+=("$p")
    done
    missing=("${keep[@]}")
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "imagegen: installing Debian packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q >/dev/null || { echo "imagegen: apt-get update failed" >&2; return 1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "imagegen: apt-get install failed for: ${missing[*]}" >&2; return 1; }
}

# npm packages pinned by package-lock.json in the given folder (default: the repo root).
ig_deps_npm() {
  local dir="${1:-$IMAGEGEN_ROOT}"
  [ -f "$dir/package-lock.json" ] || return 0
  if [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  echo "imagegen: installing npm packages in $dir (npm ci)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    { echo "imagegen: npm ci failed in $dir" >&2; return 1; }
}

# Configures and builds into $1 (default build/) with extra CMake arguments after it.
ig_build() {
  local dir="${1:-$IMAGEGEN_ROOT/build}"
  shift || true
  cmake -S "$IMAGEGEN_ROOT" -B "$dir" "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log" >&2; echo "imagegen: cmake configure failed" >&2; return 1; }
  cmake --build "$dir" -j "$(nproc)" >"$dir.build.log" 2>&1 ||
    { grep -E 'error|warning' "$dir.build.log" | head -40 >&2; echo "imagegen: build failed (log: $dir.build.log)" >&2; return 1; }
}
