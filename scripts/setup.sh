#!/usr/bin/env bash
# setup.sh installs everything reverie needs on a Debian bookworm machine:
# apt packages (OpenCV, X11/GL headers, Xvfb, Mesa), the ONNX Runtime shared
# library (from the npm registry's onnxruntime-node tarball) and the Go modules.
# It is idempotent: on a machine that has everything it finishes in seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
ORT_VERSION=1.30.0
ORT_DIR=third_party/onnxruntime
ORT_LIB=$ORT_DIR/libonnxruntime.so.1

APT_PACKAGES=(
  pkg-config
  libopencv-dev      # gocv v0.31.0 builds against OpenCV 4.6.0
  opencv-data        # Haar cascades
  opencv-doc         # sample clip vtest.avi
  libgl1-mesa-dev xorg-dev  # Ebiten's GL and X11 headers
  xvfb xauth         # headless display for tests
  libgl1-mesa-dri    # Mesa llvmpipe
  npm                # fetches the ONNX Runtime tarball
  chromium           # headless browser for the web panel's test
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from elsewhere (e.g. a Node.js install); only require the command.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The sample clip ships compressed in some opencv-doc builds.
clip=/usr/share/doc/opencv-doc/examples/data/vtest.avi
if [ ! -f "$clip" ] && [ -f "$clip.gz" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO gunzip -k "$clip.gz"
fi

if [ ! -f "$ORT_LIB" ]; then
  echo "setup: fetching ONNX Runtime $ORT_VERSION from the npm registry (onnxruntime-node@$ORT_VERSION)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # npm pack downloads the tarball only; it never runs the package's install script.
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
  tar -xzf "$tmp"/onnxruntime-node-"$ORT_VERSION".tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  mkdir -p "$ORT_DIR"
  install -m 0644 "$tmp"/package/bin/napi-v6/linux/x64/libonnxruntime.so.1 "$ORT_LIB"
fi

go mod download
echo "setup: ok (ONNX Runtime at $ORT_LIB)"
