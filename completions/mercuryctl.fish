# fish completion for mercuryctl (generated from its command table)
set -g __mercuryctl_valopts --config -c --state --output -o --log-format --timeout --correlation-id --textfile-dir --pushgateway --wait-lock --watch --watch-degraded --since --prometheus --at --since --count -n --batch --max-retries --limit --rate --severity --summary --description --source --label --dedup-key --generator-url --since --warn-before --if-expiring-within --min-valid --env --min-valid --command --since --limit -n --names
set -g __mercuryctl_paths 'mercuryctl' 'mercuryctl health' 'mercuryctl health history' 'mercuryctl slo' 'mercuryctl slo status' 'mercuryctl slo rules' 'mercuryctl slo history' 'mercuryctl dlq' 'mercuryctl dlq stats' 'mercuryctl dlq peek' 'mercuryctl dlq replay' 'mercuryctl dlq purge' 'mercuryctl alert' 'mercuryctl alert test' 'mercuryctl alert send' 'mercuryctl alert history' 'mercuryctl oauth' 'mercuryctl oauth status' 'mercuryctl oauth refresh' 'mercuryctl oauth login' 'mercuryctl oauth token' 'mercuryctl oauth exec' 'mercuryctl oauth revoke' 'mercuryctl history' 'mercuryctl breaker' 'mercuryctl breaker list' 'mercuryctl breaker reset' 'mercuryctl fleet' 'mercuryctl fleet status' 'mercuryctl config' 'mercuryctl config check' 'mercuryctl config show' 'mercuryctl completion' 'mercuryctl version'

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

complete -c mercuryctl -f
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a health -d 'Run the configured health checks and report their status'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a slo -d 'Service level objectives: status, Prometheus rules, history'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a dlq -d 'Inspect and replay dead-letter queues in Redis'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a alert -d 'Deliver alerts to Slack, Discord, PagerDuty, Alertmanager and JSON webhooks'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl"' -f -a oauth -d 'Keep OAuth 2.0 tokens fresh for cron jobs and scripts'
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
complete -c mercuryctl -l timeout -x -d 'Deadline for the whole run (default [core] timeout, 60s)'
complete -c mercuryctl -l correlation-id -x -d 'Correlation id of this run (default: a fresh W3C trace id)'
complete -c mercuryctl -l textfile-dir -r -a '(__fish_complete_directories)' -d 'Also write metrics atomically to DIR/mercuryctl_COMMAND.prom'
complete -c mercuryctl -l pushgateway -x -d 'Also push metrics to the Pushgateway at URL'
complete -c mercuryctl -l wait-lock -x -d 'Wait up to DURATION for another run\'s lock instead of exiting 75'
complete -c mercuryctl -l no-color -d 'Never colour the output (as NO_COLOR does)'
complete -c mercuryctl -s h -l help -d 'Show help for the command and exit'
complete -c mercuryctl -l version -d 'Print the version and exit'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -f -a history -d 'Show each check\'s uptime, transitions and last failure over time'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -f -a '(mercuryctl config show --names check 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -l critical-only -d 'Run only the checks marked critical (a readiness gate)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -l notify -d 'Alert through the webhooks when a check changes state'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -l watch -x -d 'Run again every INTERVAL until interrupted'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health"' -l watch-degraded -x -d 'With --watch, run every INTERVAL instead while the run is not ok'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health history"' -f -a '(mercuryctl config show --names check 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl health history"' -l since -x -d 'The span to look back over (default 7d; 0 for everything kept)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo"' -f -a status -d 'Evaluate SLOs: SLI, error budget, burn rates and state'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo"' -f -a rules -d 'Print Prometheus recording and alerting rules for the SLOs'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo"' -f -a history -d 'Show an SLO\'s remaining budget and burn rate over time'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo status"' -f -a '(mercuryctl config show --names slo 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo status"' -l prometheus -x -d 'Ask the Prometheus at URL (default [core] prometheus_url)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo status"' -l at -x -d 'Evaluate at TIME (RFC 3339 or Unix seconds) instead of now'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo rules"' -f -a '(mercuryctl config show --names slo 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo history"' -f -a '(mercuryctl config show --names slo 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl slo history"' -l since -x -d 'The span to look back over (default 7d; 0 for everything kept)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq"' -f -a stats -d 'Show the depth of each DLQ\'s lists and its oldest message\'s age'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq"' -f -a peek -d 'Show the oldest dead letters without removing them'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq"' -f -a replay -d 'Move dead letters back to the work queue, or to dead'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq"' -f -a purge -d 'Empty a DLQ\'s terminal list after confirmation'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq stats"' -f -a '(mercuryctl config show --names dlq 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq peek"' -f -a '(mercuryctl config show --names dlq 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq peek"' -s n -l count -x -d 'Show the first N messages (default 10; 1 to 1000000)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -f -a '(mercuryctl config show --names dlq 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l batch -x -d 'Move N messages per atomic step (overrides batch; 1 to 5000)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l max-retries -x -d 'Send messages with N or more retries to dead (overrides max_retries)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l limit -x -d 'Move at most N messages in this run (1 or more)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l rate -x -d 'Move at most RATE messages (N/s, N/m; overrides rate)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l dry-run -d 'Report what would happen and change nothing'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq replay"' -l defer -d 'Wait while the target is at shed_threshold instead of stopping'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq purge"' -f -a '(mercuryctl config show --names dlq 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq purge"' -l dead -d 'Empty the terminal (dead) list'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl dlq purge"' -l yes -d 'Do not ask for confirmation'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert"' -f -a test -d 'Send a test alert to each webhook and report each delivery'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert"' -f -a send -d 'Send an alert, or resolve one, through the webhooks'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert"' -f -a history -d 'List the alerts sent, suppressed, filtered and failed'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert test"' -f -a '(mercuryctl config show --names webhook 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -f -a '(mercuryctl config show --names webhook 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l severity -x -a 'info warning critical' -d 'The alert\'s severity (required, except with --resolve)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l summary -x -d 'One line saying what is wrong'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l description -x -d 'More detail; - reads it from standard input'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l source -x -d 'What the alert is about (default: this host\'s name)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l label -x -d 'A label (repeatable)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l dedup-key -x -d 'Identify the alert by KEY (default: a hash of summary, source and labels, not severity)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l resolve -d 'Resolve the alert triggered earlier with the same key, at whatever severity it was sent'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l no-dedup -d 'Send even when the same alert went out within the window'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert send"' -l generator-url -x -d 'A link to where the alert comes from (alertmanager generatorURL)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert history"' -f -a '(mercuryctl config show --names webhook 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl alert history"' -l since -x -d 'The span to look back over (default 7d; 0 for everything kept)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a status -d 'Show each provider\'s token: time left, refresh token, needs-login'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a refresh -d 'Refresh the tokens that are about to expire'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a login -d 'Log in to a provider (device flow or browser)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a token -d 'Print a valid access token for scripts'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a exec -d 'Run a command with a valid access token in its environment'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth"' -f -a revoke -d 'Revoke a provider\'s tokens at the server and forget them'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth status"' -f -a '(mercuryctl config show --names oauth 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth status"' -l warn-before -x -d 'Warn when less than DURATION is left (default: warn_before)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth refresh"' -f -a '(mercuryctl config show --names oauth 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth refresh"' -l if-expiring-within -x -d 'Refresh tokens with less than DURATION left (default: refresh_before)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth refresh"' -l force -d 'Refresh even tokens that are fresh (or of unknown expiry)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth refresh"' -l notify -d 'Alert the webhooks once when a provider starts needing login'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth login"' -f -a '(mercuryctl config show --names oauth 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth login"' -l no-browser -d 'Only print the URL to open; never start a browser'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth token"' -f -a '(mercuryctl config show --names oauth 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth token"' -l min-valid -x -d 'Refresh first unless the token stays valid this long (default 1m)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth exec"' -f -a '(mercuryctl config show --names oauth 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth exec"' -l env -x -d 'Put the token in variable NAME (default OAUTH_ACCESS_TOKEN)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth exec"' -l min-valid -x -d 'Refresh first unless the token stays valid this long (default 1m)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl oauth revoke"' -f -a '(mercuryctl config show --names oauth 2>/dev/null)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl history"' -l command -x -d 'Only runs of COMMAND (e.g. health, "breaker reset")'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl history"' -l since -x -d 'Only runs started within DURATION'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl history"' -s n -l limit -x -d 'Show at most N runs (default 20; 1 to 1000000)'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl breaker"' -f -a list -d 'List the circuit breakers and their states'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl breaker"' -f -a reset -d 'Close the circuit breaker NAME'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl fleet"' -f -a status -d 'List the fleet\'s members, shared breakers and held locks'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl config"' -f -a check -d 'Validate the configuration and exit 0, or 78 naming file, line and key'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl config"' -f -a show -d 'Print the effective configuration with the source of every value'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl config show"' -l names -x -d 'Print only the names of the [SECTION "NAME"] sections, one a line'
complete -c mercuryctl -n '__mercuryctl_at "mercuryctl completion"' -f -a 'bash zsh fish'
