#!/usr/bin/zsh -f
# zsh-complete.zsh DIR LINE: what zsh's own completion system offers for
# LINE, one match a line (DIR a file: that script sourced after compinit
# instead of DIR on fpath). An interactive zsh in a pseudo-terminal loads
# compinit with DIR (where _mercuryctl is) first on fpath, is typed LINE and
# a Tab, and records every match given to compadd (the matches, not the
# screen). The caller bounds the run (timeout 1).
zmodload zsh/zpty || exit 1
dir=$1 line=$2
out=$(mktemp) || exit 1


# send TEXT: types TEXT and Enter, then waits until the shell has run it,
# printed a marker (the marker's echo differs from its output) and then its
# next prompt: the line editor is reading again, the terminal in its mode,
# so nothing is typed ahead of a prompt (typed ahead, a Tab could reach a
# terminal still in line mode, and the completion never run).
integer n=0
send() {
	local buf
	n+=1
	zpty -w z "$1"$'\n'"print -r -- __mark''$n''__"
	# Reads until what was read matches: the marker, then the prompt.
	zpty -r z buf "*"$'\n'"__mark${n}__*__ps1__" && return 0
	print -r -- "$buf" | cat -v >&2; return 1
}

zpty z env TERM=dumb zsh -f -i || exit 1
if [[ -f $dir ]]; then
	# a script file: sourced after compinit, as source <(mercuryctl
	# completion zsh) does
	send "PS1=__ps1__ RPS1=''; autoload -Uz compinit && compinit -u -D; source ${(q)dir}" || exit 1
else
	send "PS1=__ps1__ RPS1=''; fpath=(${(q)dir} \$fpath); autoload -Uz compinit && compinit -u -D" || exit 1
fi
# Calls that only ask compadd to compute (-O, -A, -D) add nothing.
send "compadd() { if [[ \" \$* \" == *\\ -[OAD]\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a m; builtin compadd -A m \"\$@\"; (( \${#m} )) && print -rl -- \"\${m[@]}\" >>| ${(q)out}; builtin compadd \"\$@\"; }" || exit 1
zpty -w -n z "$line"$'\t'
send $'\C-u' || exit 1
zpty -d z
cat -- $out
rm -f -- $out
