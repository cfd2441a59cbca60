#!/usr/bin/env bash
# Install the Debian packages siteinspect needs, if any are missing.
#   run  (default): what serving needs: Pango and HarfBuzz's subsetter for WeasyPrint (without
#        libharfbuzz-subset0 a Chinese report renders about ten times slower) and the CJK fonts.
#   test: the above, and PostgreSQL (tests start their own server), poppler-utils (tests read the
#        PDFs back) and Chromium (browser tests drive it headless through Playwright; Playwright's
#        own browser download is never used).
# Both: Node.js and npm when there is no node or npm on the PATH (the tablet app is built with
# esbuild and unit-tested with Node's own test runner; Debian 12's Node 18 is enough; a node from
# elsewhere, NodeSource or nvm, is used as it is).
set -euo pipefail

packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk)
case "${1:-run}" in
  run) ;;
  test) packages+=(postgresql poppler-utils chromium) ;;
  *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing system packages: ${missing[*]}" >&2
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
