#!/usr/bin/env bash
# Fetch what a Linux test guest needs, from Debian's archive through apt:
#   - the kernel linux-image-amd64 points to (ABI resolved with apt-cache
#     depends): ./boot/vmlinuz-*, the vfio modules, irqbypass.ko (and iommufd
#     if the kernel has it as a module), the NVMe host driver and the CRC
#     modules it needs (to compare upci's example NVMe driver with the
#     kernel's), decompressed to plain .ko files;
#   - an ELF vmlinux taken out of the bzImage, for a faster PVH boot (only if
#     it carries the PVH ELF note; otherwise run-guest.sh boots the bzImage);
#   - busybox-static's /bin/busybox;
#   - the host's qemu-system-x86 package (bookworm: QEMU 7.2), installed with
#     apt-get if it is missing and we are root (or have sudo without a
#     password). UPCI_NO_HOST_INSTALL=1 turns that off.
#
# Result under ${UPCI_CACHE:-$HOME/.cache/upci}/guest, described by
# guest/env (shell syntax): UPCI_GUEST_KVER, UPCI_GUEST_VMLINUZ,
# UPCI_GUEST_VMLINUX (empty if no PVH image), UPCI_GUEST_MODULES (a directory
# of .ko), UPCI_BUSYBOX, UPCI_QEMU7 (empty if no host QEMU).
#
# Idempotent and offline once it has worked: a cached kernel is reused without
# asking apt (UPCI_GUEST_REFRESH=1 resolves linux-image-amd64 again).
# Exit status: 0 ok, 77 skip (cannot download), 1 error.
set -euo pipefail

CACHE=${UPCI_CACHE:-$HOME/.cache/upci}
G=$CACHE/guest

say() { echo "fetch-guest: $*" >&2; }
skip() { say "skip: $*"; exit 77; }
die() { say "error: $*"; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; else SUDO=none; fi
fi
APT_DL=(-o quiet=1)
[ "$(id -u)" -eq 0 ] && APT_DL+=(-o APT::Sandbox::User=root)

mkdir -p "$G"
exec 9>"$CACHE/.guest.lock"
flock 9
rm -rf "$G"/tmp.* # left by an interrupted run

# apt-get download, updating the host's package lists once if that fails.
apt_updated=0
apt_download() {
	local dir=$1 pkg=$2
	if (cd "$dir" && apt-get "${APT_DL[@]}" download "$pkg") >"$dir/apt.log" 2>&1; then
		return 0
	fi
	if [ $apt_updated -eq 0 ] && [ "$SUDO" != none ]; then
		say "apt-get update (host package lists)"
		$SUDO apt-get -qq update >/dev/null 2>&1 || true
		apt_updated=1
		(cd "$dir" && apt-get "${APT_DL[@]}" download "$pkg") >"$dir/apt.log" 2>&1 && return 0
	fi
	tail -n 3 "$dir/apt.log" >&2
	return 1
}

resolve_kernel_pkg() {
	local deps
	deps=$(apt-cache depends linux-image-amd64 2>/dev/null) || true
	awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }' <<<"$deps"
}

range() { # range FILE OFFSET LENGTH: those bytes of FILE on stdout
	dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=64K status=none
}

# Decompresses the bzImage payload into an ELF vmlinux if it has the PVH note.
extract_vmlinux() {
	local bz=$1 out=$2 ss po pl off magic notes st dec
	command -v readelf >/dev/null || { say "no readelf: no PVH image"; return 1; }
	ss=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
	[ "$ss" -eq 0 ] && ss=4
	po=$(od -An -tu4 -j $((0x248)) -N4 "$bz" | tr -d ' ')
	pl=$(od -An -tu4 -j $((0x24c)) -N4 "$bz" | tr -d ' ')
	[ "$(od -An -c -j $((0x202)) -N4 "$bz" | tr -d ' ')" = HdrS ] || return 1
	off=$(((ss + 1) * 512 + po))
	magic=$(range "$bz" "$off" 6 | od -An -tx1 | tr -d ' \n')
	# The payload ends with its 4-byte uncompressed size (not for gzip).
	case "$magic" in
	fd377a585a00*) dec=(xz -dc --single-stream) ;;
	28b52ffd*) dec=(zstd -qdc) pl=$((pl - 4)) ;;
	1f8b*) dec=(gzip -dc) ;;
	*) say "bzImage payload magic $magic not handled: no PVH image"; return 1 ;;
	esac
	set +o pipefail # the decompressor's status is what counts
	range "$bz" "$off" "$pl" | "${dec[@]}" >"$out.tmp" 2>/dev/null
	st=$?
	set -o pipefail
	if [ $st -ne 0 ] && ! { [ "${dec[0]}" = gzip ] && [ $st -eq 2 ]; }; then
		say "${dec[0]} failed on the bzImage payload: no PVH image"
		rm -f "$out.tmp"
		return 1
	fi
	if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n')" != 7f454c46 ]; then
		say "decompressed payload is not ELF: no PVH image"
		rm -f "$out.tmp"
		return 1
	fi
	# XEN_ELFNOTE_PHYS32_ENTRY (18) is what QEMU's PVH loader needs.
	notes=$(readelf -n "$out.tmp" 2>/dev/null) || true
	if ! grep -q '^ *Xen .*(0x00000012)' <<<"$notes"; then
		say "vmlinux has no PVH entry note: no PVH image"
		rm -f "$out.tmp"
		return 1
	fi
	mv "$out.tmp" "$out"
}

fetch_kernel() {
	local pkg kver tmp k list f base
	# .ok2: the module set with the NVMe driver (an older cache has .ok only)
	if [ "${UPCI_GUEST_REFRESH:-0}" != 1 ] && [ -f "$G/current/.ok2" ]; then
		return 0
	fi
	command -v apt-get >/dev/null || skip "apt-get not found (need Debian)"
	pkg=$(resolve_kernel_pkg)
	if [ -z "$pkg" ] && [ "$SUDO" != none ]; then
		say "apt-get update (host package lists)"
		$SUDO apt-get -qq update >/dev/null 2>&1 || true
		apt_updated=1
		pkg=$(resolve_kernel_pkg)
	fi
	[ -n "$pkg" ] || skip "apt-cache cannot resolve linux-image-amd64 (no package lists$([ $apt_updated = 1 ] && echo ', and apt-get update failed'))"
	kver=${pkg#linux-image-}
	k=$G/kernel/$kver
	if [ -f "$k/.ok2" ]; then
		ln -sfn "kernel/$kver" "$G/current"
		return 0
	fi
	say "download $pkg"
	tmp=$(mktemp -d "$G/tmp.XXXXXX")
	apt_download "$tmp" "$pkg" || { rm -rf "$tmp"; skip "cannot download $pkg"; }
	say "extract vmlinuz, the vfio and the NVMe modules"
	list=$tmp/list
	dpkg --fsys-tarfile "$tmp"/*.deb | tar -t | grep -E \
		'^\./boot/vmlinuz-|^\./(usr/)?lib/modules/[^/]+/(kernel/drivers/vfio/.*\.ko|kernel/drivers/iommu/iommufd/.*\.ko|kernel/virt/lib/irqbypass\.ko|kernel/drivers/nvme/host/nvme(-core)?\.ko|kernel/block/t10-pi\.ko|kernel/lib/crc(64|64-rocksoft|-t10dif)\.ko|kernel/crypto/(crct10dif_common|crct10dif_generic|crc64_rocksoft_generic)\.ko)(\.xz|\.zst|\.gz)?$|^\./(usr/)?lib/modules/[^/]+/modules\.builtin$' \
		>"$list" || true
	grep -q '^\./boot/vmlinuz-' "$list" || { rm -rf "$tmp"; die "$pkg has no ./boot/vmlinuz-*"; }
	mkdir -p "$tmp/x"
	dpkg --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp/x" -T "$list"
	rm -rf "$k"
	mkdir -p "$k/modules"
	mv "$tmp"/x/boot/vmlinuz-* "$k/vmlinuz"
	while read -r f; do
		base=$(basename "$f")
		case "$f" in
		*modules.builtin) cp "$tmp/x/$f" "$k/modules.builtin" ;;
		*.ko) cp "$tmp/x/$f" "$k/modules/$base" ;;
		*.ko.xz) xz -dc "$tmp/x/$f" >"$k/modules/${base%.xz}" ;;
		*.ko.zst) zstd -qdc "$tmp/x/$f" >"$k/modules/${base%.zst}" ;;
		*.ko.gz) gzip -dc "$tmp/x/$f" >"$k/modules/${base%.gz}" ;;
		esac
	done < <(grep '/lib/modules/' "$list")
	rm -rf "$tmp"
	if extract_vmlinux "$k/vmlinuz" "$k/vmlinux"; then
		say "PVH image: $k/vmlinux"
	fi
	touch "$k/.ok" "$k/.ok2"
	ln -sfn "kernel/$kver" "$G/current"
}

fetch_busybox() {
	local tmp
	[ -x "$G/busybox" ] && return 0
	say "download busybox-static"
	tmp=$(mktemp -d "$G/tmp.XXXXXX")
	apt_download "$tmp" busybox-static || { rm -rf "$tmp"; skip "cannot download busybox-static"; }
	dpkg --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" ./bin/busybox
	mv "$tmp/bin/busybox" "$G/busybox"
	rm -rf "$tmp"
}

# Host QEMU (bookworm: 7.2). Not fatal: the guest can also boot on QEMU 11.
host_qemu() {
	local q
	q=$(command -v qemu-system-x86_64 || true)
	if [ -z "$q" ] && [ "${UPCI_NO_HOST_INSTALL:-0}" != 1 ]; then
		if [ "$SUDO" = none ]; then
			say "note: qemu-system-x86_64 missing and no root/sudo to install qemu-system-x86"
		else
			say "apt-get install qemu-system-x86 (host)"
			if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86 >"$G/apt-qemu.log" 2>&1; then
				$SUDO apt-get -qq update >/dev/null 2>&1 || true
				DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86 >"$G/apt-qemu.log" 2>&1 ||
					{ tail -n 3 "$G/apt-qemu.log" >&2; say "note: could not install qemu-system-x86"; }
			fi
			q=$(command -v qemu-system-x86_64 || true)
		fi
	fi
	echo "$q"
}

fetch_kernel
fetch_busybox
Q=$(host_qemu)

K=$(readlink -f "$G/current")
VMLINUX=""
[ -f "$K/vmlinux" ] && VMLINUX=$K/vmlinux
{
	printf 'UPCI_GUEST_KVER=%q\n' "$(basename "$K")"
	printf 'UPCI_GUEST_VMLINUZ=%q\n' "$K/vmlinuz"
	printf 'UPCI_GUEST_VMLINUX=%q\n' "$VMLINUX"
	printf 'UPCI_GUEST_MODULES=%q\n' "$K/modules"
	printf 'UPCI_BUSYBOX=%q\n' "$G/busybox"
	printf 'UPCI_QEMU7=%q\n' "$Q"
} >"$G/env.new"
mv "$G/env.new" "$G/env"
say "ok: kernel $(basename "$K") ($(ls "$K/modules" | wc -l) modules${VMLINUX:+, PVH}), busybox, host QEMU: ${Q:-none}${Q:+ ($("$Q" --version | head -n1 | sed 's/.*version \([^ ]*\).*/\1/'))}"
say "env: $G/env"
