#!/bin/bash
# check-json.sh - JSON output never silently drops a member (PRODUCT.md
# §2.9; docs/DESIGN.md, "JSON strings"). jansson returns NULL for a string
# that is not UTF-8 (or is NULL), json_pack() fails as a whole for such an
# "s" argument, and json_object_set_new() refuses such a key: the member,
# or the whole object, is then lost without a word. So in cmd/ and lib/,
# outside lib/json.c (the one place that makes strings from text):
#   - json_string() takes only a string literal; any other text goes
#     through mc_json_str() / mc_json_text();
#   - json_stringn(), the *_nocheck variants, json_sprintf(),
#     json_vsprintf() and json_string_set*() are not used;
#   - json_pack()'s format is a literal and each "s" argument is a string
#     literal (other text: "o" with mc_json_str());
#   - json_object_set*() takes a literal key; any other key goes through
#     mc_json_set().
# Prints one line per violation and exits 1 when there is any.
#   scripts/check-json.sh [SRCDIR]
set -u
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src" || exit 2

# shellcheck disable=SC2016
exec perl -e '
use strict;
use warnings;

my $bad = 0;

sub complain {
	my ($f, $ln, $msg) = @_;
	print "check-json: $f:$ln: $msg\n";
	$bad = 1;
}

# The arguments of the call whose "(" ends at pos($$t): a list of
# [text, offset], split at the commas outside parentheses, strings and
# character constants.
sub call_args {
	my ($t, $p) = @_;
	my ($depth, $start, @args) = (0, $p);
	my $n = length $$t;

	while ($p < $n) {
		my $c = substr($$t, $p, 1);
		if ($c eq "\"" || $c eq "\x27") {
			$p++;
			while ($p < $n && substr($$t, $p, 1) ne $c) {
				$p++ if substr($$t, $p, 1) eq "\\";
				$p++;
			}
		} elsif ($c eq "(" || $c eq "[" || $c eq "{") {
			$depth++;
		} elsif ($c eq ")" || $c eq "]" || $c eq "}") {
			if ($depth == 0) {
				push @args, [substr($$t, $start, $p - $start), $start];
				return @args;
			}
			$depth--;
		} elsif ($c eq "," && $depth == 0) {
			push @args, [substr($$t, $start, $p - $start), $start];
			$start = $p + 1;
		}
		$p++;
	}
	return @args;
}

sub literal { return $_[0] =~ /^\s*"/ }

# The arguments json_pack() reads for fmt, in order: [kind, index]
# where kind is "s" for a string and "x" for anything else.
sub pack_slots {
	my ($fmt) = @_;
	my @k;
	my $i = 0;
	my $n = length $fmt;

	while ($i < $n) {
		my $c = substr($fmt, $i++, 1);
		if ($c eq "s") {
			push @k, "s";
			while (1) {
				$i++ while $i < $n && substr($fmt, $i, 1) =~ /[?*]/;
				if ($i < $n && substr($fmt, $i, 1) =~ /[#%]/) {
					push @k, "x";
					$i++;
				}
				last unless $i < $n && substr($fmt, $i, 1) eq "+";
				$i++;
				push @k, "s";
			}
		} elsif ($c =~ /[biIfoO]/) {
			push @k, "x";
		}
	}
	return @k;
}

my $str_rx = qr/"(?:\\.|[^"\\\n])*"/;
for my $f (@ARGV) {
	next if $f eq "lib/json.c";
	open(my $fh, "<", $f) or die "check-json: $f: $!\n";
	local $/;
	my $t = <$fh>;
	close $fh;
	# Comments out (newlines kept, for the line numbers); strings and
	# character constants kept as they are.
	$t =~ s{($str_rx)|(\x27(?:\\.|[^\x27\\\n])*\x27)|(/\*.*?\*/)|(//[^\n]*)}
	       {defined $3 ? ($3 =~ s/[^\n]//gr) : defined $4 ? "" : $&}gse;
	# The same text with the insides of strings blanked (same length),
	# to find calls; their arguments are read from $t.
	(my $m = $t) =~ s{$str_rx|\x27(?:\\.|[^\x27\\\n])*\x27}{"\"" . (" " x (length($&) - 2)) . "\""}ge;
	while ($m =~ /\b(json_\w+)\s*\(/g) {
		my ($name, $at, $end) = ($1, $-[0], $+[0]);
		my $ln = (substr($t, 0, $at) =~ tr/\n//) + 1;
		my @a = call_args(\$t, $end);
		if ($name eq "json_string") {
			complain($f, $ln, "json_string() of text that is not a " .
				 "literal: use mc_json_str() (lib/json.h)")
				unless @a && literal($a[0][0]);
		} elsif ($name =~ /^json_(?:stringn|string_nocheck|stringn_nocheck|sprintf|vsprintf|string_set\w*)$/) {
			complain($f, $ln, "$name(): use mc_json_text() or " .
				 "mc_json_str() (lib/json.h)");
		} elsif ($name =~ /^json_(?:pack|pack_ex|vpack_ex)$/) {
			my $fi = $name eq "json_pack" ? 0 : 2;
			if ($name eq "json_vpack_ex" || @a <= $fi ||
			    !literal($a[$fi][0])) {
				complain($f, $ln, "$name() with a format that is " .
					 "not a literal");
				next;
			}
			my $fmt = join "", $a[$fi][0] =~ /"((?:\\.|[^"\\])*)"/g;
			my @k = pack_slots($fmt);
			for my $j (0 .. $#k) {
				my $arg = $a[$fi + 1 + $j];
				last unless defined $arg;
				next if $k[$j] ne "s" || literal($arg->[0]);
				my $aln = (substr($t, 0, $arg->[1]) =~ tr/\n//) + 1;
				(my $txt = $arg->[0]) =~ s/^\s+|\s+$//g;
				complain($f, $aln, "$name() \"s\" of text that is " .
					 "not a literal ($txt): use \"o\" with " .
					 "mc_json_str() (lib/json.h)");
			}
		} elsif ($name =~ /^json_object_setn?(?:_new)?(?:_nocheck)?$/) {
			complain($f, $ln, "$name() with a key that is not a " .
				 "literal: use mc_json_set() (lib/json.h)")
				unless @a >= 2 && literal($a[1][0]);
		}
	}
}
exit $bad;
' lib/*.[ch] cmd/*.[ch]
