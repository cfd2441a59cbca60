#!/usr/bin/env bash
# Install the Debian packages siteinspect needs, if any are missing:
# PostgreSQL (tests start their own server), Pango and HarfBuzz's subsetter for WeasyPrint
# (without libharfbuzz-subset0 a Chinese report renders about ten times slower), CJK fonts,
# poppler-utils (tests read the PDFs back), Chromium (the portal's browser tests drive it headless
# through Playwright; Playwright's own browser download is never used), Node.js and npm (the tablet
# app is built with esbuild and unit-tested with Node's own test runner; Debian 12's Node 18 is
# enough). A node or npm already on the PATH from elsewhere (NodeSource, nvm) is used as it is.
set -euo pipefail

packages=(postgresql libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils chromium)
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
