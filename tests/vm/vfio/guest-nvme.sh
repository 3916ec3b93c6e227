# Guest side of 'run.sh nvme': QEMU's NVMe controller (1b36:0010: 65 MSI-X
# vectors in BAR0 with the registers, 64-bit BAR, FLR) bound to vfio-pci.
. /lib/upci-guest-lib.sh
U=vfio:$UPCI_BDF
echo "== upci info $U"
upci info "$U" >/tmp/info.txt 2>&1; st=$?
cat /tmp/info.txt
[ $st -eq 0 ] && grep -q 'MSI-X: Enable. Count=65 ' /tmp/info.txt && grep -q '64-bit' /tmp/info.txt &&
	ok "upci info: 65 MSI-X vectors, 64-bit BAR" || bad "upci info (exit $st)"
echo "== upci irq $U --type msix (nothing fires: it must time out)"
upci irq "$U" --type msix --timeout 300 >/tmp/irq.txt 2>/tmp/irqerr.txt; st=$?
cat /tmp/irq.txt /tmp/irqerr.txt
[ $st -eq 1 ] && grep -q 'MSI-X, 65 vectors enabled' /tmp/irq.txt && grep -q 'timed out' /tmp/irqerr.txt &&
	ok "upci irq: 65 MSI-X vectors enabled, timed out as asked" || bad "upci irq (exit $st)"
echo "== nvme_msix: admin + I/O queues firing chosen vectors"
check "nvme_msix $U" nvme_msix "$U" 1 2 3 31 63 64
echo "== upci-conformance $U (generic cases on a real MSI-X device)"
upci-conformance "$U" >/tmp/conf.txt 2>&1; st=$?
grep -v '^skip [0-9]* - \(edu\|testdev\)\.' /tmp/conf.txt
[ $st -eq 0 ] && ok "conformance on $U: $(tail -n1 /tmp/conf.txt)" || bad "conformance on $U: $(tail -n1 /tmp/conf.txt)"
check "upci reset $U (FLR)" upci reset "$U"
finish
