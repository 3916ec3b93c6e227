# Guest side of 'run.sh host': upci list / bind / unbind / reset on the
# host's own PCI functions. Nothing is bound by /init. Topology (run.sh):
#   00:03.0 edu (no driver)          00:04.0 pci-serial (driver: serial)
#   00:05.0 PCIe-to-PCI bridge -> edu at 01.0 + pci-serial at 02.0, all in
#           one IOMMU group (conventional devices behind a bridge)
#   00:06.0 PCIe root port     -> edu alone on its bus
. /lib/upci-guest-lib.sh
EDU=0000:00:03.0 SER=0000:00:04.0 BR=0000:00:05.0 RP=0000:00:06.0
child() { # the function behind bridge $1 with vendor:device $2:$3
	for d in $(find_devs "$2" "$3"); do [ "$(parent_of "$d")" = "$1" ] && echo "$d"; done
}
BR_EDU=$(child $BR 1234 11e8) BR_SER=$(child $BR 1b36 0002) RP_EDU=$(child $RP 1234 11e8)
echo "topology: edu $EDU, serial $SER; behind $BR: edu $BR_EDU, serial $BR_SER; behind $RP: edu $RP_EDU"
[ -n "$BR_EDU" ] && [ -n "$BR_SER" ] && [ -n "$RP_EDU" ] || { bad "devices not found where expected"; finish; }
[ "$(driver_of $SER)" = serial ] || bad "pci-serial is not bound to serial at start ($(driver_of $SER))"
record() { cat "/run/upci/$1.driver" 2>/dev/null || echo "(no record)"; }

echo "== upci list"
upci list >/tmp/list.txt 2>&1; st=$?
cat /tmp/list.txt
[ $st -eq 0 ] && grep -q "^$EDU .*1234:11e8 .* -  *$(group_of $EDU)  *upci bind $EDU\$" /tmp/list.txt &&
	grep -q "^$SER .*1b36:0002 .* serial  *$(group_of $SER)  *upci bind $SER\$" /tmp/list.txt &&
	grep -q "^$BR .* -\$" /tmp/list.txt &&
	ok "upci list: IDs, drivers, groups, how to reach each" || bad "upci list (exit $st)"

echo "== bind/unbind a function with no driver"
check "upci bind $EDU" upci bind $EDU
[ "$(driver_of $EDU)" = vfio-pci ] && [ "$(record $EDU)" = "" ] && ok "$EDU on vfio-pci, recorded: no driver" ||
	bad "$EDU: driver $(driver_of $EDU), record '$(record $EDU)'"
upci list --vfio | grep -q "vfio:$EDU\$" && ok "upci list --vfio shows vfio:$EDU" || bad "upci list --vfio"
check "upci info vfio:$EDU" upci info "vfio:$EDU" >/dev/null
check "upci bind $EDU again (already bound: fine)" upci bind $EDU
# In use: unbind must refuse rather than block in the kernel.
upci irq "vfio:$EDU" --timeout 4000 >/dev/null 2>&1 &
IRQ=$!
sleep 1
expect_err "unbind while in use" 1 "upci: $EDU: unbind: in use" upci unbind $EDU
kill $IRQ 2>/dev/null; wait $IRQ 2>/dev/null
check "upci unbind $EDU" upci unbind $EDU
[ "$(driver_of $EDU)" = none ] && [ ! -e /run/upci/$EDU.driver ] && ok "$EDU back to no driver, record removed" ||
	bad "$EDU after unbind: driver $(driver_of $EDU)"

echo "== bind/unbind a function with a driver (8250 serial)"
check "upci bind 00:04.0 (short BDF)" upci bind 00:04.0
[ "$(driver_of $SER)" = vfio-pci ] && [ "$(record $SER)" = serial ] && ok "$SER on vfio-pci, recorded: serial" ||
	bad "$SER: driver $(driver_of $SER), record '$(record $SER)'"
check "upci unbind vfio:$SER" upci unbind "vfio:$SER"
[ "$(driver_of $SER)" = serial ] && [ "$(cat /sys/bus/pci/devices/$SER/driver_override)" = "(null)" ] &&
	ok "$SER back on serial, no driver_override left" || bad "$SER after unbind: driver $(driver_of $SER)"

echo "== refusals: one line 'upci: <BDF>: <op>: <reason>'"
expect_err "bind an absent function" 3 "upci: 0000:00:1e.0: bind: no such PCI function" upci bind 0000:00:1e.0
expect_err "bind a bridge" 1 "upci: $BR: bind: is a bridge" upci bind $BR
expect_err "bind a bad BDF" 2 "upci: bind: " upci bind 00:20.0
expect_err "unbind a function not on vfio-pci" 1 "upci: $SER: unbind: not bound to vfio-pci (driver: serial)" upci unbind $SER
expect_err "bind into a group shared with a bound serial" 1 \
	"upci: $BR_EDU: bind: IOMMU group $(group_of $BR_EDU) also holds $BR_SER (serial)" upci bind $BR_EDU
[ "$(driver_of $BR_EDU)" = none ] && [ "$(cat /sys/bus/pci/devices/$BR_EDU/driver_override)" = "(null)" ] &&
	ok "refused bind left $BR_EDU untouched" || bad "refused bind changed $BR_EDU"
expect_err "open a function not bound to vfio-pci" 1 "upci: vfio:$BR_EDU: " upci info "vfio:$BR_EDU"

echo "== a whole group: bind both, hot reset (edu shares its bus)"
check "upci bind $BR_SER" upci bind $BR_SER
check "upci bind $BR_EDU" upci bind $BR_EDU
# serial takes $BR_SER back behind upci's back: upci list (upci_enumerate)
# names what now keeps $BR_EDU from opening; then as upci bind left it.
echo "$BR_SER" >/sys/bus/pci/drivers/vfio-pci/unbind
echo serial >/sys/bus/pci/devices/$BR_SER/driver_override
echo "$BR_SER" >/sys/bus/pci/drivers_probe
upci list >/tmp/list.txt 2>&1
grep -q "^note: $BR_EDU: IOMMU group $(group_of $BR_EDU) also holds $BR_SER, bound to serial: bind it to vfio-pci too\$" \
	/tmp/list.txt && ok "upci list names the group member that keeps $BR_EDU from opening" ||
	{ cat /tmp/list.txt; bad "upci list: no note on $BR_EDU's group"; }
echo "$BR_SER" >/sys/bus/pci/drivers/serial/unbind
echo vfio-pci >/sys/bus/pci/devices/$BR_SER/driver_override
echo "$BR_SER" >/sys/bus/pci/drivers_probe
[ "$(driver_of $BR_SER)" = vfio-pci ] && ok "$BR_SER back on vfio-pci" || bad "$BR_SER: driver $(driver_of $BR_SER)"
check "upci reset vfio:$BR_EDU (bus reset through VFIO_DEVICE_PCI_HOT_RESET)" upci reset "vfio:$BR_EDU"
upci-conformance --only reset.state_kept "vfio:$BR_EDU" >/tmp/conf.txt 2>&1; st=$?
[ $st -eq 0 ] && ok "reset.state_kept on $BR_EDU: $(grep '^ok\|^not ok' /tmp/conf.txt)" ||
	{ cat /tmp/conf.txt; bad "reset.state_kept on $BR_EDU"; }
check "upci unbind $BR_EDU" upci unbind $BR_EDU
check "upci unbind $BR_SER" upci unbind $BR_SER
[ "$(driver_of $BR_SER)" = serial ] && [ "$(driver_of $BR_EDU)" = none ] && ok "group restored" ||
	bad "group after unbind: $BR_SER $(driver_of $BR_SER), $BR_EDU $(driver_of $BR_EDU)"

echo "== alone behind a root port: VFIO_DEVICE_RESET (bus reset)"
check "upci bind $RP_EDU" upci bind $RP_EDU
upci-conformance --only reset.state_kept "vfio:$RP_EDU" >/tmp/conf.txt 2>&1; st=$?
[ $st -eq 0 ] && ok "reset.state_kept on $RP_EDU: $(grep '^ok\|^not ok' /tmp/conf.txt)" ||
	{ cat /tmp/conf.txt; bad "reset.state_kept on $RP_EDU"; }

echo "== one DMA space for $EDU and $RP_EDU (type1: one container, the groups moved into it)"
check "upci bind $EDU" upci bind $EDU
upci-conformance --only dma.space --peer "vfio:$RP_EDU" "vfio:$EDU" >/tmp/conf.txt 2>&1; st=$?
grep '^ok\|^not ok\|^skip' /tmp/conf.txt
[ $st -eq 0 ] && ! grep -q '^skip' /tmp/conf.txt && ok "conformance --only dma.space --peer: $(tail -n1 /tmp/conf.txt)" ||
	bad "conformance --only dma.space --peer: $(tail -n1 /tmp/conf.txt)"
check "vfio_api vfio:$EDU --space vfio:$RP_EDU" vfio_api "vfio:$EDU" --space "vfio:$RP_EDU"
check "upci unbind $EDU" upci unbind $EDU
check "upci unbind $RP_EDU" upci unbind $RP_EDU
finish
