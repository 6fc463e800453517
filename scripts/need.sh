#!/bin/sh
# need.sh: make sure the host has what building and booting Valence needs.
# Installs qemu-system-x86 with apt-get when it is missing and we are root on
# a Debian-like system; otherwise stops with a message saying what to install.
# Usage: scripts/need.sh go|qemu
set -eu

want=$1
case "$want" in
go)
	if command -v go >/dev/null 2>&1; then exit 0; fi
	if [ -x /usr/local/go/bin/go ]; then exit 0; fi
	echo "valence: the Go toolchain (go1.26 or newer) is not installed." >&2
	echo "valence: install it from https://go.dev/dl/ and put it on PATH." >&2
	exit 1
	;;
qemu)
	qemu=${QEMU:-qemu-system-x86_64}
	if command -v "$qemu" >/dev/null 2>&1; then exit 0; fi
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "valence: $qemu not found; installing qemu-system-x86 with apt-get" >&2
		if DEBIAN_FRONTEND=noninteractive apt-get install -y qemu-system-x86 >&2 ||
			{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y qemu-system-x86 >&2; }; then
			command -v "$qemu" >/dev/null 2>&1 && exit 0
		fi
	fi
	echo "valence: $qemu is not installed and could not be installed automatically." >&2
	echo "valence: install it with: sudo apt-get install qemu-system-x86" >&2
	exit 1
	;;
*)
	echo "need.sh: unknown requirement $want" >&2
	exit 2
	;;
esac
