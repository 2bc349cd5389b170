/* testlib.c - see testlib.h. */
#include "testlib.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

const char *mc_test_env(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v != NULL && *v != '\0',
		  "%s is not set: run scripts/servers.sh start DIR and source "
		  "DIR/env", name);
	return v;
}
