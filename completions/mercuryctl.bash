# bash completion for mercuryctl (generated from its command table)
declare -gA _mercuryctl_words _mercuryctl_opts _mercuryctl_values _mercuryctl_names
_mercuryctl_words["mercuryctl"]="health slo dlq alert oauth history breaker fleet config completion version"
_mercuryctl_values["--config"]="@file"
_mercuryctl_values["-c"]="@file"
_mercuryctl_values["--state"]="@file"
_mercuryctl_values["--output"]="text json prom nagios"
_mercuryctl_values["-o"]="text json prom nagios"
_mercuryctl_values["--log-format"]="text json"
_mercuryctl_values["--timeout"]="@none"
_mercuryctl_values["--correlation-id"]="@none"
_mercuryctl_values["--textfile-dir"]="@dir"
_mercuryctl_values["--pushgateway"]="@none"
_mercuryctl_values["--wait-lock"]="@none"
_mercuryctl_opts["mercuryctl"]="--config -c --state --output -o --json --quiet -q --verbose -v --log-format --timeout --correlation-id --textfile-dir --pushgateway --wait-lock --no-color --help -h --version"
_mercuryctl_words["mercuryctl health"]="history"
_mercuryctl_names["mercuryctl health"]="check"
_mercuryctl_values["--watch"]="@none"
_mercuryctl_values["--watch-degraded"]="@none"
_mercuryctl_opts["mercuryctl health"]="--critical-only --notify --watch --watch-degraded"
_mercuryctl_words["mercuryctl health history"]=""
_mercuryctl_names["mercuryctl health history"]="check"
_mercuryctl_values["--since"]="@none"
_mercuryctl_opts["mercuryctl health history"]="--since"
_mercuryctl_words["mercuryctl slo"]="status rules history"
_mercuryctl_opts["mercuryctl slo"]=""
_mercuryctl_words["mercuryctl slo status"]=""
_mercuryctl_names["mercuryctl slo status"]="slo"
_mercuryctl_values["--prometheus"]="@none"
_mercuryctl_values["--at"]="@none"
_mercuryctl_opts["mercuryctl slo status"]="--prometheus --at"
_mercuryctl_words["mercuryctl slo rules"]=""
_mercuryctl_names["mercuryctl slo rules"]="slo"
_mercuryctl_opts["mercuryctl slo rules"]=""
_mercuryctl_words["mercuryctl slo history"]=""
_mercuryctl_names["mercuryctl slo history"]="slo"
_mercuryctl_values["--since"]="@none"
_mercuryctl_opts["mercuryctl slo history"]="--since"
_mercuryctl_words["mercuryctl dlq"]="stats peek replay purge"
_mercuryctl_opts["mercuryctl dlq"]=""
_mercuryctl_words["mercuryctl dlq stats"]=""
_mercuryctl_names["mercuryctl dlq stats"]="dlq"
_mercuryctl_opts["mercuryctl dlq stats"]=""
_mercuryctl_words["mercuryctl dlq peek"]=""
_mercuryctl_names["mercuryctl dlq peek"]="dlq"
_mercuryctl_values["--count"]="@none"
_mercuryctl_values["-n"]="@none"
_mercuryctl_opts["mercuryctl dlq peek"]="--count -n"
_mercuryctl_words["mercuryctl dlq replay"]=""
_mercuryctl_names["mercuryctl dlq replay"]="dlq"
_mercuryctl_values["--batch"]="@none"
_mercuryctl_values["--max-retries"]="@none"
_mercuryctl_values["--limit"]="@none"
_mercuryctl_values["--rate"]="@none"
_mercuryctl_opts["mercuryctl dlq replay"]="--batch --max-retries --limit --rate --dry-run --defer"
_mercuryctl_words["mercuryctl dlq purge"]=""
_mercuryctl_names["mercuryctl dlq purge"]="dlq"
_mercuryctl_opts["mercuryctl dlq purge"]="--dead --yes"
_mercuryctl_words["mercuryctl alert"]="test send history"
_mercuryctl_opts["mercuryctl alert"]=""
_mercuryctl_words["mercuryctl alert test"]=""
_mercuryctl_names["mercuryctl alert test"]="webhook"
_mercuryctl_opts["mercuryctl alert test"]=""
_mercuryctl_words["mercuryctl alert send"]=""
_mercuryctl_names["mercuryctl alert send"]="webhook"
_mercuryctl_values["--severity"]="info warning critical"
_mercuryctl_values["--summary"]="@none"
_mercuryctl_values["--description"]="@none"
_mercuryctl_values["--source"]="@none"
_mercuryctl_values["--label"]="@none"
_mercuryctl_values["--dedup-key"]="@none"
_mercuryctl_values["--generator-url"]="@none"
_mercuryctl_opts["mercuryctl alert send"]="--severity --summary --description --source --label --dedup-key --resolve --no-dedup --generator-url"
_mercuryctl_words["mercuryctl alert history"]=""
_mercuryctl_names["mercuryctl alert history"]="webhook"
_mercuryctl_values["--since"]="@none"
_mercuryctl_opts["mercuryctl alert history"]="--since"
_mercuryctl_words["mercuryctl oauth"]="status refresh login token exec revoke"
_mercuryctl_opts["mercuryctl oauth"]=""
_mercuryctl_words["mercuryctl oauth status"]=""
_mercuryctl_names["mercuryctl oauth status"]="oauth"
_mercuryctl_values["--warn-before"]="@none"
_mercuryctl_opts["mercuryctl oauth status"]="--warn-before"
_mercuryctl_words["mercuryctl oauth refresh"]=""
_mercuryctl_names["mercuryctl oauth refresh"]="oauth"
_mercuryctl_values["--if-expiring-within"]="@none"
_mercuryctl_opts["mercuryctl oauth refresh"]="--if-expiring-within --force --notify"
_mercuryctl_words["mercuryctl oauth login"]=""
_mercuryctl_names["mercuryctl oauth login"]="oauth"
_mercuryctl_opts["mercuryctl oauth login"]="--no-browser"
_mercuryctl_words["mercuryctl oauth token"]=""
_mercuryctl_names["mercuryctl oauth token"]="oauth"
_mercuryctl_values["--min-valid"]="@none"
_mercuryctl_opts["mercuryctl oauth token"]="--min-valid"
_mercuryctl_words["mercuryctl oauth exec"]=""
_mercuryctl_names["mercuryctl oauth exec"]="oauth"
_mercuryctl_values["--env"]="@none"
_mercuryctl_values["--min-valid"]="@none"
_mercuryctl_opts["mercuryctl oauth exec"]="--env --min-valid"
_mercuryctl_words["mercuryctl oauth revoke"]=""
_mercuryctl_names["mercuryctl oauth revoke"]="oauth"
_mercuryctl_opts["mercuryctl oauth revoke"]=""
_mercuryctl_words["mercuryctl history"]=""
_mercuryctl_values["--command"]="@none"
_mercuryctl_values["--since"]="@none"
_mercuryctl_values["--limit"]="@none"
_mercuryctl_values["-n"]="@none"
_mercuryctl_opts["mercuryctl history"]="--command --since --limit -n"
_mercuryctl_words["mercuryctl breaker"]="list reset"
_mercuryctl_opts["mercuryctl breaker"]=""
_mercuryctl_words["mercuryctl breaker list"]=""
_mercuryctl_opts["mercuryctl breaker list"]=""
_mercuryctl_words["mercuryctl breaker reset"]=""
_mercuryctl_opts["mercuryctl breaker reset"]=""
_mercuryctl_words["mercuryctl fleet"]="status"
_mercuryctl_opts["mercuryctl fleet"]=""
_mercuryctl_words["mercuryctl fleet status"]=""
_mercuryctl_opts["mercuryctl fleet status"]=""
_mercuryctl_words["mercuryctl config"]="check show"
_mercuryctl_opts["mercuryctl config"]=""
_mercuryctl_words["mercuryctl config check"]=""
_mercuryctl_opts["mercuryctl config check"]=""
_mercuryctl_words["mercuryctl config show"]=""
_mercuryctl_values["--names"]="@none"
_mercuryctl_opts["mercuryctl config show"]="--names"
_mercuryctl_words["mercuryctl completion"]="bash zsh fish"
_mercuryctl_opts["mercuryctl completion"]=""
_mercuryctl_words["mercuryctl version"]=""
_mercuryctl_opts["mercuryctl version"]=""

_mercuryctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local path=mercuryctl w i skip=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((skip)); then skip=0; continue; fi
		case $w in
		--*=*) continue ;;
		-*) [[ -n ${_mercuryctl_values[$w]+x} ]] && skip=1; continue ;;
		esac
		[[ -n ${_mercuryctl_opts["$path $w"]+x} ]] && path="$path $w"
	done
	if [[ -n ${_mercuryctl_values[$prev]+x} ]] && ((COMP_CWORD > 1)); then
		case ${_mercuryctl_values[$prev]} in
		@file) COMPREPLY=($(compgen -f -- "$cur")) ;;
		@dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
		@none) COMPREPLY=() ;;
		*) COMPREPLY=($(compgen -W "${_mercuryctl_values[$prev]}" -- "$cur")) ;;
		esac
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${_mercuryctl_opts[$path]} ${_mercuryctl_opts[mercuryctl]}" -- "$cur"))
	else
		local names=""
		# Names of configured sections (checks, DLQs), from the config.
		[[ -n ${_mercuryctl_names[$path]+x} ]] &&
			names=$("${COMP_WORDS[0]}" config show --names "${_mercuryctl_names[$path]}" 2>/dev/null)
		COMPREPLY=($(compgen -W "${_mercuryctl_words[$path]} $names" -- "$cur"))
	fi
}
complete -F _mercuryctl mercuryctl
