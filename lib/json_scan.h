/*
 * json_scan.h - a byte-preserving JSON scanner (RFC 8259), for editing a
 * message without re-encoding it (lib/dlq.c): it checks that bytes are
 * exactly one JSON object and says where the values of the top-level
 * members the caller names begin and end, so that the caller can replace
 * those bytes and keep every other byte as it was. Nothing is allocated
 * for the caller; strings are decoded only on request.
 */
#ifndef MC_JSON_SCAN_H
#define MC_JSON_SCAN_H

#include <stddef.h>
#include "mc.h"

/* Nesting deeper than this is refused (as unparseable). */
#define MC_JSON_MAX_DEPTH 512

/* A top-level member the caller looks for. With duplicate keys the LAST
 * occurrence is the one recorded (and later edited), as most parsers
 * (jansson, Python, JavaScript) read a duplicated key as its last value;
 * earlier occurrences are left exactly as written. */
struct mc_json_member {
	const char *name;
	size_t name_len;
	int found;
	size_t vstart, vend;	/* the value's bytes */
	char kind;		/* '{' '[' '"' 't' 'f' 'n', '0' for numbers */
};

/* 0 when data[0..n) is exactly one JSON object (whitespace around it
 * allowed), with *open the index of its '{' and *members the number of its
 * top-level members; the w[0..nw) named by .name get .found, .vstart,
 * .vend and .kind. -1 when it is anything else (a scalar, an array, bad
 * UTF-8, an unpaired surrogate escape, trailing bytes, nesting too deep). */
int mc_json_scan_object(const void *data, size_t n, struct mc_json_member *w,
			size_t nw, size_t *open, size_t *members);

/* Decodes the JSON string that starts at data[0] (a '"') into dec (bytes
 * after its closing quote are ignored); 0, or -1 when it is not one. */
int mc_json_string_decode(const void *data, size_t n, struct mc_buf *dec);

#endif
