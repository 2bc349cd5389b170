/*
 * sigchain.c - SIGINT/SIGTERM handling and a sleep that a signal ends
 * (docs/DESIGN.md, "Resilience").
 */
#include "mc.h"

#include <signal.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t mc_interrupted;

static void on_signal(int sig)
{
	if (mc_interrupted) {
		/* A second signal: the user insists. Stop at once with the
		 * conventional status; SQLite's journal keeps the file whole. */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	mc_interrupted = sig;
}

void mc_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: blocking calls return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file over RLIMIT_FSIZE (ulimit -f) is a write error, EFBIG,
	 * reported as any full disk (exit 74), not a kill mid-write: the
	 * state file is written before any command starts. Children get
	 * default dispositions back (proc.c). */
	signal(SIGXFSZ, SIG_IGN);
}

int mc_sleep_ms(int64_t ms)
{
	double end = mc_mono_now() + ms / 1e3;

	while (!mc_interrupted) {
		double left = end - mc_mono_now();
		struct timespec ts;

		if (left <= 0)
			return 0;
		if (left > 0.05)
			left = 0.05;	/* wake to notice a signal that raced */
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	return 1;
}
