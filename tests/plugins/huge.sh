#!/bin/sh
# 512 KiB on one line, far past the 64 KiB cap, and then a status
# (shell builtins only).
s=aaaaaaaaaaaaaaaa
i=0
while [ $i -lt 15 ]; do s=$s$s; i=$((i + 1)); done
printf '%s' "$s"
echo " | late=1"
exit 2
