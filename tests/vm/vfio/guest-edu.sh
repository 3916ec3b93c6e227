# Guest side of 'run.sh edu' (busybox sh, /test.sh): QEMU's edu bound to
# vfio-pci by /init. CONF_ARGS is set by run.sh (--edu-dma-4096 on QEMU 11).
. /lib/upci-guest-lib.sh
U=vfio:$UPCI_BDF
echo "== upci-conformance $CONF_ARGS $U (kernel $(uname -r))"
# shellcheck disable=SC2086
upci-conformance $CONF_ARGS "$U" >/tmp/conf.txt 2>&1
st=$?
grep -v '^skip [0-9]* - testdev\.' /tmp/conf.txt
if [ $st -eq 0 ]; then ok "conformance on $U: $(tail -n1 /tmp/conf.txt)"; else bad "conformance on $U: $(tail -n1 /tmp/conf.txt)"; fi
echo "== backend checks"
check "vfio_api $U" vfio_api "$U"
# Every call from several threads at once (ThreadSanitizer runs it on the
# host; here it checks that kernel VFIO keeps the same promises).
check "upci-stress $U" upci-stress --seconds 3 "$U"
echo "== huge pages: none reserved (-ENOMEM), then two"
upci-conformance -v --only dma.alloc_huge "$U" >/tmp/conf.txt 2>&1
cat /tmp/conf.txt
grep -q '^not ok' /tmp/conf.txt && bad "dma.alloc_huge with none reserved" || ok "dma.alloc_huge with none reserved"
if echo 2 >/proc/sys/vm/nr_hugepages 2>/dev/null && [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 2 ]; then
	upci-conformance -v --only dma.alloc_huge "$U" >/tmp/conf.txt 2>&1; st=$?
	cat /tmp/conf.txt
	[ $st -eq 0 ] && grep -q '^ok' /tmp/conf.txt && ! grep -q 'fewer than 2' /tmp/conf.txt &&
		ok "dma.alloc_huge with 2 pages reserved" || bad "dma.alloc_huge with 2 pages reserved"
	echo 0 >/proc/sys/vm/nr_hugepages
else
	echo "skip - cannot reserve 2 MiB huge pages in this guest"
fi
echo "== CLI"
check "upci info $U" upci info "$U"
check "upci irq $U --fire (MSI)" upci irq "$U" --fire --count 20 --interval 0 --timeout 10000
check "upci irq $U --type intx --fire" upci irq "$U" --type intx --fire --count 20 --interval 0 --timeout 10000
finish
