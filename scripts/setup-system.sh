#!/usr/bin/env bash
# Installs the system packages that real WebGPU needs on a Linux machine without a GPU:
# Debian's Chromium (headless tests; it also ships SwiftShader, a CPU Vulkan driver) and the
# Vulkan loader that Dawn's Node bindings (the `webgpu` package) load. Does nothing when they
# are there. Set CHROMIUM_PATH to use another browser, e.g. a Chrome with a real GPU.
set -euo pipefail

have_chromium() { [ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ] || [ -x /usr/bin/chromium ]; }
have_vulkan() { ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; }
have_swiftshader() { [ -n "${VK_ICD_FILENAMES:-}" ] || [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; }

if have_chromium && have_vulkan && have_swiftshader; then exit 0; fi

packages="chromium libvulkan1"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "setup-system: installing $packages (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
  echo "setup-system: installing $packages (sudo apt-get)" >&2
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null
else
  echo "setup-system: need $packages (Debian/Ubuntu: apt-get install $packages), or CHROMIUM_PATH and a Vulkan driver" >&2
  exit 1
fi
