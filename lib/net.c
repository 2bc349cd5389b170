/*
 * net.c - bounded resolution (c-ares) and TCP connects. See net.h.
 *
 * Every call makes a c-ares channel of its own (it reads resolv.conf
 * afresh, and threads never share one), starts one ares_getaddrinfo and
 * drives it with poll() in slices of at most SLICE_MS, so that the end time
 * and a signal are noticed; on either, the query is cancelled and the
 * channel destroyed: nothing is left running.
 */
#include "net.h"
#include "lazylib.h"	/* c-ares, loaded on first use */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLICE_MS 100

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_rc = ARES_SUCCESS;

static void ares_setup(void)
{
	ares_init_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

void mc_net_addrs_free(struct mc_net_addrs *a)
{
	if (a == NULL)
		return;
	free(a->addr);
	free(a->len);
	memset(a, 0, sizeof(*a));
}

static void addrs_add(struct mc_net_addrs *a, const struct sockaddr *sa,
		      socklen_t len)
{
	if (len > sizeof(struct sockaddr_storage))
		return;
	a->addr = mc_realloc(a->addr, (a->n + 1) * sizeof(*a->addr));
	a->len = mc_realloc(a->len, (a->n + 1) * sizeof(*a->len));
	memset(&a->addr[a->n], 0, sizeof(a->addr[a->n]));
	memcpy(&a->addr[a->n], sa, len);
	a->len[a->n++] = len;
}

/* A literal IPv4 or IPv6 address: 1 with out filled. */
static int literal(const char *host, int port, struct mc_net_addrs *out)
{
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;

	memset(&v4, 0, sizeof(v4));
	memset(&v6, 0, sizeof(v6));
	if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
		v4.sin_family = AF_INET;
		v4.sin_port = htons((uint16_t)port);
		addrs_add(out, (struct sockaddr *)&v4, sizeof(v4));
		return 1;
	}
	if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
		v6.sin6_family = AF_INET6;
		v6.sin6_port = htons((uint16_t)port);
		addrs_add(out, (struct sockaddr *)&v6, sizeof(v6));
		return 1;
	}
	return 0;
}

struct query {
	int done;
	int status;
	struct mc_net_addrs *out;
};

static void on_answer(void *arg, int status, int timeouts,
		      struct ares_addrinfo *res)
{
	struct query *q = arg;

	(void)timeouts;
	q->done = 1;
	q->status = status;
	if (status == ARES_SUCCESS && res != NULL)
		for (struct ares_addrinfo_node *n = res->nodes; n;
		     n = n->ai_next)
			addrs_add(q->out, n->ai_addr, n->ai_addrlen);
	if (res != NULL)
		ares_freeaddrinfo(res);
}

static int interrupted(struct mc_err *err, const char *what,
		       const char *host)
{
	mc_err_set(err, mc_interrupted == SIGTERM ? MC_EXIT_SIGTERM :
		   MC_EXIT_SIGINT, "interrupted while %s '%s'", what, host);
	if (err)
		err->sys_errno = EINTR;
	return -1;
}

static int timed_out(struct mc_err *err, double start, const char *what,
		     const char *host)
{
	mc_err_set(err, MC_EXIT_CRITICAL, "timed out after %.0f ms %s '%s'",
		   (mc_mono_now() - start) * 1e3, what, host);
	if (err)
		err->sys_errno = ETIMEDOUT;
	return -1;
}

/* Milliseconds to wait now: at most SLICE_MS and what is left until end;
 * -1 when end has passed. */
static int slice_ms(double end)
{
	double left;

	if (end <= 0)
		return SLICE_MS;
	left = (end - mc_mono_now()) * 1e3;
	if (left <= 0)
		return -1;
	return left < SLICE_MS ? (int)left + 1 : SLICE_MS;
}

int mc_net_resolve(const char *host, int port, double end,
		   struct mc_net_addrs *out, struct mc_err *err)
{
	struct ares_addrinfo_hints hints;
	struct query q = { 0, 0, out };
	ares_channel ch;
	char service[16];
	double start = mc_mono_now();
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (literal(host, port, out))
		return 0;
	pthread_once(&ares_once, ares_setup);
	if (ares_init_rc != ARES_SUCCESS ||
	    (rc = ares_init(&ch)) != ARES_SUCCESS)
		return mc_err_set(err, MC_EXIT_CRITICAL,
				  "cannot resolve '%s': %s", host,
				  ares_strerror(ares_init_rc != ARES_SUCCESS ?
						ares_init_rc : rc));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = ARES_AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	ares_getaddrinfo(ch, host, service, &hints, on_answer, &q);
	while (!q.done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pf[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp;
		int bits, n = 0, wait = slice_ms(end), ready;

		if (mc_interrupted || wait < 0)
			break;
		bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			/* c-ares' own ARES_GETSOCK_WRITABLE shifts 1 into
			 * the sign bit of an int: read the bits unsigned. */
			unsigned ub = (unsigned)bits;
			short ev = (short)((((ub >> i) & 1u) ? POLLIN : 0) |
					   (((ub >> (i + ARES_GETSOCK_MAXNUM)) &
					     1u) ? POLLOUT : 0));

			if (ev)
				pf[n++] = (struct pollfd){ socks[i], ev, 0 };
		}
		tvp = ares_timeout(ch, NULL, &tv);
		if (tvp != NULL) {
			long ms = tvp->tv_sec * 1000 + tvp->tv_usec / 1000 + 1;

			if (ms < wait)
				wait = (int)ms;
		}
		ready = poll(pf, (nfds_t)n, wait);
		if (ready <= 0) {
			/* c-ares handles its own timeouts and retries */
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < n; i++)
			if (pf[i].revents)
				ares_process_fd(ch,
					pf[i].revents & (POLLIN | POLLERR |
							 POLLHUP) ?
					pf[i].fd : ARES_SOCKET_BAD,
					pf[i].revents & POLLOUT ?
					pf[i].fd : ARES_SOCKET_BAD);
	}
	if (!q.done)
		ares_cancel(ch);	/* calls on_answer: ECANCELLED */
	ares_destroy(ch);
	if (q.status == ARES_SUCCESS && out->n > 0)
		return 0;
	mc_net_addrs_free(out);
	if (q.status == ARES_ECANCELLED || !q.done)
		return mc_interrupted ? interrupted(err, "resolving", host) :
		       timed_out(err, start, "resolving", host);
	mc_err_set(err, MC_EXIT_CRITICAL, "cannot resolve '%s': %s", host,
		   q.status == ARES_SUCCESS ? "no address" :
		   ares_strerror(q.status));
	if (err)
		err->sys_errno = 0;
	return -1;
}

/* One attempt: 0 with *fd connected, else an errno (ETIMEDOUT at end,
 * EINTR on a signal); the socket is closed on failure. */
static int try_connect(const struct sockaddr *sa, socklen_t len, double end,
		       int *fd)
{
	int s, e = 0;
	socklen_t elen = sizeof(e);

	s = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		   0);
	if (s < 0)
		return errno ? errno : EIO;
	if (connect(s, sa, len) == 0)
		goto done;
	if (errno != EINPROGRESS && errno != EINTR) {
		e = errno;
		goto done;
	}
	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLOUT };
		int wait = slice_ms(end), n;

		if (mc_interrupted) {
			e = EINTR;
			goto done;
		}
		if (wait < 0) {
			e = ETIMEDOUT;
			goto done;
		}
		n = poll(&p, 1, wait);
		if (n < 0 && errno != EINTR) {
			e = errno;
			goto done;
		}
		if (n > 0)
			break;
	}
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		e = errno;
done:
	if (e != 0)
		close(s);
	else
		*fd = s;
	return e;
}

int mc_net_connect(const char *host, int port, double end, int *fd,
		   struct mc_err *err)
{
	struct mc_net_addrs a;
	double start = mc_mono_now();
	char eb[128];
	int e = EHOSTUNREACH;

	*fd = -1;
	if (mc_net_resolve(host, port, end, &a, err) < 0)
		return -1;
	for (size_t i = 0; i < a.n; i++) {
		e = try_connect((struct sockaddr *)&a.addr[i], a.len[i], end,
				fd);
		if (e == 0 || e == ETIMEDOUT || e == EINTR)
			break;
	}
	mc_net_addrs_free(&a);
	if (e == 0)
		return 0;
	if (e == EINTR)
		return interrupted(err, "connecting to", host);
	if (e == ETIMEDOUT)
		return timed_out(err, start, "connecting to", host);
	mc_err_set(err, MC_EXIT_CRITICAL, "cannot connect to %s:%d: %s", host,
		   port, mc_strerror(e, eb, sizeof(eb)));
	if (err)
		err->sys_errno = e;
	return -1;
}
