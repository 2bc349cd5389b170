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

/* Text as a JSON string that keeps all of it: well-formed UTF-8 as it is
 * (JSON escapes control characters itself), and each byte that is not part
 * of well-formed UTF-8 (a NUL included) written as the four characters
 * \xNN, as mc_escape() does. Never NULL (but when out of memory, as any
 * jansson constructor): jansson's json_string() returns NULL for such text
 * and for NULL, and a member set to NULL is silently lost. So this is the
 * one way lib/ and cmd/ make a JSON string from anything but a literal
 * (scripts/check-json.sh, run by make check, enforces it).
 * mc_json_str(NULL) is JSON null. */
json_t *mc_json_text(const char *s, size_t n);
json_t *mc_json_str(const char *s);
/* json_object_set_new() with a key that is not a literal (a check's,
 * SLO's or webhook's name from the configuration, a name from the state
 * file): jansson refuses a key that is not UTF-8, and the member would be
 * lost, so such a key is written as mc_json_str() writes a value. Takes
 * value, as json_object_set_new() does; 0, or -1 when out of memory. */
int mc_json_set(json_t *obj, const char *key, json_t *value);

#endif
