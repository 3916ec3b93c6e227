# Guest side of 'run.sh vfio-user-guest': export QEMU's edu (kernel VFIO)
# with 'upci serve' inside the guest and run the conformance suite through
# the vfio-user client against it: vfio-user: -> upci serve -> vfio: -> edu.
. /lib/upci-guest-lib.sh
S=/tmp/edu.sock
upci serve "vfio:$UPCI_BDF" --socket "$S" >/tmp/serve.log 2>&1 &
SP=$!
i=0
while [ ! -S "$S" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$S" ] || { cat /tmp/serve.log; bad "upci serve vfio:$UPCI_BDF did not listen"; finish; }
ok "upci serve vfio:$UPCI_BDF listening on $S"
upci-conformance "vfio-user:$S" >/tmp/conf.txt 2>&1; st=$?
grep -v '^skip [0-9]* - testdev\.' /tmp/conf.txt
[ $st -eq 0 ] && ok "conformance on vfio-user:$S: $(tail -n1 /tmp/conf.txt)" ||
	bad "conformance on vfio-user:$S: $(tail -n1 /tmp/conf.txt)"
kill "$SP"; wait "$SP"; st=$?
[ $st -eq 0 ] && ok "upci serve stopped cleanly by SIGTERM" || { cat /tmp/serve.log; bad "upci serve exit $st"; }
finish
