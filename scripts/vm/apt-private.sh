# Sourced by scripts/vm/fetch-qemu11.sh and build-kernel.sh: download
# packages of another Debian suite without touching the host's apt
# configuration or its installed packages. Needs say() and skip() from
# the caller.

# The Debian archive apt already uses: first non-security URI of
# debian.sources (deb822), else of sources.list; UPCI_DEBIAN_MIRROR wins.
debian_mirror() {
	local m="" f=/etc/apt/sources.list.d/debian.sources
	if [ -n "${UPCI_DEBIAN_MIRROR:-}" ]; then
		echo "$UPCI_DEBIAN_MIRROR"
		return
	fi
	if [ -r "$f" ]; then
		m=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
	fi
	if [ -z "$m" ] && [ -r /etc/apt/sources.list ]; then
		m=$(awk '$1 == "deb" {
			for (i = 2; i <= NF; i++) {
				if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; continue }
				if ($i !~ /security/) { print $i; exit }
				break
			}
		}' /etc/apt/sources.list)
	fi
	echo "$m"
}

# private_apt DIR SUITE...: an apt state under DIR with only SUITE's
# package lists (from the host's mirror) and nothing installed; sets
# PRIVATE_APT to the apt-get/apt-cache options that use it, and M to the
# mirror, then updates the lists. Skips (exit 77) when that is impossible.
private_apt() {
	local dir=$1 s out
	shift
	command -v apt-get >/dev/null && command -v dpkg >/dev/null || skip "apt-get/dpkg not found (need Debian)"
	M=$(debian_mirror)
	[ -n "$M" ] || skip "no Debian archive found in /etc/apt (set UPCI_DEBIAN_MIRROR)"
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/state"
	[ -f "$dir/state/status" ] || : >"$dir/state/status"
	: >"$dir/src.list"
	for s in "$@"; do
		printf 'deb %s %s main\n' "$M" "$s" >>"$dir/src.list"
	done
	PRIVATE_APT=(-o "Dir::Etc::SourceList=$dir/src.list" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
		-o "Dir::State::status=$dir/state/status" -o APT::Architectures=amd64
		-o Debug::NoLocking=1 -o quiet=2)
	[ "$(id -u)" -eq 0 ] && PRIVATE_APT+=(-o APT::Sandbox::User=root)
	say "apt-get update ($* from $M)"
	if ! out=$(apt-get "${PRIVATE_APT[@]}" update 2>&1) || grep -q '^[WE]: Failed to fetch' <<<"$out"; then
		printf '%s\n' "$out" | tail -n 5 >&2
		skip "cannot download package lists from $M"
	fi
}
