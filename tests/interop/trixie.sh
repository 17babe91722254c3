# shellcheck shell=bash disable=SC2154  # prog, CACHE: nvmet-vm's
# trixie.sh — Debian 13 (trixie) user space for the nvmet-vm guest's TLS:
# tlshd (ktls-utils 1.0.0), keyctl (keyutils) and nvme-cli 2.13 with every
# shared library they need, from trixie itself (Debian 12 has no ktls-utils).
# Sourced by nvmet-vm (bash); uses its CACHE, prog, need, skip.
#
# The packages are fetched with `apt-get download` through an apt state of
# our own (sources list, lists, cache under $CACHE/trixie/.apt): the
# machine's apt configuration is never changed. The mirror is the one this
# machine's apt sources name for Debian (NVMEOF_VM_TRIXIE_MIRROR overrides).
# The files are unpacked into $CACHE/trixie/KEY/root (KEY: a hash of the
# package versions), which nvmet-vm copies into the guest as /trixie; the
# programs run there with trixie's own loader and libraries:
#   /trixie/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path ...
# Once fetched, the set is reused without the network (TRIXIE_REFRESH=1 to
# fetch again).

TRIXIE_ROOTS=(ktls-utils keyutils nvme-cli)

# trixie_mirror: the Debian mirror URI of this machine's apt sources.
trixie_mirror() {
	local f uri
	if [[ -n ${NVMEOF_VM_TRIXIE_MIRROR:-} ]]; then
		echo "$NVMEOF_VM_TRIXIE_MIRROR"
		return 0
	fi
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -r $f ]] || continue
		# deb [options] URI SUITE COMPONENTS...
		uri=$(sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([a-z]\+:[^[:space:]]*\)[[:space:]]\+[a-z]\+[[:space:]].*/\2/p' "$f" |
			grep -v -e security -e '/debian-ports' | grep '/debian/\{0,1\}$' | head -n 1) || true
		[[ -z $uri ]] || { echo "${uri%/}"; return 0; }
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		uri=$(sed -n 's/^URIs:[[:space:]]*//p' "$f" | tr ' ' '\n' |
			grep -v security | grep '/debian/\{0,1\}$' | head -n 1) || true
		[[ -z $uri ]] || { echo "${uri%/}"; return 0; }
	done
	return 1
}

# ensure_trixie: TRIXIE_DIR = the cached set (root/, packages), TRIXIE_KEY.
ensure_trixie() {
	local base st mirror key tmp p d x v q=() pkgs=() keyring
	local -A seen=()
	base=$CACHE/trixie
	if [[ -z ${TRIXIE_REFRESH:-} && -s $base/current ]]; then
		TRIXIE_KEY=$(< "$base/current")
		TRIXIE_DIR=$base/$TRIXIE_KEY
		if [[ -x $TRIXIE_DIR/root/usr/sbin/tlshd && -s $TRIXIE_DIR/packages ]]; then
			touch "$TRIXIE_DIR"
			return 0
		fi
	fi
	need apt-get apt
	need dpkg-deb dpkg
	mirror=$(trixie_mirror) ||
		skip "no Debian mirror in this machine's apt sources (set NVMEOF_VM_TRIXIE_MIRROR)"
	st=$base/.apt
	rm -rf "$st"
	mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/debs"
	: > "$st/status"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	if [[ -r $keyring ]]; then
		echo "deb [signed-by=$keyring] $mirror trixie main" > "$st/sources.list"
	else
		echo "deb $mirror trixie main" > "$st/sources.list"
	fi
	local -a apt=(-o "Dir::Etc::sourcelist=$st/sources.list" -o "Dir::Etc::sourceparts=-"
		-o "Dir::State::Lists=$st/lists" -o "Dir::Cache=$st/cache"
		-o "Dir::State::status=$st/status" -o "APT::Architecture=amd64"
		-o "Debug::NoLocking=1")
	echo "$prog: fetching trixie's ${TRIXIE_ROOTS[*]} from $mirror" >&2
	if ! apt-get "${apt[@]}" -q --error-on=any update > "$st/apt.log" 2>&1; then
		cat "$st/apt.log" >&2
		skip "apt-get update of trixie from $mirror failed"
	fi
	# The roots and, through Depends/Pre-Depends (first alternative), every
	# library package they need; other packages (uuid-runtime, adduser, ...)
	# are for installing, not for running the programs.
	q=("${TRIXIE_ROOTS[@]}")
	while ((${#q[@]})); do
		p=${q[0]}
		q=("${q[@]:1}")
		[[ -z ${seen[$p]:-} ]] || continue
		seen[$p]=1
		case " ${TRIXIE_ROOTS[*]} " in
		*" $p "*) ;;
		*) [[ $p == lib* ]] || continue ;;
		esac
		d=$(apt-cache "${apt[@]}" show --no-all-versions "$p" 2> /dev/null) ||
			skip "trixie has no package $p"
		v=$(sed -n 's/^Version: //p' <<< "$d" | head -n 1)
		pkgs+=("$p=$v")
		d=$(sed -n 's/^\(Pre-\)\{0,1\}Depends: //p' <<< "$d" | tr '\n' ',')
		IFS=',' read -ra x <<< "$d"
		for d in "${x[@]}"; do
			d=${d%%|*} d=${d%%(*} d=${d%%:*}
			d=${d//[[:space:]]/}
			[[ -z $d ]] || q+=("$d")
		done
	done
	key=$(printf '%s\n' "${pkgs[@]}" | LC_ALL=C sort | sha256sum | cut -c1-16)
	if ! (cd "$st/debs" && apt-get "${apt[@]}" -q download "${pkgs[@]}") >> "$st/apt.log" 2>&1; then
		cat "$st/apt.log" >&2
		skip "apt-get download of trixie's ${pkgs[*]} failed"
	fi
	tmp=$(mktemp -d "$base/.tmp.XXXXXX")
	mkdir "$tmp/root"
	for p in "$st"/debs/*.deb; do
		dpkg-deb -x "$p" "$tmp/root" || { rm -rf "$tmp"; die "cannot unpack $p"; }
	done
	rm -rf "$tmp/root/usr/share/doc" "$tmp/root/usr/share/man" "$tmp/root/usr/share/locale" \
		"$tmp/root/usr/share/lintian" "$tmp/root/usr/share/bash-completion" \
		"$tmp/root/usr/share/zsh" "$tmp/root/etc/init.d" "$tmp/root/usr/lib/systemd" \
		"$tmp/root/lib/systemd"
	printf '%s\n' "${pkgs[@]}" | LC_ALL=C sort > "$tmp/packages"
	[[ -x $tmp/root/usr/sbin/tlshd ]] || { rm -rf "$tmp"; die "no usr/sbin/tlshd in ktls-utils"; }
	[[ -e $tmp/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 ]] ||
		{ rm -rf "$tmp"; die "no trixie loader usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"; }
	chmod 755 "$tmp"
	rm -rf "${base:?}/$key"
	mv "$tmp" "$base/$key"
	echo "$key" > "$base/current"
	rm -rf "$st"
	TRIXIE_KEY=$key
	TRIXIE_DIR=$base/$key
	echo "$prog: trixie set $key: $(tr '\n' ' ' < "$TRIXIE_DIR/packages")" >&2
}

# trixie_install ROOT: copy the set into ROOT/trixie and put wrappers for
# tlshd, keyctl and nvme-cli 2.13 (`nvme213`, beside Debian 12's nvme) in
# ROOT/bin.
trixie_install() {
	local root=$1 w lp
	cp -a "$TRIXIE_DIR/root" "$root/trixie"
	lp=/trixie/usr/lib/x86_64-linux-gnu:/trixie/lib/x86_64-linux-gnu
	for w in tlshd:usr/sbin/tlshd keyctl:bin/keyctl nvme213:usr/sbin/nvme; do
		[[ -e $root/trixie/${w#*:} || -e $root/trixie/usr/${w#*:} ]] || die "no ${w#*:} in the trixie set"
		local path=/trixie/${w#*:}
		[[ -e $root$path ]] || path=/trixie/usr/${w#*:}
		printf '#!/bin/sh\nexec /trixie/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path %s %s "$@"\n' \
			"$lp" "$path" > "$root/bin/${w%%:*}"
		chmod 755 "$root/bin/${w%%:*}"
	done
}
