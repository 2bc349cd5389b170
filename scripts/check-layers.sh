#!/bin/bash
# check-layers.sh - the layering of docs/DESIGN.md ("Layers"), checked:
#   - lib/ never includes a cmd/ header;
#   - a core module includes only core headers (and the C library's);
#   - a client includes no feature header;
#   - no two lib/ modules include each other's header (a cycle);
#   - no function in cmd/ or lib/ is longer than 120 lines, except the
#     ones docs/DESIGN.md lists under "Long functions" with the reason.
# Prints one line per violation and exits 1 when there is any.
#   scripts/check-layers.sh [SRCDIR]
set -u
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src" || exit 2

# The core (bottom layer) and the clients (above it), by module name: a
# module is lib/NAME.c and lib/NAME.h. Every other lib/ module is a feature.
core="mc wrapper strbuf strutil units date sigchain random files utf8
      config config_env state resil output log cli threshold spark proc
      json lazylib crypto_lazy"
clients="http curl_lazy redis redis_script promapi plugin net"
# Known crossings, each with its reason (module:header).
allowed="output:http"	# output.c pushes to the Pushgateway over the HTTP client

in_list() {
	local w
	for w in $2; do [ "$w" = "$1" ] && return 0; done
	return 1
}

layer() {
	if in_list "$1" "$core"; then echo core
	elif in_list "$1" "$clients"; then echo client
	else echo feature
	fi
}

bad=0
complain() {
	echo "check-layers: $*"
	bad=1
}

cmd_headers=$(cd cmd && ls -- *.h 2>/dev/null)
for f in lib/*.c lib/*.h; do
	mod=$(basename "$f"); mod=${mod%.*}
	ml=$(layer "$mod")
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		base=${inc##*/}
		if in_list "$base" "$cmd_headers" || [ "${inc#../cmd/}" != "$inc" ]; then
			complain "$f includes $inc: lib/ must not include cmd/"
			continue
		fi
		[ -e "lib/$base" ] || continue
		hm=${base%.h}
		[ "$hm" = "$mod" ] && continue
		hl=$(layer "$hm")
		in_list "$mod:$hm" "$allowed" && continue
		if [ "$ml" = core ] && [ "$hl" != core ]; then
			complain "$f includes $inc: a core module includes a $hl header"
		elif [ "$ml" = client ] && [ "$hl" = feature ]; then
			complain "$f includes $inc: a client includes a feature header"
		fi
	done
done

# Cycles between two modules: a.c or a.h includes b.h, and b.c or b.h
# includes a.h. NAME_int.h is NAME's private header: part of NAME.
includes_of() {
	cat "lib/$1.c" "lib/$1.h" "lib/${1}_int.h" 2>/dev/null |
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)\.h".*/\1/p' |
		sed 's/_int$//' | grep -vx "$1" | sort -u
}
mods=$(ls lib/*.c lib/*.h | sed 's|lib/||; s|\.[ch]$||; s|_int$||' | sort -u)
for a in $mods; do
	for b in $(includes_of "$a"); do
		[ "$a" \< "$b" ] || continue
		[ -e "lib/$b.h" ] || continue
		if includes_of "$b" | grep -qx "$a"; then
			complain "lib/$a and lib/$b include each other's header"
		fi
	done
done

# Long functions: a definition starts at column 0 (its name is the word
# before the first "(" that is not an attribute's) and ends at a "}" at
# column 0; its length is every line from its first to that "}".
allowed_long=$(sed -n '/^## Long functions/,/^## /p' docs/DESIGN.md |
	sed -n 's/^| `\([A-Za-z_0-9/.]*:[A-Za-z_0-9]*\)` |.*/\1/p')
awk -v limit=120 '
	FNR == 1 { cand = ""; infn = 0 }
	/^[A-Za-z_].*\(/ && $0 !~ /;[ \t]*$/ && !infn { cand = $0; line = FNR }
	/^\{/ && cand != "" && !infn { infn = 1; next }
	/^\}/ && infn {
		name = cand
		gsub(/__attribute__ *\(\([^)]*\)\)/, "", name)
		sub(/\(.*/, "", name)
		n = split(name, w, /[ \t*]+/)
		if (FNR - line + 1 > limit)
			print FILENAME ":" w[n], FILENAME ":" line, FNR - line + 1
		infn = 0; cand = ""
	}' cmd/*.c lib/*.c | while read -r name where len; do
	in_list "$name" "$allowed_long" && continue
	echo "check-layers: $where: ${name#*:} is $len lines long (at most 120, or named with its reason in docs/DESIGN.md, \"Long functions\")"
done | grep . && bad=1

exit $bad
