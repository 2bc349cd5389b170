# fish completion for mercuryctl (generated from its command table)
set -g __mercuryctl_valopts --config -c --state --output -o --log-format --timeout --correlation-id --textfile-dir --pushgateway --wait-lock --watch --watch-degraded --since --limit -n --prometheus --at --since --count -n --batch --max-retries --limit --rate --severity --summary --description --source --label --dedup-key --generator-url --since --limit -n --at --since --limit -n --warn-before --if-expiring-within --min-valid --env --min-valid --dest --note --dest --dest --to --only --dest --keep-last --keep-hourly --keep-daily --keep-weekly --keep-monthly --keep-within --dest --command --since --limit -n --names
set -g __mercuryctl_paths 'mercuryctl' 'mercuryctl health' 'mercuryctl health history' 'mercuryctl slo' 'mercuryctl slo status' 'mercuryctl slo rules' 'mercuryctl slo history' 'mercuryctl dlq' 'mercuryctl dlq stats' 'mercuryctl dlq peek' 'mercuryctl dlq replay' 'mercuryctl dlq purge' 'mercuryctl alert' 'mercuryctl alert test' 'mercuryctl alert send' 'mercuryctl alert history' 'mercuryctl job' 'mercuryctl job run' 'mercuryctl job list' 'mercuryctl job history' 'mercuryctl job log' 'mercuryctl oauth' 'mercuryctl oauth status' 'mercuryctl oauth refresh' 'mercuryctl oauth login' 'mercuryctl oauth token' 'mercuryctl oauth exec' 'mercuryctl oauth revoke' 'mercuryctl backup' 'mercuryctl backup create' 'mercuryctl backup list' 'mercuryctl backup verify' 'mercuryctl backup restore' 'mercuryctl backup prune' 'mercuryctl history' 'mercuryctl breaker' 'mercuryctl breaker list' 'mercuryctl breaker reset' 'mercuryctl fleet' 'mercuryctl fleet status' 'mercuryctl config' 'mercuryctl config check' 'mercuryctl config show' 'mercuryctl config init' 'mercuryctl completion' 'mercuryctl version'

# The command path typed so far ("health history"), options skipped.
function __mercuryctl_path
	set -l toks (commandline -opc)
	set -e toks[1]
	set -l path mercuryctl
	set -l skip 0
	for t in $toks
		if test $skip = 1
			set skip 0
			continue
		end
		switch $t
		case '--*=*'
			continue
		case '-*'
			contains -- $t $__mercuryctl_valopts; and set skip 1
			continue
		end
		set -l next "$path $t"
		contains -- $next $__mercuryctl_paths; and set path $next
	end
	echo $path
end

function __mercuryctl_at
	test (__mercuryctl_path) = "$argv[1]"
end

# Names for a positional argument: mercuryctl ARGV, with the --config
# given on the line being completed (-c FILE), else the usual one.
function __mercuryctl_names
	set -l toks (commandline -opc)
	set -l cfg
	for i in (seq 2 (count $toks))
		switch $toks[$i]
		case -c --config
			set -l j (math $i + 1)
			test $j -le (count $toks); and set cfg --config $toks[$j]
		case '--config=*'
			set cfg --config (string replace -- --config= '' $toks[$i])
		end
	end
	mercuryctl $cfg $argv 2>/dev/null
end

complete -c mercuryctl -f
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a health -d 'Run the configured health checks and report their status'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a slo -d 'Service level objectives: status, Prometheus rules, history'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a dlq -d 'Inspect and replay dead-letter queues in Redis'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a alert -d 'Deliver alerts to Slack, Discord, PagerDuty, Alertmanager and JSON webhooks'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a job -d 'Keep cron jobs honest: run, record, time out, notice misses'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a oauth -d 'Keep OAuth 2.0 tokens fresh for cron jobs and scripts'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a backup -d 'Make, check, restore and prune backups of state and files'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a history -d 'List the runs recorded in the state file'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a breaker -d 'Inspect and reset the circuit breakers kept in the state file'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a fleet -d 'Show the hosts that share state through Redis'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a config -d 'Check the configuration or show the values in effect'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a completion -d 'Print the shell completion script for bash, zsh or fish'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a version -d 'Print the version and the versions of the libraries in use'
complete -c mercuryctl -s c -l config -r -F -d 'Read the configuration from FILE'
complete -c mercuryctl -l state -r -F -d 'Keep durable state in the SQLite file PATH'
complete -c mercuryctl -s o -l output -x -a 'text json prom nagios' -d 'Print results in FORMAT'
complete -c mercuryctl -l json -d 'Same as --output json'
complete -c mercuryctl -s q -l quiet -d 'Print nothing on success and one line on failure'
complete -c mercuryctl -s v -l verbose -d 'Log more (repeat for debug)'
complete -c mercuryctl -l log-format -x -a 'text json' -d 'Write logs on stderr as text or JSON lines'
complete -c mercuryctl -l timeout -x -d 'Deadline for the whole run, longer than 0 (default [core] timeout, 60s)'
complete -c mercuryctl -l correlation-id -x -d 'Correlation id of this run (default: a fresh W3C trace id)'
complete -c mercuryctl -l textfile-dir -r -a '(__fish_complete_directories)' -d 'Also write metrics atomically to DIR/mercuryctl_COMMAND.prom (for node_exporter\'s textfile collector; see FILES)'
complete -c mercuryctl -l pushgateway -x -d 'Also push metrics to the Pushgateway at URL'
complete -c mercuryctl -l wait-lock -x -d 'Wait up to DURATION for another run\'s lock instead of exiting 75'
complete -c mercuryctl -l no-color -d 'Never colour the output (as NO_COLOR does)'
complete -c mercuryctl -l local-time -d 'Show times in text output in local time (TZ), not UTC'
complete -c mercuryctl -s h -l help -d 'Show help for the command and exit'
complete -c mercuryctl -l version -d 'Print the version and exit'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -f -a history -d 'Show each check\'s uptime, transitions and last failure over time'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -f -a '(__mercuryctl_names config show --names check)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -l critical-only -d 'Run only the checks marked critical (a readiness gate)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -l notify -d 'Alert through the webhooks when a check changes state'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -l watch -x -d 'Run again every INTERVAL until interrupted'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -l watch-degraded -x -d 'With --watch, run every INTERVAL instead while the run is not ok'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health history"' -f -a '(__mercuryctl_names config show --names check)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health history"' -l since -x -d 'The span to look back over (default 7d; 0 for everything kept)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health history"' -s n -l limit -x -d 'Only each check\'s last N results in the span (default all)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo"' -f -a status -d 'Evaluate SLOs: SLI, error budget, burn rates and state'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo"' -f -a rules -d 'Print Prometheus recording and alerting rules for the SLOs'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo"' -f -a history -d 'Show an SLO\'s remaining budget and burn rate over time'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo status"' -f -a '(__mercuryctl_names config show --names slo)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo status"' -l prometheus -x -d 'Ask the Prometheus at URL (default [core] prometheus_url)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo status"' -l at -x -d 'Evaluate at TIME (RFC 3339 or Unix seconds, not in the future) instead of now'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo rules"' -f -a '(__mercuryctl_names config show --names slo)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo history"' -f -a '(__mercuryctl_names config show --names slo)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo history"' -l since -x -d 'The span to look back over (default 7d; 0 for everything kept)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq"' -f -a stats -d 'Show the depth of each DLQ\'s lists and its oldest message\'s age'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq"' -f -a peek -d 'Show the oldest dead letters without removing them'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq"' -f -a replay -d 'Move dead letters back to the work queue, or to dead'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq"' -f -a purge -d 'Empty a DLQ\'s terminal list after confirmation'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq stats"' -f -a '(__mercuryctl_names config show --names dlq)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq peek"' -f -a '(__mercuryctl_names config show --names dlq)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq peek"' -s n -l count -x -d 'Show the first N messages (default 10; 1 to 1000000)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq peek"' -l dead -d 'Show the terminal (dead) list instead of the dead letters'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -f -a '(__mercuryctl_names config show --names dlq)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l batch -x -d 'Move N messages per atomic step (overrides batch; 1 to 5000)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l max-retries -x -d 'Send messages with N or more retries to dead (overrides max_retries)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l limit -x -d 'Move at most N messages in this run (1 or more)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l rate -x -d 'Move at most RATE messages (N/s, N/m; overrides rate)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l dry-run -d 'Report what would happen and change nothing'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l defer -d 'Wait while the target is at shed_threshold instead of stopping'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq purge"' -f -a '(__mercuryctl_names config show --names dlq)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq purge"' -l dead -d 'The terminal (dead) list: the only one purge empties, so it may be left out'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq purge"' -l yes -d 'Do not ask for confirmation'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert"' -f -a test -d 'Send a test alert to each webhook and report each delivery'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert"' -f -a send -d 'Send an alert, or resolve one, through the webhooks'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert"' -f -a history -d 'List the alerts sent, suppressed, filtered and failed'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert test"' -f -a '(__mercuryctl_names config show --names webhook)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -f -a '(__mercuryctl_names config show --names webhook)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l severity -x -a 'info warning critical' -d 'The alert\'s severity (required, except with --resolve)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l summary -x -d 'One line saying what is wrong'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l description -x -d 'More detail; - reads it from standard input'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l source -x -d 'What the alert is about (default: this host\'s name)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l label -x -d 'A label (repeatable)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l dedup-key -x -d 'Identify the alert by KEY (default: a hash of summary, source and labels, not severity)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l resolve -d 'Resolve the alert triggered earlier with the same key, at whatever severity it was sent'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l no-dedup -d 'Send even when the same alert went out within the window'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l generator-url -x -d 'A link to where the alert comes from (alertmanager generatorURL)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert history"' -f -a '(__mercuryctl_names config show --names webhook)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert history"' -l since -x -d 'The span to look back over (default 7d; 0 for everything kept)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert history"' -s n -l limit -x -d 'Show at most the N newest outcomes (default all in the span)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job"' -f -a run -d 'Run a job: record it, time it out, pass its output through'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job"' -f -a list -d 'Show each job: last run, last success, next start, verdict'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job"' -f -a history -d 'Show a job\'s recorded runs, newest first'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job"' -f -a log -d 'Print the output kept from a job\'s run'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job run"' -f -a '(__mercuryctl_names config show --names job)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job list"' -f -a '(__mercuryctl_names config show --names job)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job list"' -l at -x -d 'Judge as of TIME (RFC 3339 or Unix seconds; a time to come says what will be overdue then) instead of now'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job history"' -f -a '(__mercuryctl_names config show --names job)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job history"' -l since -x -d 'Only runs that started within DURATION (default: all kept)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job history"' -s n -l limit -x -d 'Show at most N runs, newest first (default 20; 1 to 1000000)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl job log"' -f -a '(__mercuryctl_names config show --names job)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a status -d 'Show each provider\'s token: time left, refresh token, needs-login'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a refresh -d 'Refresh the tokens that are about to expire'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a login -d 'Log in to a provider (device flow or browser)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a token -d 'Print a valid access token for scripts'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a exec -d 'Run a command with a valid access token in its environment'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a revoke -d 'Revoke a provider\'s tokens at the server and forget them'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth status"' -f -a '(__mercuryctl_names config show --names oauth)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth status"' -l warn-before -x -d 'Warn when less than DURATION is left (default: warn_before)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth refresh"' -f -a '(__mercuryctl_names config show --names oauth)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth refresh"' -l if-expiring-within -x -d 'Refresh tokens with less than DURATION left (default: refresh_before)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth refresh"' -l force -d 'Refresh even tokens that are fresh (or of unknown expiry)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth refresh"' -l notify -d 'Alert the webhooks once when a provider starts needing login'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth login"' -f -a '(__mercuryctl_names config show --names oauth)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth login"' -l no-browser -d 'Only print the URL to open; never start a browser'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth token"' -f -a '(__mercuryctl_names config show --names oauth)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth token"' -l min-valid -x -d 'Refresh first unless the token stays valid this long (default 1m)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth exec"' -f -a '(__mercuryctl_names config show --names oauth)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth exec"' -l env -x -d 'Put the token in variable NAME (default OAUTH_ACCESS_TOKEN)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth exec"' -l min-valid -x -d 'Refresh first unless the token stays valid this long (default 1m)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth revoke"' -f -a '(__mercuryctl_names config show --names oauth)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup"' -f -a create -d 'Make a new backup of the state file, includes and sources'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup"' -f -a list -d 'List the backups in the backup directory'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup"' -f -a verify -d 'Check backups against their manifests, optionally with a restore drill'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup"' -f -a restore -d 'Put a verified backup\'s files back'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup"' -f -a prune -d 'Remove old backups by restic-style retention rules'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup create"' -l dest -r -a '(__fish_complete_directories)' -d 'The backup directory (default [backup] dir); a relative DIR is taken from the current directory'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup create"' -l note -x -d 'A note kept in the manifest and shown by list'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup create"' -l prune -d 'Apply the configured retention (keep_* in [backup]) after a successful create'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup list"' -l dest -r -a '(__fish_complete_directories)' -d 'The backup directory (default [backup] dir); a relative DIR is taken from the current directory'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup verify"' -l latest -d 'Verify the newest backup (the default)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup verify"' -l all -d 'Verify every backup'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup verify"' -l restore-test -d 'Also restore into a temporary directory, open the state copy and time the restore (a drill)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup verify"' -l dest -r -a '(__fish_complete_directories)' -d 'The backup directory (default [backup] dir); a relative DIR is taken from the current directory'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup restore"' -l to -r -a '(__fish_complete_directories)' -d 'Restore under DIR instead of the original places (no hooks run)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup restore"' -l only -x -d 'Restore only this file: its original path, its path in the backup, a source\'s name, or \'state\' (repeatable)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup restore"' -s y -l yes -d 'Do not ask for confirmation (required when not on a terminal)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup restore"' -l dest -r -a '(__fish_complete_directories)' -d 'The backup directory (default [backup] dir); a relative DIR is taken from the current directory'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup prune"' -l keep-last -x -d 'Keep the newest N backups'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup prune"' -l keep-hourly -x -d 'Keep the newest backup of each of the last N hours with backups'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup prune"' -l keep-daily -x -d 'The same for days (local time)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup prune"' -l keep-weekly -x -d 'The same for ISO weeks'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup prune"' -l keep-monthly -x -d 'The same for months'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup prune"' -l keep-within -x -d 'Keep every backup within DURATION of the newest one'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup prune"' -l dry-run -d 'Show what would be kept (and why) and removed; change nothing'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl backup prune"' -l dest -r -a '(__fish_complete_directories)' -d 'The backup directory (default [backup] dir); a relative DIR is taken from the current directory'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl history"' -l command -x -d 'Only runs of COMMAND and its subcommands (e.g. job, "dlq replay")'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl history"' -l since -x -d 'Only runs started within DURATION'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl history"' -s n -l limit -x -d 'Show at most N runs (default 20; 1 to 1000000)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl breaker"' -f -a list -d 'List the circuit breakers and their states'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl breaker"' -f -a reset -d 'Close the circuit breaker NAME'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl breaker list"' -l names -d 'Print only the breakers\' names, one a line'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl breaker reset"' -f -a '(__mercuryctl_names breaker list --names)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl fleet"' -f -a status -d 'List the fleet\'s members, shared breakers and held locks'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl config"' -f -a check -d 'Validate the configuration and exit 0, or 78 naming file, line and key'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl config"' -f -a show -d 'Print the effective configuration with the source of every value'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl config"' -f -a init -d 'Print an annotated example configuration'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl config show"' -l names -x -d 'Print only the names of the [SECTION "NAME"] sections, one a line'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl completion"' -f -a 'bash zsh fish'
