#!/bin/sh
# Every option that a subcommand's --help prints is documented in
# man/nvmeof.8, and every command of "nvmeof --help" has its own entry.
. "$(dirname "$0")/lib.sh"
command -v mandoc >/dev/null 2>&1 || skip "mandoc is not installed"
mandoc -T ascii "$MAN8" | sed 's/.\x08//g' >"$T/man.txt" || fail "mandoc failed"
expect 0 --help
cmds=$(sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p' "$T/out")
[ -n "$cmds" ] || fail "no commands in nvmeof --help"
count=0
for cmd in $cmds; do
	grep -q "^     $cmd" "$T/man.txt" || fail "command $cmd has no entry in nvmeof(8)"
	expect 0 "$cmd" --help
	head -n 1 "$T/out" | grep -q "^Usage: nvmeof $cmd " || fail "$cmd --help: no usage line"
	# "  -q, --queue-depth DEPTH  ..." and "      --verify  ..."
	sed -n 's/^  \(-[A-Za-z]\), \(--[a-z0-9-]*\).*/\1 \2/p; s/^      \(--[a-z0-9-]*\).*/\1/p' \
		"$T/out" >"$T/opts"
	[ -s "$T/opts" ] || fail "$cmd --help lists no options"
	for opt in $(cat "$T/opts"); do
		# the option name as a word: not a prefix of a longer one
		grep -qE -- "(^|[^-a-z])$opt([^-a-z]|\$)" "$T/man.txt" ||
			fail "'nvmeof $cmd --help' prints $opt, which nvmeof(8) does not document"
		count=$((count + 1))
	done
done
echo "checked $count options of $(echo $cmds | wc -w) commands"
