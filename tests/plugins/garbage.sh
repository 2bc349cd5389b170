#!/bin/sh
# Binary garbage, invalid UTF-8, NUL bytes and no final newline, with a
# perfdata part that is mostly malformed (the quoted label never closes).
printf 'OK \000bin\377\376ary\001\033[31m | ok=1 =2 bad x=y \047un=1 \000z=3'
exit 1
