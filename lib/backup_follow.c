/*
 * backup_follow.c - verify of a compressed database copy in one pass of
 * wall time: one thread decompresses and hashes the stored file into the
 * temporary copy while PRAGMA integrity_check already reads that copy on
 * the other core. The check opens the copy through a small VFS that wraps
 * the default one and makes each read wait until the decompressing thread
 * has written the bytes it asks for (or has stopped); the size it reports
 * is the manifest's. A pass whose decompression or hashes fail has its
 * check result thrown away by the caller.
 */
#include "backup_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct follow {
	struct mc_bk_vfs vfs;
	sqlite3_vfs *real;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t avail;			/* bytes of the copy written */
	uint64_t size;			/* bytes it will have */
	int done;			/* the writer stopped */
	/* the writer's side */
	int in_fd, out_fd;
	const char *in_name, *out_name;
	struct mc_bk_io io, *user_io;
	uint64_t base;
	struct mc_bk_sums *sums;
	struct mc_err err;
	int rc;
};

struct follow_file {
	sqlite3_file base;
	struct follow *fw;
	sqlite3_file *real;
};

static void follow_progress(void *ud, uint64_t done, uint64_t total)
{
	struct follow *fw = ud;

	pthread_mutex_lock(&fw->mu);
	fw->avail = done - fw->base;
	pthread_cond_broadcast(&fw->cv);
	pthread_mutex_unlock(&fw->mu);
	if (fw->user_io && fw->user_io->progress)
		fw->user_io->progress(fw->user_io->ud, done, total);
}

static void *follow_writer(void *arg)
{
	struct follow *fw = arg;

	fw->rc = mc_bk_load(fw->in_fd, fw->in_name, fw->out_fd, fw->out_name,
			    1, &fw->io, fw->sums, &fw->err);
	pthread_mutex_lock(&fw->mu);
	fw->done = 1;
	pthread_cond_broadcast(&fw->cv);
	pthread_mutex_unlock(&fw->mu);
	return NULL;
}

static sqlite3_file *real_of(sqlite3_file *f)
{
	return ((struct follow_file *)f)->real;
}

static int ff_close(sqlite3_file *f)
{
	sqlite3_file *r = real_of(f);

	return r->pMethods->xClose(r);
}

static int ff_read(sqlite3_file *f, void *p, int amt, sqlite3_int64 off)
{
	struct follow *fw = ((struct follow_file *)f)->fw;
	sqlite3_file *r = real_of(f);
	uint64_t end = (uint64_t)off + (uint64_t)amt;

	pthread_mutex_lock(&fw->mu);
	while (!fw->done && fw->avail < end && fw->avail < fw->size)
		pthread_cond_wait(&fw->cv, &fw->mu);
	pthread_mutex_unlock(&fw->mu);
	return r->pMethods->xRead(r, p, amt, off);
}

/* Read-only: neither writes nor truncates. */
static int ff_write(sqlite3_file *f, const void *p, int amt,
		    sqlite3_int64 off)
{
	(void)f;
	(void)p;
	(void)amt;
	(void)off;
	return SQLITE_READONLY;
}

static int ff_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return ff_write(f, NULL, 0, size);
}

static int ff_size(sqlite3_file *f, sqlite3_int64 *size)
{
	*size = (sqlite3_int64)((struct follow_file *)f)->fw->size;
	return SQLITE_OK;
}

static int ff_sector(sqlite3_file *f)
{
	sqlite3_file *r = real_of(f);

	return r->pMethods->xSectorSize(r);
}

static int ff_caps(sqlite3_file *f)
{
	(void)f;
	return SQLITE_IOCAP_IMMUTABLE;
}

static const sqlite3_io_methods follow_methods = {
	.iVersion = 1,
	.xClose = ff_close,
	.xRead = ff_read,
	.xWrite = ff_write,
	.xTruncate = ff_truncate,
	.xSync = mc_bk_vf_sync,
	.xFileSize = ff_size,
	.xLock = mc_bk_vf_lock,
	.xUnlock = mc_bk_vf_lock,
	.xCheckReservedLock = mc_bk_vf_reserved,
	.xFileControl = mc_bk_vf_control,
	.xSectorSize = ff_sector,
	.xDeviceCharacteristics = ff_caps,
};

static int fv_open(sqlite3_vfs *v, const char *name, sqlite3_file *f,
		   int flags, int *out_flags)
{
	struct follow *fw = v->pAppData;
	struct follow_file *ff = (struct follow_file *)f;
	int rc;

	f->pMethods = NULL;
	if (!(flags & SQLITE_OPEN_MAIN_DB))
		return SQLITE_CANTOPEN;
	ff->fw = fw;
	ff->real = (sqlite3_file *)(ff + 1);
	rc = fw->real->xOpen(fw->real, name, ff->real, flags, out_flags);
	if (rc == SQLITE_OK)
		f->pMethods = &follow_methods;
	return rc;
}

static int fv_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
	sqlite3_vfs *r = ((struct follow *)v->pAppData)->real;

	return r->xFullPathname(r, name, n, out);
}

int mc_bk_load_checked(int in_fd, const char *in_name, int out_fd,
		       const char *out_path, uint64_t size,
		       struct mc_bk_io *io, struct mc_bk_sums *sums,
		       char **why, struct mc_err *err)
{
	struct follow *fw = mc_calloc(1, sizeof(*fw));
	pthread_t th;
	int rc;

	*why = NULL;
	memset(sums, 0, sizeof(*sums));
	fw->real = sqlite3_vfs_find(NULL);
	pthread_mutex_init(&fw->mu, NULL);
	pthread_cond_init(&fw->cv, NULL);
	fw->size = size;
	fw->in_fd = in_fd;
	fw->out_fd = out_fd;
	fw->in_name = in_name;
	fw->out_name = out_path;
	fw->sums = sums;
	fw->user_io = io;
	if (io)
		fw->io = *io;
	fw->base = fw->io.done;
	fw->io.progress = follow_progress;
	fw->io.ud = fw;

	mc_bk_vfs_init(&fw->vfs, "follow", fw, (int)sizeof(struct follow_file) +
		       fw->real->szOsFile, fv_open);
	fw->vfs.vfs.mxPathname = fw->real->mxPathname;
	fw->vfs.vfs.xFullPathname = fv_full;
	if (pthread_create(&th, NULL, follow_writer, fw) != 0)
		abort();
	rc = mc_bk_sqlite_check_vfs(out_path, fw->vfs.name, why, err);
	pthread_join(th, NULL);
	sqlite3_vfs_unregister(&fw->vfs.vfs);
	if (io)
		io->done = fw->io.done;
	if (rc == 0 && fw->rc < 0) {
		*err = fw->err;
		rc = -1;
	}
	if (rc < 0) {
		free(*why);
		*why = NULL;
	}
	pthread_cond_destroy(&fw->cv);
	pthread_mutex_destroy(&fw->mu);
	free(fw);
	return rc;
}
