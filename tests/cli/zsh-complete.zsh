#!/usr/bin/zsh -f
# zsh-complete.zsh DIR LINE: what zsh's own completion system offers for
# LINE, one match a line. An interactive zsh in a pseudo-terminal loads
# compinit with DIR (where _mercuryctl is) first on fpath, is typed LINE and
# a Tab, and records every match given to compadd (the matches, not the
# screen). The caller bounds the run (timeout 1).
zmodload zsh/zpty || exit 1
dir=$1 line=$2
out=$(mktemp) || exit 1


# send TEXT: types TEXT and Enter, then waits until the shell has run it and
# printed a marker (the marker's echo differs from its output: nothing is
# typed ahead of a prompt).
integer n=0
send() {
	local buf chunk
	n+=1
	zpty -w z "$1"$'\n'"print -r -- __mark''$n''__"
	while zpty -r z chunk; do
		buf+=$chunk
		[[ $buf == *$'\n'__mark${n}__* ]] && return 0
	done
	print -r -- "$buf" | cat -v >&2; return 1
}

zpty z env TERM=dumb zsh -f -i || exit 1
send "PS1='' RPS1=''; fpath=(${(q)dir} \$fpath); autoload -Uz compinit && compinit -u -D" || exit 1
# Calls that only ask compadd to compute (-O, -A, -D) add nothing.
send "compadd() { if [[ \" \$* \" == *\\ -[OAD]\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a m; builtin compadd -A m \"\$@\"; (( \${#m} )) && print -rl -- \"\${m[@]}\" >>| ${(q)out}; builtin compadd \"\$@\"; }" || exit 1
zpty -w -n z "$line"$'\t'
send $'\C-u' || exit 1
zpty -d z
cat -- $out
rm -f -- $out
