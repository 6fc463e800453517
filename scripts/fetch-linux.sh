#!/bin/sh
# fetch-linux.sh DIR: download Debian's packaged x86-64 kernel (the one
# linux-image-amd64 points at) and unpack it into DIR, without installing
# anything on the host. Prints the kernel version. Used by make bench.
#
# DIR gets vmlinuz, version, and modules/: the NVMe driver modules (nvme,
# built as a module in Debian's kernel) and the modules they depend on,
# uncompressed, with modules/order naming them dependencies first, for the
# disk benchmark's initramfs (tools/bench); and modules/ext4.order, the
# ext4 filesystem's modules (ext4, its dependencies, and the crc32c
# implementations its metadata checksums need: a "softdep", which nothing
# would load without modprobe) not already in modules/order, for the file
# benchmark's; and modules/net.order, the virtio-net driver (virtio_pci,
# which finds the device, and virtio_net, with what they depend on), which
# Debian also builds as modules, for the network benchmark's.
set -eu
dir=$1
mods="nvme"
fsmods="crc32c_generic crc32c-intel ext4"
netmods="virtio_pci virtio_net"
mkdir -p "$dir"
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/version" ] && [ -f "$dir/modules/order" ] && [ -f "$dir/modules/ext4.order" ] &&
	[ -f "$dir/modules/net.order" ]; then
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

# Modules: name (with - and _ alike) -> file, then a depth-first walk of
# each one's "depends=" (in its .modinfo section) writing dependencies
# before dependents, into the order file $order. Compressed modules are
# unpacked here, so the guest needs no decompressor. They are collected in
# modules.new, which becomes modules only when complete.
m="$dir/modules.new"
rm -rf "$m"
mkdir -p "$m"
find "$tmp"/x/lib/modules/*/kernel -name '*.ko*' |
	awk -F/ '{ n = $NF; sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); print n, $0 }' > "$tmp/index"
: > "$m/order"
: > "$m/ext4.order"
: > "$m/net.order"
add() {
	local n f out dep
	n=$(echo "$1" | tr - _)
	if grep -qx "$n.ko" "$m/order" "$m/ext4.order" "$m/net.order"; then
		return 0
	fi
	f=$(awk -v n="$n" '$1 == n { print $2; exit }' "$tmp/index")
	if [ -z "$f" ]; then
		if grep -q "/$1.ko" "$tmp"/x/lib/modules/*/modules.builtin 2>/dev/null ||
			grep -q "/$n.ko" "$tmp"/x/lib/modules/*/modules.builtin 2>/dev/null; then
			return 0 # built into the kernel
		fi
		echo "valence: kernel module $1 not found in $pkg" >&2
		exit 1
	fi
	out="$m/$n.ko"
	case "$f" in
	*.ko) cp "$f" "$out" ;;
	*.ko.xz) xz -dc "$f" > "$out" ;;
	*.ko.zst) zstd -qdc "$f" > "$out" ;;
	*.ko.gz) gzip -dc "$f" > "$out" ;;
	*) echo "valence: cannot unpack kernel module $f" >&2; exit 1 ;;
	esac
	for dep in $(tr '\0' '\n' < "$out" | sed -n 's/^depends=//p' | tr , ' '); do
		add "$dep"
	done
	echo "$n.ko" >> "$order"
}
order="$m/order"
for mod in $mods; do
	add "$mod"
done
order="$m/ext4.order"
for mod in $fsmods; do
	add "$mod"
done
order="$m/net.order"
for mod in $netmods; do
	add "$mod"
done
echo "valence: Linux modules for the disk benchmark: $(tr '\n' ' ' < "$m/order")" >&2
echo "valence: for the file benchmark: $(tr '\n' ' ' < "$m/ext4.order")" >&2
echo "valence: and for the network benchmark: $(tr '\n' ' ' < "$m/net.order")" >&2

# The modules directory goes in last: it marks the fetch complete.
rm -rf "$dir/modules"
cp "$tmp"/x/boot/vmlinuz-* "$dir/vmlinuz"
ver=$(dpkg-deb -f "$tmp"/"$pkg"_*.deb Version)
echo "$pkg $ver" > "$dir/version"
mv "$m" "$dir/modules"
cat "$dir/version"
