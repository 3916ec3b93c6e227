# Guest side of 'run.sh iommufd' (busybox sh, /test.sh): our own 6.12 kernel
# (scripts/vm/build-kernel.sh: IOMMUFD, VFIO_DEVICE_CDEV and VFIO_GROUP built
# in). The library must take the iommufd + cdev path by itself, pass the
# conformance suite there, and still work through the group/type1 path when
# told to. Topology (run.sh); /init binds only the NVMe, the edus are bound
# here with upci bind:
#   00:02.0 edu    00:03.0 NVMe (65 MSI-X vectors, FLR)
#   00:05.0 PCIe-to-PCI bridge -> edu at 01.0 + pci-serial at 02.0 (one
#           IOMMU group: hot reset)
#   00:06.0 PCIe root port     -> edu alone on its bus (VFIO_DEVICE_RESET)
. /lib/upci-guest-lib.sh
EDU=0000:00:02.0 NVME=$UPCI_BDF_1b36_0010 BR=0000:00:05.0 RP=0000:00:06.0
child() { # the function behind bridge $1 with vendor:device $2:$3
	for d in $(find_devs "$2" "$3"); do [ "$(parent_of "$d")" = "$1" ] && echo "$d"; done
}
BR_EDU=$(child $BR 1234 11e8) BR_SER=$(child $BR 1b36 0002) RP_EDU=$(child $RP 1234 11e8)
echo "topology: edu $EDU, NVMe $NVME; behind $BR: edu $BR_EDU, serial $BR_SER; behind $RP: edu $RP_EDU"
[ -n "$NVME" ] && [ -n "$BR_EDU" ] && [ -n "$BR_SER" ] && [ -n "$RP_EDU" ] || { bad "devices not found where expected"; finish; }
for b in $EDU $BR_SER $BR_EDU $RP_EDU; do
	upci bind "$b" >/dev/null || bad "upci bind $b"
done
U=vfio:$EDU
echo "== kernel $(uname -r): /dev/iommu and the VFIO cdevs"
[ -c /dev/iommu ] && ok "/dev/iommu is there" || bad "no /dev/iommu (CONFIG_IOMMUFD?)"
for b in $EDU $NVME; do
	n=$(ls /sys/bus/pci/devices/"$b"/vfio-dev 2>/dev/null | head -n1)
	[ -n "$n" ] && [ -c /dev/vfio/devices/"$n" ] && ok "$b: /dev/vfio/devices/$n" ||
		bad "$b: no VFIO cdev (sysfs vfio-dev: '$n'; CONFIG_VFIO_DEVICE_CDEV?)"
done
CDEV=/dev/vfio/devices/$(ls /sys/bus/pci/devices/"$EDU"/vfio-dev 2>/dev/null | head -n1)

# path_of MODE: which path the library says it took ("" = UPCI_VFIO_PATH unset).
path_of() {
	UPCI_VFIO_PATH=$1 UPCI_LOG=debug upci info "$U" 2>&1 >/dev/null |
		sed -n "s/.*$EDU: opened through \([a-z]*\) .*/\1/p" | head -n1
}
echo "== which path"
p=$(path_of "")
[ "$p" = iommufd ] && ok "UPCI_VFIO_PATH unset: opened through iommufd" || bad "UPCI_VFIO_PATH unset: opened through '$p' (want iommufd)"
p=$(path_of iommufd)
[ "$p" = iommufd ] && ok "UPCI_VFIO_PATH=iommufd: opened through iommufd" || bad "UPCI_VFIO_PATH=iommufd: '$p'"
p=$(path_of group)
[ "$p" = group ] && ok "UPCI_VFIO_PATH=group: opened through group" || bad "UPCI_VFIO_PATH=group: '$p'"

# The kernel's side: while 'upci irq' waits (it said so, after enabling its
# interrupts: opening is over), which device files does it hold? (An
# eventfd alone is no sign: the handle has one from its first steps.)
fds_of() { # fds_of MODE: the /dev files of an open handle, sorted
	UPCI_VFIO_PATH=$1 upci irq "$U" --timeout 5000 >/tmp/fds-$1.txt 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 50 ] && ! grep -q 'waiting' /tmp/fds-$1.txt 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	l=$(ls -l /proc/$pid/fd 2>/dev/null | sed -n 's/.* -> \(\/dev\/.*\)/\1/p' | grep -v '^/dev/\(console\|null\)$' | sort -u | tr '\n' ' ')
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -n "$l" ] || sed 's/^/  | /' /tmp/fds-$1.txt >&2 # why it held nothing
	echo "$l"
}
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
G=/dev/vfio/$(group_of "$EDU")
f=$(fds_of iommufd)
has "$f" /dev/iommu && has "$f" "$CDEV" && ! has "$f" /dev/vfio/vfio && ! has "$f" "$G" &&
	ok "an iommufd handle holds $f" || bad "an iommufd handle holds '$f' (want /dev/iommu and $CDEV only)"
f=$(fds_of group)
has "$f" /dev/vfio/vfio && has "$f" "$G" && ! has "$f" /dev/iommu && ! has "$f" "$CDEV" &&
	ok "a group handle holds $f" || bad "a group handle holds '$f' (want /dev/vfio/vfio and $G only)"

# Another user who was given the group's node only (the set-up that predates
# cdevs) still gets the device: through the group, by itself.
chmod 755 / # the initramfs root comes from a mktemp -d (0700)
echo 'upci:x:1000:1000::/tmp:/bin/sh' >>/etc/passwd
echo 'upci:x:1000:' >>/etc/group
chown 1000 "$G"
p=$(su -s /bin/sh upci -c "UPCI_LOG=debug upci info $U" 2>&1 >/dev/null | sed -n "s/.*$EDU: opened through \([a-z]*\) .*/\1/p")
[ "$p" = group ] && ok "a user owning only $G: opened through group" || bad "a user owning only $G: opened through '$p' (want group)"
expect_err "that user, forced to iommufd" 1 "upci: $U: " su -s /bin/sh upci -c "UPCI_VFIO_PATH=iommufd upci info $U"
chown 0 "$G"

dmar_faults() { dmesg | grep -c 'DMAR: \[DMA'; }
for mode in iommufd group; do
	echo "== UPCI_VFIO_PATH=$mode upci-conformance $U"
	f0=$(dmar_faults)
	UPCI_VFIO_PATH=$mode upci-conformance "$U" >/tmp/conf.txt 2>&1
	st=$?
	f1=$(dmar_faults)
	grep -v '^skip [0-9]* - testdev\.' /tmp/conf.txt
	[ $st -eq 0 ] && ok "conformance ($mode) on $U: $(tail -n1 /tmp/conf.txt)" ||
		bad "conformance ($mode) on $U: $(tail -n1 /tmp/conf.txt)"
	# edu.dma_unmapped_blocked aims a DMA at an unmapped IOVA: the IOMMU
	# must have refused it (and the kernel logged the fault).
	[ "$f1" -gt "$f0" ] && ok "$mode: the IOMMU blocked $((f1 - f0)) DMA(s) to unmapped IOVAs (DMAR faults)" ||
		bad "$mode: no DMAR fault logged during the conformance run"
done
dmesg | grep 'DMAR: \[DMA' | tail -n 2

echo "== backend checks ($U, iommufd by default)"
check "vfio_api $U" vfio_api "$U"
check "upci irq $U --fire (MSI, iommufd)" upci irq "$U" --fire --count 20 --interval 0 --timeout 10000
check "upci irq $U --type intx --fire (iommufd)" upci irq "$U" --type intx --fire --count 20 --interval 0 --timeout 10000

echo "== resets through iommufd"
# edu behind the bridge shares its bus with the serial of its group: a hot
# reset with no group fds, the kernel checks the group is ours through the
# iommufd (VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED).
r=$(UPCI_VFIO_PATH=iommufd UPCI_LOG=debug upci reset "vfio:$BR_EDU" 2>&1)
st=$?
echo "$r" | grep 'reset'
[ $st -eq 0 ] && echo "$r" | grep -q 'reset (bus reset)' && ok "hot reset of $BR_EDU (shares its bus) through iommufd" ||
	bad "hot reset of $BR_EDU through iommufd (exit $st)"
for b in $BR_EDU $RP_EDU; do
	UPCI_VFIO_PATH=iommufd upci-conformance --only reset "vfio:$b" >/tmp/conf.txt 2>&1
	st=$?
	grep '^ok\|^not ok\|^skip' /tmp/conf.txt
	[ $st -eq 0 ] && ! grep -q '^skip [0-9]* - \(reset\.\|edu\.reset\)' /tmp/conf.txt && ok "conformance --only reset (iommufd) on $b" ||
		bad "conformance --only reset (iommufd) on $b: $(tail -n1 /tmp/conf.txt)"
done

if upci serve --help >/dev/null 2>&1; then
	echo "== upci serve $U (iommufd: DMA regions the client shares go through IOMMU_IOAS_MAP)"
	S=/tmp/edu.sock
	upci serve "$U" --socket "$S" >/tmp/serve.log 2>&1 &
	SP=$!
	i=0
	while [ ! -S "$S" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	ls -l /proc/$SP/fd 2>/dev/null | grep -q ' /dev/iommu$' && ok "upci serve holds $U through /dev/iommu" ||
		bad "upci serve does not hold /dev/iommu"
	upci-conformance "vfio-user:$S" >/tmp/conf.txt 2>&1
	st=$?
	grep '^not ok' /tmp/conf.txt
	[ $st -eq 0 ] && ok "conformance on vfio-user:$S -> $U: $(tail -n1 /tmp/conf.txt)" ||
		bad "conformance on vfio-user:$S -> $U: $(tail -n1 /tmp/conf.txt)"
	kill "$SP"
	wait "$SP" || { tail -n 5 /tmp/serve.log; bad "upci serve exit status"; }
fi

echo "== DMA spaces: $U and vfio:$RP_EDU in one IOVA space (one IOAS; one type1 container)"
for mode in iommufd group; do
	UPCI_VFIO_PATH=$mode upci-conformance --only dma. --peer "vfio:$RP_EDU" "$U" >/tmp/conf.txt 2>&1
	st=$?
	grep '^ok\|^not ok\|^skip' /tmp/conf.txt
	[ $st -eq 0 ] && ! grep -q '^skip [0-9]* - dma\.space' /tmp/conf.txt &&
		ok "conformance --only dma. --peer ($mode): $(tail -n1 /tmp/conf.txt)" ||
		bad "conformance --only dma. --peer ($mode): $(tail -n1 /tmp/conf.txt)"
	check "vfio_api $U --space vfio:$RP_EDU ($mode)" env UPCI_VFIO_PATH=$mode vfio_api "$U" --space "vfio:$RP_EDU"
done

echo "== NVMe vfio:$NVME through iommufd: 65 MSI-X vectors, queues by DMA, FLR"
check "nvme_msix vfio:$NVME (iommufd)" env UPCI_VFIO_PATH=iommufd nvme_msix "vfio:$NVME" 1 2 64
check "upci reset vfio:$NVME (FLR, iommufd)" env UPCI_VFIO_PATH=iommufd upci reset "vfio:$NVME"
finish
