/*
 * testlib.h - scaffolding the unit tests share. Directories live in the
 * caller's buffer, not on the heap, so that forked children which _exit()
 * leave nothing of the parent's for valgrind to call lost.
 */
#ifndef MC_TESTLIB_H
#define MC_TESTLIB_H

#define MC_TEST_DIR_LEN 64

/* Makes a fresh /tmp/mc-test-XXXXXX in buf and returns buf; the test fails
 * when it cannot. */
char *mc_test_dir(char buf[MC_TEST_DIR_LEN]);
/* Removes dir and everything below it (making unreadable entries
 * removable first). */
void mc_test_rmtree(const char *dir);

/* The value of a variable the test servers' env file sets; the test fails
 * (never skips) when it is missing: a missing server is a setup failure. */
const char *mc_test_env(const char *name);

/* "ROUTE/t-NAME-PID-RANDOM": a receiver path no other test uses, so tests
 * in parallel processes read back only their own requests. Caller frees. */
char *mc_test_unique(const char *route, const char *name);

/* GETs the receiver's control ROUTE ("_requests", "_stats") for the
 * requests whose path starts with prefix, and parses its JSON answer (the
 * test fails when it cannot). Caller json_decref()s. */
/* Live (not zombie) processes whose environment holds the entry
 * "NAME=value": tests mark every process they start that way, so /proc
 * tells whether one survived, even one killed before it said who it is. */
int mc_test_env_alive(const char *entry);

#include <jansson.h>
json_t *mc_test_receiver(const char *route, const char *prefix);

#endif
