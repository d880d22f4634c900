#!/usr/bin/env bash
# Runs a command inside a network namespace of its own with a veth pair, so Chromium has
# a non-loopback interface for WebRTC (it gathers no ICE candidates on `lo` alone) and no
# traffic can leave the machine: 10.77.0.1/24 (v0) and 10.77.0.2/24 (v1), loopback up,
# default route via v1. Where the namespace cannot be made (not root, no `unshare`/`ip`),
# the command runs as it is, on the machine's own interfaces; tests that need WebRTC then
# need a LAN interface and say so when there is none.
#
#   scripts/in-netns.sh npx playwright test
set -euo pipefail
if [[ "${OUTPOST_NETNS:-}" == "1" ]]; then exec "$@"; fi
if [[ "$(id -u)" == "0" ]] && command -v unshare >/dev/null && command -v ip >/dev/null; then
	exec unshare --net -- bash -c '
		set -euo pipefail
		ip link set lo up
		ip link add v0 type veth peer name v1
		ip addr add 10.77.0.1/24 dev v0
		ip addr add 10.77.0.2/24 dev v1
		ip link set v0 up
		ip link set v1 up
		ip route add default via 10.77.0.2 dev v0
		export OUTPOST_NETNS=1 OUTPOST_LAN_IP=10.77.0.1
		exec "$@"' in-netns "$@"
fi
echo "in-netns: not root or no unshare/ip: running on this machine's interfaces" >&2
exec "$@"
