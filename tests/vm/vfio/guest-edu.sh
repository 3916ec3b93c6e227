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
echo "== CLI"
check "upci info $U" upci info "$U"
check "upci irq $U --fire (MSI)" upci irq "$U" --fire --count 20 --interval 0 --timeout 10000
check "upci irq $U --type intx --fire" upci irq "$U" --type intx --fire --count 20 --interval 0 --timeout 10000
finish
