/*
 * json.h - JSON text as mercuryctl writes it: compact, keys in insertion
 * order, and every real number as the shortest text that reads back as the
 * same double (8.80604, not 8.8060400000244954), which jansson's fixed
 * precision cannot give. Everything that prints JSON goes through here:
 * -o json, --watch, JSON logs.
 */
#ifndef MC_JSON_H
#define MC_JSON_H

#include <jansson.h>

#define MC_JSON_ASCII	0x1	/* escape every non-ASCII code point */

/* The text of j (any value), without a trailing newline. Caller frees.
 * Reals that are not finite (jansson does not make them) are null. */
char *mc_json_dumps(const json_t *j, int flags);
/* The text of d with the fewest digits that strtod() reads back as d,
 * positional from 1e-4 to below 1e16 and with an exponent outside (as
 * Python's repr writes floats: 20.0, 0.0001, 1e-05, 1e+16), ".0" added
 * when it would read as an integer; buf holds 40 bytes. */
void mc_json_real(double d, char *buf, size_t size);
/* 1 when s is exactly one JSON number (RFC 8259 grammar). */
int mc_json_is_number(const char *s);

#endif
