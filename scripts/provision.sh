#!/usr/bin/env bash
# provision.sh [--npm-only] — make this machine ready to build and test fleetpki. Idempotent:
# installs only the Debian packages whose tools are missing (apt-get update runs once, and only
# then), and runs `npm ci` only when node_modules is absent or older than package-lock.json.
# --npm-only skips the system tools (what `npm start` needs).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[provision] %s\n' "$*"; }

npm_only=0
[[ ${1:-} == --npm-only ]] && npm_only=1

if [[ $npm_only == 0 ]]; then
  # tool to look for on PATH -> Debian package that provides it
  tools=(openssl certtool go mosquitto mosquitto_pub softhsm2-util curl ss unshare pg_ctl chromium)
  declare -A pkg_of=(
    [openssl]=openssl [certtool]=gnutls-bin [go]=golang-go [mosquitto]=mosquitto
    [mosquitto_pub]=mosquitto-clients [softhsm2-util]=softhsm2 [curl]=curl [ss]=iproute2
    [unshare]=util-linux [pg_ctl]=postgresql [chromium]=chromium
  )
  # Debian installs mosquitto and ss under /usr/sbin, which a non-login root shell may lack, and the
  # PostgreSQL server tools (initdb, pg_ctl: the store tests' throwaway cluster) in a versioned
  # directory, /usr/lib/postgresql/<version>/bin (looked up again after an install).
  export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
  add_pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [[ -n $d && :$PATH: != *:$d:* ]]; then PATH="$PATH:$d"; fi
  }
  add_pg_bin
  missing_tools=()
  missing_pkgs=()
  for t in "${tools[@]}"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      missing_tools+=("$t")
      missing_pkgs+=("${pkg_of[$t]}")
    fi
  done
  # ca-certificates has no binary; its bundle is what curl/openssl use for public CAs.
  if [[ ! -f /etc/ssl/certs/ca-certificates.crt ]]; then
    missing_tools+=("ca-bundle")
    missing_pkgs+=(ca-certificates)
  fi

  if ((${#missing_pkgs[@]} == 0)); then
    say "system tools present (${tools[*]})"
  else
    say "missing tools: ${missing_tools[*]} (packages: ${missing_pkgs[*]})"
    fail() {
      say "ERROR: cannot install ${missing_pkgs[*]}: $1"
      say "missing tools: ${missing_tools[*]}"
      say "install them with: sudo apt-get install -y ${missing_pkgs[*]}"
      exit 1
    }
    [[ $(id -u) == 0 ]] || fail "not root"
    command -v apt-get >/dev/null 2>&1 || fail "apt-get not found"
    export DEBIAN_FRONTEND=noninteractive
    say "apt-get update"
    apt-get update -q >/dev/null || fail "apt-get update failed"
    say "apt-get install ${missing_pkgs[*]}"
    apt-get install -y -q --no-install-recommends "${missing_pkgs[@]}" </dev/null >/dev/null \
      || fail "apt-get install failed"
    add_pg_bin
    still=()
    for t in "${missing_tools[@]}"; do
      [[ $t == ca-bundle ]] && continue
      command -v "$t" >/dev/null 2>&1 || still+=("$t")
    done
    if ((${#still[@]} > 0)); then
      say "ERROR: still missing after install: ${still[*]}"
      exit 1
    fi
    say "installed ${missing_pkgs[*]}"
  fi
fi

# npm dependencies: npm writes node_modules/.package-lock.json on every install. When
# package-lock.json is newer, compare the two (a timestamp alone is not proof: a git checkout
# touches the file too) so a shared working tree is not wiped by a needless `npm ci`.
lock_matches() {
  node -e '
    const fs = require("node:fs");
    const want = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages ?? {};
    const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages ?? {};
    for (const [k, v] of Object.entries(want)) {
      if (k === "" || v.link) continue;
      const h = have[k];
      if (!h) { if (v.optional) continue; process.exit(1); }  // platform-specific optional deps
      if (h.version !== v.version) process.exit(1);
    }'
}
if [[ ! -f node_modules/.package-lock.json ]]; then
  say "npm ci (node_modules missing)"
  npm ci --no-audit --no-fund --loglevel=error
elif [[ package-lock.json -nt node_modules/.package-lock.json ]] && ! lock_matches; then
  say "npm ci (package-lock.json changed)"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm deps up to date"
fi
