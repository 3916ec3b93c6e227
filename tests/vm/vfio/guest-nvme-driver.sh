# Guest side of 'run.sh nvme-driver': two identical QEMU NVMe controllers
# on copies of one disk image the host filled with pattern seed 1: at 04.0
# the example user-space driver (examples/nvme) through vfio: and through
# vfio-user: (upci serve vfio: in this guest), at 05.0 the kernel's nvme
# driver, for the bench. The host checks the image's bytes afterwards.
. /lib/upci-guest-lib.sh
A=0000:00:04.0 K=0000:00:05.0
U=vfio:$A
# /init loaded nvme, which took both controllers: give 04.0 to vfio-pci.
p=/sys/bus/pci/devices/$A
[ -e $p/driver ] && echo $A >$p/driver/unbind
echo vfio-pci >$p/driver_override
echo $A >/sys/bus/pci/drivers_probe
[ "$(driver_of $A)" = vfio-pci ] && ok "$A bound to vfio-pci" || bad "$A: driver $(driver_of $A), not vfio-pci"
g=$(group_of $A)
n=0; while [ ! -c /dev/vfio/$g ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done

echo "== upci-nvme $U identify"
upci-nvme "$U" identify >/tmp/id.txt 2>&1; st=$?
cat /tmp/id.txt
[ $st -eq 0 ] && grep -q "namespace 1: $NBLOCKS blocks of 512 bytes" /tmp/id.txt &&
	ok "identify: $NBLOCKS blocks of 512 bytes" || bad "identify (exit $st)"
# Every byte the host wrote, through interrupts on 4 queue pairs, a thread
# each, each waiting on its own MSI-X vector's eventfd
# (upci_irq_set_eventfd: the kernel signals it directly); then a write of
# our own.
check "4 queues: verify all $NBLOCKS blocks have pattern 1" upci-nvme --queues 4 "$U" verify 1
check "fill: pattern 2 at LBA 1000 x 256" upci-nvme "$U" fill 2 1000 256
check "verify: pattern 2 at LBA 1000 x 256" upci-nvme "$U" verify 2 1000 256
check "verify by polling: LBA 0 x 1000 (pattern 1)" upci-nvme --poll "$U" verify 1 0 1000
check "3 queues: fill pattern 2 at LBA 1000 x 256 again" upci-nvme --queues 3 "$U" fill 2 1000 256
check "3 queues: verify pattern 2 at LBA 1000 x 256" upci-nvme --queues 3 "$U" verify 2 1000 256
grep -q "interrupts: MSI-X, each I/O queue's vector routed to its own eventfd" /tmp/id.txt &&
	grep -q "doorbells: upci_write32 through the mapped BAR0" /tmp/id.txt &&
	ok "identify: doorbells through upci_write32, per-queue eventfds" || bad "identify: how doorbells and interrupts work"
expect_err "a read past the namespace is refused" 1 "nvme $U:" upci-nvme "$U" read $NBLOCKS 1

echo "== the same driver through vfio-user: upci serve $U"
upci serve "$U" --socket /tmp/nvme.sock >/tmp/serve.log 2>&1 &
sp=$!
n=0; while [ ! -S /tmp/nvme.sock ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
V=vfio-user:/tmp/nvme.sock
check "vfio-user: identify" upci-nvme "$V" identify
check "vfio-user: verify LBA 0 x 1000 (pattern 1)" upci-nvme "$V" verify 1 0 1000
check "vfio-user: fill pattern 3 at LBA 5000 x 128" upci-nvme "$V" fill 3 5000 128
check "vfio-user: verify pattern 3 at LBA 5000 x 128" upci-nvme "$V" verify 3 5000 128
check "vfio-user: verify by polling LBA 1000 x 256 (pattern 2)" upci-nvme --poll "$V" verify 2 1000 256
# Through the server, each queue's eventfd is handed on to the kernel.
check "vfio-user: 2 queues: verify LBA 0 x 1000 (pattern 1)" upci-nvme --queues 2 "$V" verify 1 0 1000
kill $sp; wait $sp 2>/dev/null
cat /tmp/serve.log

echo "== bench: 4 KiB random reads, upci-nvme on $A vs the kernel's nvme on $K"
KD=""
for d in /sys/bus/pci/devices/$K/nvme/nvme*/nvme*n1; do [ -e "$d" ] && KD=/dev/$(basename "$d"); done
if [ -b "$KD" ]; then
	for qd in 1 32; do
		upci-nvme --qd $qd --seconds $BENCH_S "$U" bench || bad "upci-nvme bench qd $qd"
		upci-nvme --poll --qd $qd --seconds $BENCH_S "$U" bench || bad "upci-nvme --poll bench qd $qd"
		nvme_kbench "$KD" $qd $BENCH_S || bad "nvme_kbench qd $qd"
	done
	upci-nvme --queues 2 --qd 16 --seconds $BENCH_S "$U" bench || bad "upci-nvme bench: 2 queues of depth 16"
else
	bad "the kernel's nvme driver gave $K no block device (nvme module not loaded?)"
fi
finish
