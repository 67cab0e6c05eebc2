#!/usr/bin/env bash
# Builds step-ca 0.19 (smallstep/certificates from Debian's packaged Go sources) into OUT/step-ca with
# Debian's Go, offline — the peer `npm run bench -- ca` measures. Installs nothing: when the sources
# are missing it says which Debian packages to install and exits 3. Usage: build.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
if ! dpkg -s golang-github-smallstep-certificates-dev >/dev/null 2>&1 || ! command -v go >/dev/null; then
  echo "step-ca sources are not installed; install them with:" >&2
  echo "  apt-get install golang-go golang-github-smallstep-certificates-dev" >&2
  exit 3
fi
if [ -x "$out/step-ca" ] && [ "$out/step-ca" -nt "$here/main.go" ]; then echo "$out/step-ca"; exit 0; fi
mkdir -p "$out/gopath/src/stepcamin" && cp "$here/main.go" "$out/gopath/src/stepcamin/"
GO111MODULE=off GOPATH="$out/gopath:/usr/share/gocode" GOFLAGS= GOCACHE="$out/gocache" \
  go build -o "$out/step-ca.part" stepcamin
mv "$out/step-ca.part" "$out/step-ca"
echo "$out/step-ca"
