# 87-textfile.sh - --textfile-dir as node_exporter's textfile collector
# reads it: a series (metric name and label set) in two files fails the
# collector's scrape, so every command writing into one directory must
# leave each series in exactly one file; a later run for one job, backup
# directory, provider, DLQ or webhook must not drop another's series; and
# every file must pass `promtool check metrics`.

U=
uniq_setup() { U="t$$-$RANDOM$RANDOM"; }

# tf_series DIR: "FILE<TAB>SERIES" for every sample of every *.prom in DIR
# (the series is the sample line without its value).
tf_series() {
	local f
	for f in "$1"/*.prom; do
		[ -e "$f" ] || continue
		grep -v '^#' "$f" | sed 's/ [^ ]*$//' |
			awk -v f="$(basename "$f")" 'NF {print f "\t" $0}'
	done
}

# tf_check DIR: no series in two files, one HELP and TYPE per family
# across the files, and promtool check metrics on each file.
tf_check() {
	local dir=$1 dups f lint
	dups=$(tf_series "$dir" | sort -t "$(printf '\t')" -k2 |
		awk -F '\t' '{n[$2]++; fs[$2] = fs[$2] " " $1}
			END {for (s in n) if (n[s] > 1) print s ":" fs[s]}')
	[ -z "$dups" ] || fail "series in more than one file: $dups"
	dups=$(cat "$dir"/*.prom | grep -E '^# (HELP|TYPE) ' | sort -u |
		awk '{print $2, $3}' | uniq -d)
	[ -z "$dups" ] || fail "families with different HELP or TYPE in two files: $dups"
	for f in "$dir"/*.prom; do
		# mercury_backup_count is the name PRODUCT.md gives (3.5);
		# promtool's lint of its _count suffix is the one allowed
		lint=$(promtool check metrics <"$f" 2>&1 |
			grep -v '^mercury_backup_count non-histogram and non-summary metrics should not have "_count" suffix$')
		[ -z "$lint" ] || fail "promtool check metrics $(basename "$f"): $lint"
	done
}

# tf_has DIR REGEX: some file in DIR holds a series matching REGEX (ERE,
# matched against the whole series).
tf_has() {
	tf_series "$1" | cut -f2 | grep -qxE -- "$2" ||
		fail "no series /$2/ in $1: $(cat "$1"/*.prom | grep -v "^#" | cut -d" " -f1 | tr "\n" " " | head -c 1500)"
}

# tfrun ARGS...: run with --textfile-dir $TF.
tfrun() { run --textfile-dir "$TF" "$@"; }

# textfile_conf: two jobs, two backup directories (one configured, one
# --dest), two OAuth providers, two DLQs, two webhooks, a check and an SLO.
textfile_conf() {
	TF=$T_DIR/tf BK=$T_DIR/bk BK2=$T_DIR/bk2
	mkdir -p "$TF" "$T_DIR/data"
	printf 'x\n' >"$T_DIR/data/a"
	rcli DEL "$U:s1" "$U:t1" "$U:d1" "$U:s2" "$U:t2" "$U:d2" >/dev/null
	rcli RPUSH "$U:s1" '{"id":1}' '{"id":2}' >/dev/null
	rcli RPUSH "$U:s2" '{"id":3}' >/dev/null
	printf '%s\n' "$MC_TEST_RECEIVER/mercury/$U-a" >"$T_DIR/a.url"
	printf '%s\n' "$MC_TEST_RECEIVER/mercury/$U-b" >"$T_DIR/b.url"
	printf '%s\n' "${MC_TEST_OAUTH_CONF_SECRET:-}" >"$T_DIR/conf.secret"
	printf '%s\n' "${MC_TEST_OAUTH_POST_SECRET:-}" >"$T_DIR/post.secret"
	chmod 600 "$T_DIR/conf.secret" "$T_DIR/post.secret"
	conf "[core]
redis_url = $MC_TEST_REDIS_URL
prometheus_url = $MC_TEST_PROMETHEUS
[backup]
dir = $BK
include = $T_DIR/data
keep_last = 3
[job \"a\"]
schedule = @daily
[job \"b\"]
every = 1h
[oauth \"cc\"]
issuer = ${MC_TEST_OAUTH:-http://127.0.0.1:9}
grant = client_credentials
client_id = mc-conf
client_secret_file = $T_DIR/conf.secret
[oauth \"post\"]
token_url = ${MC_TEST_OAUTH:-http://127.0.0.1:9}/token
grant = client_credentials
client_id = mc-post
client_secret_file = $T_DIR/post.secret
auth_method = client_secret_post
[dlq \"q1\"]
source = $U:s1
target = $U:t1
dead = $U:d1
[dlq \"q2\"]
source = $U:s2
target = $U:t2
dead = $U:d2
[webhook \"wa\"]
type = json
url_file = $T_DIR/a.url
[webhook \"wb\"]
type = json
url_file = $T_DIR/b.url
[check \"mem\"]
type = memory
[slo \"s\"]
objective = 0.99
window = 30d
error_query = sum(rate(mc_textfile_none_errors[{{window}}]))
total_query = sum(rate(mc_textfile_none_total[{{window}}]))"
	chmod 600 "$CONF"
}

test_textfile_no_series_in_two_files() {
	uniq_setup
	textfile_conf
	[ -n "${MC_TEST_OAUTH:-}" ] || fail "MC_TEST_OAUTH is not set (scripts/servers.sh starts the server)"
	curl -sf -X POST "$MC_TEST_OAUTH/_test/reset" >/dev/null || fail "oauth server reset"
	tfrun backup create
	expect_rc 0
	tfrun backup create --dest "$BK2"
	expect_rc 0
	tfrun backup list
	expect_rc 0
	tfrun backup verify --latest --restore-test
	expect_rc 0
	tfrun backup prune
	expect_rc 0
	tfrun backup list --dest "$BK2"
	expect_rc 0
	tfrun job run a -- true
	expect_rc 0
	tfrun job run b -- sh -c 'exit 3'
	expect_rc 3
	tfrun job list
	tfrun job log a
	expect_rc 0
	# (oauth token prints a token, no metrics: status writes them after)
	run oauth token post
	expect_rc 0
	tfrun oauth refresh cc
	expect_rc 0
	tfrun oauth status
	tfrun dlq stats
	expect_rc 0
	tfrun dlq replay q1
	expect_rc 0
	tfrun dlq replay q2 --dry-run
	expect_rc 0
	tfrun health
	expect_rc 0
	tfrun slo status
	tfrun alert send --severity warning --summary "textfile $U" wa
	expect_rc 0
	tfrun alert test
	expect_rc 0
	tfrun health history
	tf_check "$TF"
	# each run keeps its own file, named as before, with its run metrics
	for c in backup_create backup_list backup_verify backup_prune job_run \
		job_list oauth_status oauth_refresh dlq_stats dlq_replay \
		alert_send alert_test health slo_status; do
		grep -qE "^mercuryctl_run_exit_code\{command=\"${c//_/ }\"\} " "$TF/mercuryctl_$c.prom" ||
			fail "mercuryctl_$c.prom lacks its run's metrics"
	done
	# and every entity is there once, whichever ran last
	tf_has "$TF" "mercury_backup_count\{dir=\"$BK\"\}"
	tf_has "$TF" "mercury_backup_count\{dir=\"$BK2\"\}"
	tf_has "$TF" "mercury_backup_restore_test_seconds\{dir=\"$BK\"\}"
	tf_has "$TF" 'mercury_job_last_exit_code\{job="a"\}'
	tf_has "$TF" 'mercury_job_last_exit_code\{job="b"\}'
	tf_has "$TF" 'mercury_oauth_needs_login\{provider="cc"\}'
	tf_has "$TF" 'mercury_oauth_token_expiry_timestamp_seconds\{provider="post"\}'
	tf_has "$TF" 'mercury_dlq_depth\{dlq="q2",list="source"\}'
	tf_has "$TF" 'mercury_dlq_replayed_total\{dlq="q1"\}'
	tf_has "$TF" 'mercury_dlq_replayed_last_run\{dlq="q2"\}'
	tf_has "$TF" 'mercury_alert_delivery\{webhook="wa",result="delivered"\}'
	tf_has "$TF" 'mercury_alert_delivery\{webhook="wb",result="delivered"\}'
	tf_has "$TF" 'mercury_check_status\{check="mem",type="memory"\}'
	tf_has "$TF" 'mercury_slo_state\{slo="s"\}'
	# stdout stays the run's own view
	run -o prom --textfile-dir "$TF" job run b -- true
	expect_out '^mercury_job_last_exit_code\{job="b"\} 0$'
	expect_no_out 'job="a"'
	run -o prom --textfile-dir "$TF" dlq replay q1
	expect_out '^mercury_dlq_depth\{dlq="q1",list="source"\} 0$'
	tf_check "$TF"
}

test_textfile_a_run_keeps_its_siblings_series() {
	uniq_setup
	textfile_conf
	# jobs: run a, then b: a stays; one known only by its runs stays
	# after job list (which names the configured ones)
	tfrun job run a -- true
	tfrun job run b -- sh -c 'exit 2'
	tfrun job run adhoc -- true
	tf_has "$TF" 'mercury_job_last_exit_code\{job="a"\}'
	tf_has "$TF" 'mercury_job_last_exit_code\{job="b"\}'
	tfrun job list
	tf_has "$TF" 'mercury_job_last_exit_code\{job="a"\}'
	tf_has "$TF" 'mercury_job_last_exit_code\{job="adhoc"\}'
	tf_has "$TF" 'mercury_job_overdue\{job="b"\}'
	# backup directories: the configured one, then another with --dest
	tfrun backup create
	expect_rc 0
	tfrun backup create --dest "$BK2"
	expect_rc 0
	tf_has "$TF" "mercury_backup_count\{dir=\"$BK\"\}"
	tfrun backup verify --latest
	expect_rc 0
	tf_has "$TF" "mercury_backup_count\{dir=\"$BK2\"\}"
	tf_has "$TF" "mercury_backup_files\{dir=\"$BK\"\}"
	# DLQs: replay one, then the other
	tfrun dlq replay q1
	expect_rc 0
	tfrun dlq replay q2
	expect_rc 0
	tf_has "$TF" 'mercury_dlq_replayed_total\{dlq="q1"\}'
	tf_has "$TF" 'mercury_dlq_replayed_last_run\{dlq="q1"\}'
	tf_has "$TF" 'mercury_dlq_dead_total\{dlq="q2"\}'
	# webhooks: a send to one, a test of the other
	tfrun alert send --severity warning --summary "textfile $U" wa
	expect_rc 0
	tfrun alert test wb
	expect_rc 0
	tf_has "$TF" 'mercury_alert_delivery\{webhook="wa",result="delivered"\}'
	tf_has "$TF" 'mercury_alert_attempts\{webhook="wb"\}'
	# providers: a refresh of one keeps the other's state
	if [ -n "${MC_TEST_OAUTH:-}" ]; then
		curl -sf -X POST "$MC_TEST_OAUTH/_test/reset" >/dev/null || fail "oauth server reset"
		tfrun oauth status
		tfrun oauth refresh post
		expect_rc 0
		tfrun oauth refresh cc
		expect_rc 0
		tf_has "$TF" 'mercury_oauth_token_expiry_timestamp_seconds\{provider="post"\}'
		tf_has "$TF" 'mercury_oauth_needs_login\{provider="cc"\}'
	else
		fail "MC_TEST_OAUTH is not set (scripts/servers.sh starts the server)"
	fi
	tf_check "$TF"
}

test_textfile_owner_file_left_alone_on_a_config_error() {
	uniq_setup
	textfile_conf
	tfrun job run a -- true
	expect_rc 0
	cp "$TF/mercuryctl_job.prom" "$T_DIR/before"
	printf '[nonsense]\n' >>"$CONF"
	tfrun job run a -- true
	expect_rc 78
	cmp -s "$TF/mercuryctl_job.prom" "$T_DIR/before" ||
		fail "a run without a configuration rewrote mercuryctl_job.prom"
	tf_check "$TF"
}
