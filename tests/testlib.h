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

/* A free TCP port on 127.0.0.1 (bound once, then released). */
int mc_test_free_port(void);
/* Starts a redis-server of the test's own on 127.0.0.1:port with its
 * files in dir and the extra arguments (NULL-terminated, may be NULL),
 * under timeout(1); returns once it answers (10 s at most, else the test
 * fails). */
#include <sys/types.h>
pid_t mc_test_redis_start(int port, const char *dir,
			  const char *const *extra);
/* SIGTERM, and waits for it. */
void mc_test_redis_stop(pid_t pid);

#endif
