#!/bin/sh
# Reports what the runner gave it: ignored and blocked signals, whether it
# leads its own process group, whether descriptor 200 (which the test
# leaves open without close-on-exec) reached it, and where stdin and stderr
# go. Shell builtins only.
while read -r key val; do
	case $key in
	SigIgn:) ign=$val ;;
	SigBlk:) blk=$val ;;
	esac
done </proc/$$/status
# glibc reserves signals 32 and 33 for its threads: no glibc call can reset
# them, and a parent such as timeout(1) may leave them ignored. Not ours.
ign=$(printf '%016x' $((0x$ign & ~0x180000000)))
read -r stat </proc/$$/stat
set -- $stat
leader=no; [ "$5" = $$ ] && leader=yes
fd200=no; [ -e /proc/$$/fd/200 ] && fd200=yes
in=other; [ /proc/$$/fd/0 -ef /dev/null ] && in=/dev/null
err=other; [ /proc/$$/fd/2 -ef /dev/null ] && err=/dev/null
echo "ign=$ign blk=$blk leader=$leader fd200=$fd200 in=$in err=$err"
exit 0
