# 89-conform4.sh - PRODUCT.md sentences a black-box tester checks, found
# wrong by the fourth conformance sweep: prune's --keep-within boundary,
# the breakers of health checks, ...

. "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

# bk_at ID CREATED: a copy of the first backup in $BK under ID, its
# manifest saying it was created at CREATED (RFC 3339), re-signed.
bk_at() {
	local src
	src=$BK/$(bk_ids | tail -1)
	cp -a "$src" "$BK/$1"
	jq --arg c "$2" --arg id "$1" '.created = $c | .id = $id' \
		"$BK/$1/manifest.json" >"$T_DIR/m.json" &&
		cat "$T_DIR/m.json" >"$BK/$1/manifest.json"
	resign "$BK/$1/manifest.json"
	chmod 600 "$BK/$1/manifest.json"
}

# §3.5: "--keep-within D every backup within D of the newest one (restic's
# rule)". restic keeps a snapshot whose time is after newest - D: one
# exactly D older than the newest is removed (restic 0.14 forget --dry-run
# --keep-within 1h removes the snapshot of 09:00 beside one of 10:00).
test_prune_keep_within_boundary_as_restic() {
	bk_setup
	run backup create
	expect_rc 0
	local first
	first=$(bk_ids)
	bk_at 20261003T100000Z-aaaa 2026-10-03T10:00:00.000Z
	bk_at 20261003T093000Z-bbbb 2026-10-03T09:30:00.000Z
	bk_at 20261003T090000Z-cccc 2026-10-03T09:00:00.000Z
	rm -rf "${BK:?}/$first"
	run backup prune --keep-within 1h --dry-run --json
	expect_rc 0
	expect_json '[.backups[] | select(.action == "keep") | .id] == ["20261003T100000Z-aaaa", "20261003T093000Z-bbbb"]'
	expect_json '.backups[] | select(.id == "20261003T090000Z-cccc") | .action == "remove"'
	run backup prune --keep-within 1h
	expect_rc 0
	[ "$(bk_ids | tr '\n' ' ')" = "20261003T100000Z-aaaa 20261003T093000Z-bbbb " ] ||
		fail "kept: $(bk_ids | tr '\n' ' ')"
}

# §2.6: "Circuit breaker per external target, persisted in the state file
# so it works across cron runs: closed -> open after N consecutive failures
# -> half-open after the recovery timeout allowing one probe"; §2.8: "the
# same two keys in a check ... section override them". A health check that
# probes a target had the keys but no breaker: every run probed a dead
# target (and waited out its timeout) however often it had failed.
test_health_check_circuit_breaker() {
	local U=brk-$$-$RANDOM
	conf "[core]
breaker_failures = 9
[check \"api\"]
type = http
url = $MC_TEST_RECEIVER/flaky/$U/100/503
critical = true
breaker_failures = 3
breaker_recovery = 1h
[check \"disk\"]
type = disk
path = /
crit = @0:100"
	n_req() { curl -sf "$MC_TEST_RECEIVER/_requests?path_prefix=/flaky/$U" | jq length; }
	local i
	for i in 1 2 3; do
		run health --json
		expect_rc 2
		expect_json '.checks.api.message | test("503")'
	done
	[ "$(n_req)" = 3 ] || fail "3 runs made $(n_req) requests"
	# open: no probe, the check fails saying why and until when
	run health --json
	expect_rc 2
	[ "$(n_req)" = 3 ] || fail "an open breaker let a probe through ($(n_req))"
	expect_json '.checks.api.status == "critical"'
	expect_json '.checks.api.message | test("^not probed: circuit breaker open after 3 failures in a row \\(next probe after 20")'
	# a check without a target (disk) has no breaker, however often it fails
	expect_json '.checks.disk.status == "critical"'
	run breaker list --json
	expect_rc 0
	expect_json '[.breakers[] | select(.name == "check:api" and .state == "open")] | length == 1'
	expect_json '[.breakers[] | select(.name | test("disk"))] | length == 0'
	run breaker reset check:api
	expect_rc 0
	run health api
	[ "$(n_req)" = 4 ] || fail "no probe after breaker reset ($(n_req))"
	# failures 2 and 3 after the reset open it again
	run health api
	run health api
	run health api
	[ "$(n_req)" = 6 ] || fail "expected 6 requests, saw $(n_req)"
	# the recovery time passed: half-open, one probe, open again on failure
	sql "UPDATE breakers SET opened_at = opened_at - 7200 WHERE name = 'check:api'"
	run health api
	expect_rc 2
	[ "$(n_req)" = 7 ] || fail "half-open: expected 7 requests, saw $(n_req)"
	run health api
	[ "$(n_req)" = 7 ] || fail "reopened breaker let a probe through ($(n_req))"
}

# §2.4: "a bad value ... exit 78 naming file, line and key, with a
# suggestion where a near name exists. `mercuryctl config check`
# validates". A key naming a section the file lacks (an http check's oauth,
# an oauth check's provider, a job's notify webhooks) passed config check,
# to fail only at run time.
test_config_check_names_a_missing_section() {
	local base="[webhook \"ops\"]
type = json
url_env = OPS_URL
[oauth \"kite\"]
token_url = http://127.0.0.1:9/token
grant = client_credentials
client_id = mc
client_secret_env = KITE_SECRET"
	export OPS_URL=http://127.0.0.1:9/hook KITE_SECRET=s3cret
	conf "$base
[check \"api\"]
type = http
url = http://127.0.0.1:9/
oauth = kiet"
	run config check
	expect_rc 78
	expect_err "mercury\.conf:12: \[check \"api\"\] oauth: no \[oauth \"kiet\"\] section .*did you mean 'kite'"
	expect_one_err_line
	run config check --json
	expect_rc 78
	expect_json '.error | test("oauth \"kiet\"")'
	conf "$base
[check \"token\"]
type = oauth
provider = nope"
	run config check
	expect_rc 78
	expect_err "\[check \"token\"\] provider: no \[oauth \"nope\"\] section"
	conf "$base
[job \"nightly\"]
command = /bin/true
notify = ops, opz"
	run config check
	expect_rc 78
	expect_err "mercury\.conf:11: \[job \"nightly\"\] notify: no \[webhook \"opz\"\] section .*did you mean 'ops'"
	# what is there passes; notify may also be a boolean
	conf "$base
[check \"api\"]
type = http
url = http://127.0.0.1:9/
oauth = kite
[check \"token\"]
type = oauth
provider = kite
[job \"nightly\"]
command = /bin/true
notify = ops,ops
[job \"weekly\"]
command = /bin/true
notify = true"
	run config check
	expect_rc 0
	# at run time such a check still fails alone, by name
	conf "$base
[check \"api\"]
type = http
url = http://127.0.0.1:9/
oauth = kiet
[check \"disk\"]
type = disk
path = /"
	run health --json
	expect_json '.checks.api.message | test("kiet")'
	expect_json '.checks.disk.status == "ok"'
}

# §2.9: "config check warns when such a comment cut a value that looks like
# a URL or a secret". PRODUCT.md's own §3.6 example, `auth_method =
# client_secret_basic  # or client_secret_post`, was warned about as "a
# secret" for the word in its key's name, though the value is one of two
# choices.
test_config_check_an_enum_cut_by_a_comment_is_no_secret() {
	conf '[oauth "kite"]
token_url     = "http://127.0.0.1:9/token"
grant         = client_credentials
client_id     = mercury
client_secret_env = KITE_SECRET
auth_method   = client_secret_basic        # or client_secret_post
scope         = api:read   # what we ask for'
	KITE_SECRET=s run config check -o nagios
	expect_rc 0
	expect_out '^CONFIG OK'
	expect_no_err 'auth_method'
	# a URL a comment cut is still warned about
	conf '[check "h"]
type = http
url = http://127.0.0.1:9/p #frag'
	run config check
	expect_rc 0
	expect_err "'url' looks like a URL"
}

# §3.7 `mercuryctl completion bash|zsh|fish`: each script loads the way its
# shell's users load one. The zsh script worked only from $fpath: sourced
# (source <(mercuryctl completion zsh), as with bash) it ran its completer
# at once, outside completion ("_tags:comptags: can only be called from
# completion function"), and completed nothing.
test_completion_zsh_sourced_and_fish_piped() {
	"$MC_BIN" completion zsh >"$T_DIR/comp.zsh" || fail "completion zsh"
	zsh -f -c "autoload -Uz compinit && compinit -u -D && source $T_DIR/comp.zsh" \
		>"$T_DIR/zout" 2>&1 || fail "zsh: sourcing failed: $(cat "$T_DIR/zout")"
	[ ! -s "$T_DIR/zout" ] || fail "zsh: sourcing said: $(cat "$T_DIR/zout")"
	local got
	got=$(timeout 30 zsh -f "$MC_SRC/tests/cli/zsh-complete.zsh" "$T_DIR/comp.zsh" 'mercuryctl fle')
	printf '%s\n' "$got" | grep -qx fleet || fail "zsh (sourced): 'fle': $got"
	got=$(timeout 30 zsh -f "$MC_SRC/tests/cli/zsh-complete.zsh" "$T_DIR/comp.zsh" 'mercuryctl job ')
	printf '%s\n' "$got" | grep -qx history || fail "zsh (sourced): job subcommands: $got"
	# from $fpath as before
	mkdir -p "$T_DIR/fp" && cp "$T_DIR/comp.zsh" "$T_DIR/fp/_mercuryctl"
	got=$(timeout 30 zsh -f "$MC_SRC/tests/cli/zsh-complete.zsh" "$T_DIR/fp" 'mercuryctl oauth ')
	printf '%s\n' "$got" | grep -qx revoke || fail "zsh (fpath): oauth subcommands: $got"
	got=$(fish -c "\"$MC_BIN\" completion fish | source; complete -C 'mercuryctl backup pr'")
	printf '%s\n' "$got" | grep -q '^prune' || fail "fish (piped): $got"
	bash -c "source <(\"$MC_BIN\" completion bash) && complete -p mercuryctl" >/dev/null ||
		fail "bash: sourcing"
}
