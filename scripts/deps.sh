#!/usr/bin/env bash
# Installs the Debian 12 packages eventrouter needs to build, run and test, skipping those present.
# Works as root (CI, containers) or through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache clang-format
  libboost1.81-dev libsimdjson-dev libspdlog-dev libfmt-dev libyaml-dev
  libssl-dev libcurl4-openssl-dev libsqlite3-dev sqlite3 libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libnats-dev nats-server
  wrk nginx-light gnuplot-nox
  curl openssl ca-certificates jq python3 python3-pytest python3-aiosmtpd python3-boto3
  chromium chromium-driver python3-selenium
)
if [ "${1:-}" = "--print" ]; then printf '%s\n' "${packages[@]}"; exit 0; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# nginx is only the benchmark suite's ceiling (scripts/bench-suite.sh starts its own, on
# loopback): the service the package starts on a systemd machine is stopped and disabled.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
fi
