/*
 * net.h - name resolution and TCP connects that end on time: by an end
 * time on the monotonic clock and within 100 ms of SIGINT/SIGTERM
 * (mc_interrupted).
 *
 * Names are resolved with c-ares (/etc/hosts, then the servers of
 * /etc/resolv.conf, as glibc would), whose queries this module polls
 * itself: glibc's getaddrinfo() cannot be bounded (its timeout and retries
 * come from resolv.conf, 10 s by default) and cannot be abandoned. Literal
 * addresses are not resolved at all.
 */
#ifndef MC_NET_H
#define MC_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include "mc.h"

struct mc_net_addrs {
	size_t n;
	struct sockaddr_storage *addr;
	socklen_t *len;
};

/* Resolves host for TCP port port until end (mc_mono_now() seconds; 0:
 * none). 0 with out filled (free it with mc_net_addrs_free), or -1 with
 * err: code MC_EXIT_CRITICAL and sys_errno ETIMEDOUT ("timed out after N
 * ms resolving 'HOST'") or 0 ("cannot resolve 'HOST': REASON"); when
 * interrupted, code 130/143 and sys_errno EINTR. */
int mc_net_resolve(const char *host, int port, double end,
		   struct mc_net_addrs *out, struct mc_err *err);
void mc_net_addrs_free(struct mc_net_addrs *a);

/* Resolves host, then connects to each of its addresses in turn until one
 * answers, all before end. 0 with *fd (non-blocking, close-on-exec), or -1
 * with err (sys_errno: ETIMEDOUT, ECONNREFUSED, EINTR... or 0 when the name
 * did not resolve); the message names host and port. */
int mc_net_connect(const char *host, int port, double end, int *fd,
		   struct mc_err *err);

#endif
