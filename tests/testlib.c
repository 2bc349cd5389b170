/* testlib.c - see testlib.h. */
#include "testlib.h"
#include "mc.h"

#include <criterion/criterion.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "http.h"
#include "redis.h"

char *mc_test_dir(char buf[MC_TEST_DIR_LEN])
{
	snprintf(buf, MC_TEST_DIR_LEN, "/tmp/mc-test-XXXXXX");
	cr_assert_not_null(mkdtemp(buf), "mkdtemp: %s", strerror(errno));
	return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	remove(path);
	return 0;
}

void mc_test_rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int mc_test_env_alive(const char *entry)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[65536], *rp, state = '?';
		ssize_t len;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0 ||
		    memmem(buf, (size_t)len, entry, strlen(entry) + 1) == NULL)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, 511);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		rp = strrchr(buf, ')');
		if (rp && sscanf(rp + 1, " %c", &state) == 1 &&
		    state != 'Z' && state != 'X')
			n++;
	}
	closedir(d);
	return n;
}

const char *mc_test_env(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v != NULL && *v != '\0',
		  "%s is not set: run scripts/servers.sh start DIR and source "
		  "DIR/env", name);
	return v;
}

char *mc_test_unique(const char *route, const char *name)
{
	unsigned char r[4];
	char hex[9];

	mc_random_bytes(r, sizeof(r));
	mc_hex(r, sizeof(r), hex);
	return mc_asprintf("%s/t-%s-%ld-%s", route, name, (long)getpid(), hex);
}

json_t *mc_test_receiver(const char *route, const char *prefix)
{
	struct mc_http_req req = { 0 };
	struct mc_err err = { 0 };
	struct mc_http *h;
	char *esc, *url;
	json_error_t jerr;
	json_t *j;

	/* mercuryctl's own client: libcurl is loaded only by the tests that
	 * speak HTTP, so the others start as fast as the binary does (which
	 * counts under valgrind, where every test is a process of its own). */
	h = mc_http_new(NULL, &err);
	cr_assert_not_null(h, "%s", err.msg);
	esc = mc_url_escape(prefix);
	url = mc_asprintf("%s/%s?path_prefix=%s",
			  mc_test_env("MC_TEST_RECEIVER"), route, esc);
	free(esc);
	req.url = url;
	req.timeout_ms = 10000;
	req.max_body = 256u << 20;
	cr_assert_eq(mc_http_perform(h, &req, 1, NULL, &err), 0, "%s", err.msg);
	cr_assert(req.done && req.status == 200, "receiver %s failed: %ld %s",
		  route, req.status, req.err.msg);
	j = json_loads(req.resp ? req.resp : "", 0, &jerr);
	cr_assert_not_null(j, "bad JSON from the receiver: %s", jerr.text);
	mc_http_req_release(&req);
	mc_http_free(h);
	free(url);
	return j;
}

int mc_test_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int redis_answers(int port)
{
	char url[64];
	struct mc_redis_opts o = { .url = url, .connect_timeout_ms = 200,
				   .command_timeout_ms = 200 };
	struct mc_redis *r;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", port);
	r = mc_redis_connect(&o, NULL);
	mc_redis_close(r);
	return r != NULL;
}

pid_t mc_test_redis_start(int port, const char *dir, const char *const *extra)
{
	const char *argv[32];
	char ports[16];
	double start = mc_mono_now();
	size_t n = 0;
	pid_t pid;

	snprintf(ports, sizeof(ports), "%d", port);
	argv[n++] = "timeout";
	argv[n++] = "300";
	argv[n++] = "redis-server";
	argv[n++] = "--bind";
	argv[n++] = "127.0.0.1";
	argv[n++] = "--port";
	argv[n++] = ports;
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = dir;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (!redis_answers(port)) {
		int st;

		cr_assert_eq(waitpid(pid, &st, WNOHANG), 0,
			     "redis-server on port %d exited", port);
		cr_assert(mc_mono_now() - start < 10, "redis-server on port "
			  "%d not up after 10 s", port);
		mc_sleep_ms(20);
	}
	return pid;
}

void mc_test_redis_stop(pid_t pid)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
}
