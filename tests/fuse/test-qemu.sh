#!/bin/sh
# QEMU's block layer on a namespace file: cache=none (O_DIRECT) with
# aio=native and threads, 512-byte requests on 4 KiB LBAs (read-modify-
# write), qemu-img convert/compare.
. "$(dirname "$0")/lib.sh"
need qemu-io qemu-img
start_target
do_mount

for aio in threads native; do
	opts="driver=raw,file.driver=file,file.filename=$MNT/n1,file.aio=$aio,cache.direct=on"
	qemu-io --image-opts "$opts" \
		-c "write -P 0xab 512 4096" -c "write -P 0xcd 1024 512" \
		-c "aio_write -P 0x11 1048576 512" -c "aio_write -P 0x22 1049088 512" \
		-c "aio_write -P 0x33 1049600 1536" -c "aio_flush" \
		-c "read -P 0xab 512 512" -c "read -P 0xcd 1024 512" \
		-c "read -P 0xab 1536 3072" -c "read -P 0x11 1048576 512" \
		-c "read -P 0x22 1049088 512" -c "read -P 0x33 1049600 1536" \
		>"$T/out" 2>"$T/err" || fail "qemu-io aio=$aio"
	grep -q "Pattern verification failed" "$T/out" && fail "qemu-io aio=$aio: pattern mismatch"
done

head -c $((32 * 1024 * 1024)) /dev/urandom >"$T/img"
truncate -s 64M "$T/img"
qemu-img convert -n -f raw -O raw -t none "$T/img" "$MNT/n1" >"$T/out" 2>"$T/err" ||
	fail "qemu-img convert"
qemu-img compare -f raw -F raw -T none "$T/img" "$MNT/n1" >"$T/out" 2>"$T/err" ||
	fail "qemu-img compare: $(cat "$T/out")"
do_umount
exit 0
