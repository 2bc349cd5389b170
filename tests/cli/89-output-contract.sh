# 89-output-contract.sh - the output contract (PRODUCT.md §2.2, §2.3), for
# every command of the command table and every machine format, against the
# real servers:
#   -o json    stdout is exactly one JSON document (an object); when the
#              exit code is not 0 it carries exit_code (that code) and an
#              error or a status that is not "ok"; when it is 0, no error;
#   -o nagios  one line "NAME STATUS - summary | perfdata" whose STATUS is
#              the exit code's (0 OK ... 3 UNKNOWN), exit 0-3 only (health
#              alone adds the long output its man page documents);
#   -o prom    empty, or an exposition promtool check metrics accepts;
#   -q         nothing on stdout and stderr on success, nothing on stdout
#              and one line on stderr on failure.
# The commands come from the table itself (`mercuryctl completion bash`,
# `--help`): every command and group is run with a bad option and with the
# cases below; a command added to the table without a success case here
# fails the test until it has one.
#
# Where a command's stdout is another program's, the man pages say what
# each format means, and that is asserted instead: `job run` passes the
# job's stdout to ours in text (and -q) and to our stderr with a machine
# format, so stdout stays one document; `oauth exec` gives COMMAND
# mercuryctl's stdout in every format (it is the command's output that is
# wanted, as with env(1)); `oauth token` prints the token alone, also
# with -q, and never in an exposition or a Nagios line.

# The success case of every command: PATH | ARGS (config "ok", exit 0).
MX_OK='health | health
health history | health history
slo status | slo status
slo rules | slo rules
slo history | slo history s
dlq stats | dlq stats
dlq peek | dlq peek q
dlq replay | dlq replay q
dlq purge | dlq purge q --dead --yes
alert test | alert test w
alert send | alert send --severity info --summary matrix w
alert history | alert history
job run | job run j
job list | job list j
job history | job history j
job log | job log j
oauth status | oauth status cc
oauth refresh | oauth refresh cc
oauth login | -
oauth token | oauth token cc
oauth exec | oauth exec cc -- /bin/echo exec-out
oauth revoke | oauth revoke cc
backup create | backup create --dest @D@/bk
backup list | backup list
backup verify | backup verify --latest
backup restore | backup restore latest --to @D@/restored --yes
backup prune | backup prune --dry-run
history | history
breaker list | breaker list
breaker reset | -
fleet status | @fleet fleet status
config check | config check
config show | config show
config init | config init
completion | completion bash
version | version'
# (oauth login needs a person at a browser, breaker reset a breaker that
# opened: their failures are below.)

# Failure cases: ARGS, with a config variant first: @down (every server
# unreachable), @fleetdown, @bad (a config error), @noconf (no file at
# MERCURY_CONFIG); "ok" otherwise.
MX_FAIL='@down health
@noconf health
@noconf job run j
@noconf oauth exec cc -- /bin/echo never-runs
@down slo status
slo status nope
slo history nope
@down dlq stats
@down dlq peek q
@down dlq replay q
@down dlq purge q --dead --yes
dlq peek nope
@down alert test w
@down alert send --severity critical --summary down w
alert test nope
job run bad
job run nope
job list nope
job log j 99
oauth status nope
@down oauth refresh cc --force
oauth login cc
@down oauth token cc --min-valid 2h
@down oauth exec cc --min-valid 2h -- /bin/echo never-runs
oauth revoke nope
backup create --dest /proc/mercury-matrix
backup list --dest @MX@/file.txt
backup verify nope
backup restore nope --yes
backup prune --keep-last 0
breaker reset webhook:nope
fleet status
@fleetdown fleet status
@bad config check
@bad config show
completion tcsh'


MX_FORMATS='json nagios prom q'

# mx_conf VARIANT: the configuration of the cases of VARIANT.
mx_conf() {
	local v=$1 redis=$MC_TEST_REDIS_URL prom=$MC_TEST_PROMETHEUS
	local issuer=$MC_TEST_OAUTH hook=$MC_TEST_RECEIVER/matrix
	if [ "$v" = down ]; then
		redis=redis://127.0.0.1:9/0 prom=http://127.0.0.1:9
		issuer=http://127.0.0.1:9 hook=http://127.0.0.1:9/matrix
	fi
	printf '%s\n' "$hook" >"$MX/hook-$v.url"
	chmod 600 "$MX/hook-$v.url"
	cat <<EOF
[core]
redis_url = $redis
prometheus_url = $prom
[check "mem"]
type = memory
[slo "s"]
objective = 99.9
error_query = sum(rate(mc_matrix_none_total[{{window}}])) or vector(1)
total_query = sum(rate(mc_matrix_none_total[{{window}}])) or vector(1000)
[dlq "q"]
source = $MX_K:src
target = $MX_K:tgt
dead = $MX_K:dead
[webhook "w"]
type = json
url_file = $MX/hook-$v.url
retries = 0
[job "j"]
command = /bin/echo job-says-hello
overlap = allow
[job "bad"]
command = /bin/sh -c "echo bad-job-out; echo bad-job-err >&2; exit 3"
overlap = allow
[oauth "cc"]
issuer = $issuer
grant = client_credentials
client_id = mc-conf
client_secret_file = $MX/conf.secret
warn_before = 1m
retries = 0
[backup]
dir = $MX/backups
include = $MX/file.txt
keep_last = 3
EOF
	case $v in
	down) printf '[check "r"]\ntype = redis\ncritical = true\n' ;;
	fleet) printf '[fleet]\nredis_url = %s\nkey_prefix = %s\n' \
		"$MC_TEST_REDIS_URL" "$MX_K" ;;
	fleetdown) printf '[fleet]\nredis_url = redis://127.0.0.1:9/0\n' ;;
	bad) printf '[core]\ntimeuot = 5s\n' ;;
	esac
}

# mx_fixture: the configurations, and a state file with a job run, an
# OAuth token and a backup, that every case starts from (a copy each).
mx_fixture() {
	local v c
	printf '%s\n' "$MC_TEST_OAUTH_CONF_SECRET" >"$MX/conf.secret"
	echo data >"$MX/file.txt"
	for v in ok down fleet fleetdown bad usage; do
		mx_conf "$v" >"$MX/conf-$v.conf"
	done
	chmod 600 "$MX"/*.conf "$MX/conf.secret"
	mkdir -p "$MX/state"
	for c in "job run j" "oauth refresh cc" "backup create"; do
		# shellcheck disable=SC2086
		MERCURY_CONFIG=$MX/conf-ok.conf MERCURY_STATE=$MX/state/state.db \
			"$MC_BIN" -q $c >/dev/null 2>"$T_DIR/fix.err" ||
			fail "fixture: $c: $(cat "$T_DIR/fix.err")"
	done
	# all of it in the one file each case copies
	sqlite3 "$MX/state/state.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null ||
		fail "fixture: cannot checkpoint the state file"
}

# mx_case N EXPECT VARIANT FORMAT ARGS...: runs one case in $MX/N (made
# beforehand) with a copy of the fixture's state file, in a subshell of
# its own (it cds). EXPECT is 0 (must succeed) or fail (must not);
# VARIANT "usage" (a bad command line) needs no state. In ARGS, @D@ is
# the case's directory and @MX@ the fixture's. The run's own --timeout
# bounds it (the test would catch a hang only at the suite's limit).
mx_case() {
	local n=$1 expect=$2 v=$3 f=$4 d=$MX/$1 a fl=(-q) args=()
	shift 4
	for a in "$@"; do
		a=${a//@D@/$d}
		args+=("${a//@MX@/$MX}")
	done
	[ "$f" = q ] || fl=(-o "$f")
	[ "$v" = usage ] || cp "$MX/state/state.db" "$d/" || return
	printf '%s\n%s\n%s\n%s\n' "$expect" "$v" "$f" "${args[*]}" >"$d/meta"
	cd "$d" || return
	# shellcheck disable=SC2086
	MERCURY_STATE=$d/state.db MERCURY_CONFIG=$MX/conf-$v.conf \
		${MC_WRAP:-} "$MC_BIN" --timeout 20s "${fl[@]}" "${args[@]}" \
		>"$d/out" 2>"$d/err" </dev/null
	echo $? >"$d/rc"
}

# mx_nodes: every command path of the table, one a line; a path that is a
# group only (its usage names COMMAND) marked with a leading "group ". A
# path whose completion words are not commands themselves is a leaf
# ("completion": its words are the shells).
mx_nodes() {
	local p w sub
	"$MC_BIN" completion bash >"$MX/completion.bash"
	sed -n 's/^_mercuryctl_words\["mercuryctl \(.*\)"\]="\(.*\)"$/\1|\2/p' \
		"$MX/completion.bash" >"$MX/words"
	while IFS='|' read -r p w; do
		sub=0
		for w in $w; do
			grep -q "^$p $w|" "$MX/words" && sub=1
		done
		# shellcheck disable=SC2086
		if [ $sub = 1 ] &&
			"$MC_BIN" $p --help | head -1 | grep -q ' COMMAND$'; then
			echo "group $p"
		else
			echo "$p"
		fi
	done <"$MX/words"
}

# mx_queue NODES: the cases, one a line: EXPECT VARIANT ARGS; a command
# without a success case in MX_OK is a line "MISSING PATH".
mx_queue() {
	local line p args v
	while read -r line; do
		case $line in
		"group "*)
			p=${line#group }
			echo "fail usage $p"
			echo "fail usage $p --no-such-option" ;;
		*)
			echo "fail usage $line --no-such-option"
			args=$(printf '%s\n' "$MX_OK" |
				awk -F' [|] ' -v p="$line" '$1 == p {print $2}')
			if [ -z "$args" ]; then
				echo "MISSING $line"
			elif [ "$args" != - ]; then
				v=ok
				case $args in @*) v=${args%% *} v=${v#@} args=${args#* } ;; esac
				echo "0 $v $args"
			fi ;;
		esac
	done <<<"$1"
	printf '%s\n' "$MX_FAIL" | while read -r line; do
		v=ok
		case $line in @*) v=${line%% *} v=${v#@} line=${line#* } ;; esac
		echo "fail $v $line"
	done
}

test_output_contract_every_command_every_format() {
	MX=$T_DIR/mx
	MX_K=mc-matrix-$$-$RANDOM
	mkdir -p "$MX"
	mx_fixture
	local nodes line p f n=0 running=0
	nodes=$(mx_nodes)
	[ "$(printf '%s\n' "$nodes" | grep -vc '^group ')" -ge 30 ] ||
		fail "too few commands found in the table: $nodes"
	mx_queue "$nodes" >"$MX/queue"
	# every command of the table has a case, every case names a command
	while read -r _ p; do
		fail "no success case for '$p' in MX_OK"
	done < <(grep '^MISSING ' "$MX/queue")
	while read -r p; do
		printf '%s\n' "$nodes" | grep -qx -- "$p" ||
			fail "MX_OK names '$p', which is not a command of the table"
	done < <(printf '%s\n' "$MX_OK" | awk -F' [|] ' '{print $1}')

	# every case in every format, a few at a time (most of the time is
	# spent waiting on servers and on process start-up)
	n=$(grep -vc '^MISSING ' "$MX/queue")
	# shellcheck disable=SC2046
	mkdir $(seq -f "$MX/%g" $((n * $(wc -w <<<"$MX_FORMATS")))) || return
	n=0
	while read -r line; do
		[ "${line%% *}" = MISSING ] && continue
		read -r -a words <<<"$line"
		for f in $MX_FORMATS; do
			n=$((n + 1))
			(mx_case "$n" "${words[0]}" "${words[1]}" "$f" "${words[@]:2}") &
			running=$((running + 1))
			if [ "$running" -ge 4 ]; then
				wait -n
				running=$((running - 1))
			fi
		done
	done <"$MX/queue"
	wait
	[ "$n" -ge 400 ] || fail "only $n runs"

	# the checks, in one interpreter (promtool for each exposition)
	/usr/bin/python3 "$MC_SRC/tests/cli/output_contract.py" "$MX" "$n" \
		>"$MX/violations" 2>&1
	if [ -s "$MX/violations" ]; then
		sed 's/^/  /' "$MX/violations" >&2
		fail "$(wc -l <"$MX/violations") violations of the output contract in $n runs"
	fi
}
