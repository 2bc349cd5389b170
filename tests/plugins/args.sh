#!/bin/sh
# Shows how its arguments arrived: "OK - N:[arg1][arg2]...".
printf 'OK - %d:' $#
for a in "$@"; do printf '[%s]' "$a"; done
echo
exit 0
