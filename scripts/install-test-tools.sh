#!/usr/bin/env bash
# Installs the Debian tools the tests use: Chromium and a font (browser tests), espeak-ng
# (speech), sox, opencv-doc (OpenCV's sample photos and videos), real speech recorded by
# people (codec2-examples and alsa-utils in English; the French telephone prompts of
# asterisk-core-sounds-fr(-wav), with their text) and real instrumental music (asc-music).
# Skips apt when they are all present already; needs root (or sudo) otherwise.
set -euo pipefail
packages=(chromium fonts-liberation espeak-ng sox libsox-fmt-all opencv-doc
    codec2-examples alsa-utils asterisk-core-sounds-fr asterisk-core-sounds-fr-wav asc-music)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
