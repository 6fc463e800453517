#!/bin/sh
# fetch-linux.sh DIR: download Debian's packaged x86-64 kernel (the one
# linux-image-amd64 points at) and unpack it into DIR, without installing
# anything on the host. Prints the kernel version. Used by make bench.
set -eu
dir=$1
mkdir -p "$dir"
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/version" ]; then
	cat "$dir/version"
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
	echo "valence: make bench needs apt-get and dpkg-deb (a Debian host) to fetch the Linux guest kernel" >&2
	exit 1
fi
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\).*/\1/p' | head -1)
if [ -z "$pkg" ]; then
	echo "valence: cannot find Debian's linux-image-amd64 package (run apt-get update?)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "$pkg" >&2)
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/x"
cp "$tmp"/x/boot/vmlinuz-* "$dir/vmlinuz"
ver=$(dpkg-deb -f "$tmp"/"$pkg"_*.deb Version)
echo "$pkg $ver" > "$dir/version"
cat "$dir/version"
