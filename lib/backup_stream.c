/*
 * backup_stream.c - the one streaming pass every backup file goes through:
 * read a chunk, hash it, compress it (libzstd, multi-threaded), hash what
 * comes out, write it. Memory stays bounded whatever the file's size, and
 * nothing is read twice. The reverse pass (verify, restore) hashes the
 * stored bytes, decompresses and hashes the original.
 */
#include "backup.h"
#include "backup_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define CHUNK (1u << 20)

void mc_bk_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	mc_hex(md, 32, out);
}

static EVP_MD_CTX *sha_new(void)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		MC_BUG("cannot start a SHA-256 digest");
	return c;
}

static void sha_end(EVP_MD_CTX *c, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_DigestFinal_ex(c, md, &len);
	mc_hex(md, 32, out);
	EVP_MD_CTX_free(c);
}

/* Stops between chunks on a signal or the deadline. */
static int io_check(const struct mc_bk_io *io, struct mc_err *err)
{
	if (mc_interrupted)
		return mc_err_set(err, mc_interrupted == SIGTERM ?
				  MC_EXIT_SIGTERM : MC_EXIT_SIGINT,
				  "interrupted by %s", mc_interrupted == SIGTERM ?
				  "SIGTERM" : "SIGINT");
	if (io && io->dl && mc_deadline_passed(io->dl))
		return mc_err_set(err, MC_EXIT_CRITICAL,
				  "the run's deadline (--timeout) passed");
	return 0;
}

static void io_progress(struct mc_bk_io *io, size_t n)
{
	if (io == NULL)
		return;
	io->done += n;
	if (io->progress)
		io->progress(io->ud, io->done, io->total);
}

static ssize_t read_some(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/* One chunk of in_fd after checking the signal and the deadline: its
 * length, 0 at the end, -1 with err. */
static ssize_t read_chunk(struct mc_bk_io *io, int fd, const char *name,
			  char *buf, struct mc_err *err)
{
	ssize_t r;

	if (io_check(io, err) < 0)
		return -1;
	r = read_some(fd, buf, CHUNK);
	if (r < 0)
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s", name);
	return r;
}

static int write_all_fd(int fd, const char *name, const void *p, size_t n,
			struct mc_err *err)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return mc_err_sys(err, MC_EXIT_IOERR, errno,
					  "cannot write %s", name);
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int threads_for(const struct mc_bk_io *io)
{
	long n;

	if (io && io->threads > 0)
		return io->threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

struct mc_bk_writer {
	EVP_MD_CTX *ho, *hs;
	ZSTD_CCtx *cc;
	char *out;
	size_t out_cap;
	int fd;
	char *name;
	struct mc_bk_io *io;
	uint64_t size, stored;
	uint64_t flushed;		/* bytes handed to writeback */
};

/* Starts writeback of what was written since the last call once there is
 * enough of it, so the disk works while we compress and hash, and the
 * final fsync has little left to wait for. */
#define WRITEBACK_STEP (16u << 20)

void mc_bk_writeback(int fd, uint64_t from, uint64_t to)
{
	if (to > from)
		sync_file_range(fd, (off_t)from, (off_t)(to - from),
				SYNC_FILE_RANGE_WRITE);
}

static void writer_kick(struct mc_bk_writer *w)
{
	if (w->stored - w->flushed >= WRITEBACK_STEP) {
		mc_bk_writeback(w->fd, w->flushed, w->stored);
		w->flushed = w->stored;
	}
}

struct mc_bk_writer *mc_bk_writer_new(int out_fd, const char *out_name,
				      int zstd, struct mc_bk_io *io)
{
	struct mc_bk_writer *w = mc_calloc(1, sizeof(*w));

	w->ho = sha_new();
	w->fd = out_fd;
	w->name = mc_strdup(out_name);
	w->io = io;
	if (zstd) {
		int threads = threads_for(io);

		w->hs = sha_new();
		w->cc = ZSTD_createCCtx();
		if (w->cc == NULL)
			MC_BUG("cannot create a zstd compression context");
		ZSTD_CCtx_setParameter(w->cc, ZSTD_c_compressionLevel,
				       io && io->level ? io->level : 3);
		ZSTD_CCtx_setParameter(w->cc, ZSTD_c_checksumFlag, 1);
		/* Not an error where libzstd lacks threads: it then works in
		 * one. */
		if (threads > 1)
			ZSTD_CCtx_setParameter(w->cc, ZSTD_c_nbWorkers, threads);
		/* Small jobs: the workers' buffers stay near 20 MiB in all
		 * (the default, four windows a job, takes about 60 MiB) at
		 * the same ratio. */
		ZSTD_CCtx_setParameter(w->cc, ZSTD_c_jobSize, 2 << 20);
		w->out_cap = ZSTD_CStreamOutSize() * 4;
		w->out = mc_malloc(w->out_cap);
	}
	return w;
}

static int writer_push(struct mc_bk_writer *w, const char *data, size_t len,
		       int last, struct mc_err *err)
{
	ZSTD_inBuffer ib = { data, len, 0 };
	int done;

	do {
		ZSTD_outBuffer ob = { w->out, w->out_cap, 0 };
		size_t left = ZSTD_compressStream2(w->cc, &ob, &ib,
			last ? ZSTD_e_end : ZSTD_e_continue);

		if (ZSTD_isError(left))
			return mc_err_set(err, MC_EXIT_IOERR, "cannot compress "
					  "into %s: %s", w->name,
					  ZSTD_getErrorName(left));
		EVP_DigestUpdate(w->hs, w->out, ob.pos);
		if (write_all_fd(w->fd, w->name, w->out, ob.pos, err) < 0)
			return -1;
		w->stored += ob.pos;
		writer_kick(w);
		done = last ? left == 0 : ib.pos == ib.size;
	} while (!done);
	return 0;
}

int mc_bk_writer_add(struct mc_bk_writer *w, const void *data, size_t len,
		     struct mc_err *err)
{
	EVP_DigestUpdate(w->ho, data, len);
	w->size += len;
	if (w->cc) {
		if (writer_push(w, data, len, 0, err) < 0)
			return -1;
	} else {
		if (write_all_fd(w->fd, w->name, data, len, err) < 0)
			return -1;
		w->stored += len;
		writer_kick(w);
	}
	io_progress(w->io, len);
	return 0;
}

int mc_bk_writer_finish(struct mc_bk_writer *w, struct mc_bk_sums *sums,
			struct mc_err *err)
{
	int rc = 0;

	if (w->cc)
		rc = writer_push(w, "", 0, 1, err);
	memset(sums, 0, sizeof(*sums));
	sums->size = w->size;
	sums->stored = w->stored;
	sha_end(w->ho, sums->sha256_original);
	w->ho = NULL;
	if (w->hs) {
		sha_end(w->hs, sums->sha256);
		w->hs = NULL;
	} else {
		memcpy(sums->sha256, sums->sha256_original, 65);
	}
	return rc;
}

void mc_bk_writer_free(struct mc_bk_writer *w)
{
	if (w == NULL)
		return;
	if (w->ho)
		EVP_MD_CTX_free(w->ho);
	if (w->hs)
		EVP_MD_CTX_free(w->hs);
	ZSTD_freeCCtx(w->cc);
	free(w->out);
	free(w->name);
	free(w);
}

int mc_bk_store(int in_fd, const char *in_name, int out_fd,
		const char *out_name, int zstd, struct mc_bk_io *io,
		struct mc_bk_sums *sums, struct mc_err *err)
{
	struct mc_bk_writer *w = mc_bk_writer_new(out_fd, out_name, zstd, io);
	char *in = mc_malloc(CHUNK);
	int rc = -1;

	memset(sums, 0, sizeof(*sums));
	for (;;) {
		ssize_t r = read_chunk(io, in_fd, in_name, in, err);

		if (r < 0)
			goto out;
		if (r == 0)
			break;
		if (mc_bk_writer_add(w, in, (size_t)r, err) < 0)
			goto out;
	}
	rc = mc_bk_writer_finish(w, sums, err);
out:
	mc_bk_writer_free(w);
	free(in);
	return rc;
}

/* ---- the reverse pass ----------------------------------------------------- */

/* The second half of a decompressing pass on its own thread: SHA-256 of
 * the original bytes, the write and the progress, fed slots of output by
 * the thread that reads and decompresses, so the two halves run on two
 * cores. */
#define NSLOT 4
#define SLOT (1u << 20)

struct stage {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf[NSLOT];
	size_t len[NSLOT];
	unsigned head, tail;		/* slots filled, slots consumed */
	int closed, failed;
	EVP_MD_CTX *h;
	int fd;
	const char *name;
	struct mc_bk_io *io;
	struct mc_err err;
};

static void *stage_run(void *arg)
{
	struct stage *st = arg;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		unsigned i;

		while (st->head == st->tail && !st->closed)
			pthread_cond_wait(&st->cv, &st->mu);
		if (st->head == st->tail)
			break;
		i = st->tail % NSLOT;
		pthread_mutex_unlock(&st->mu);
		EVP_DigestUpdate(st->h, st->buf[i], st->len[i]);
		if (st->fd >= 0 && write_all_fd(st->fd, st->name, st->buf[i],
						 st->len[i], &st->err) < 0) {
			pthread_mutex_lock(&st->mu);
			st->failed = 1;
			pthread_cond_broadcast(&st->cv);
			break;
		}
		io_progress(st->io, st->len[i]);
		pthread_mutex_lock(&st->mu);
		st->tail++;
		pthread_cond_broadcast(&st->cv);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

static void stage_start(struct stage *st, EVP_MD_CTX *h, int fd,
			const char *name, struct mc_bk_io *io)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	for (int i = 0; i < NSLOT; i++)
		st->buf[i] = mc_malloc(SLOT);
	st->h = h;
	st->fd = fd;
	st->name = name;
	st->io = io;
	if (pthread_create(&st->th, NULL, stage_run, st) != 0)
		MC_BUG("cannot start the writing thread");
}

/* The next free slot to fill; NULL once the writing side failed. */
static char *stage_slot(struct stage *st)
{
	char *p = NULL;

	pthread_mutex_lock(&st->mu);
	while (st->head - st->tail == NSLOT && !st->failed)
		pthread_cond_wait(&st->cv, &st->mu);
	if (!st->failed)
		p = st->buf[st->head % NSLOT];
	pthread_mutex_unlock(&st->mu);
	return p;
}

static void stage_put(struct stage *st, size_t len)
{
	pthread_mutex_lock(&st->mu);
	st->len[st->head % NSLOT] = len;
	st->head++;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

/* Waits for the writing side to finish what it was given; -1 with err
 * when it failed. */
static int stage_end(struct stage *st, struct mc_err *err)
{
	int failed;

	pthread_mutex_lock(&st->mu);
	st->closed = 1;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->th, NULL);
	failed = st->failed;
	if (failed)
		*err = st->err;
	for (int i = 0; i < NSLOT; i++)
		free(st->buf[i]);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	return failed ? -1 : 0;
}

/* Decompresses in_fd (hashing the stored bytes into hs) through the stage.
 * 0, or -1 with err: a read error, or corrupt or truncated data
 * (MC_EXIT_CRITICAL); -1 without err when the stage's write failed. */
static int unzstd(int in_fd, const char *in_name, EVP_MD_CTX *hs,
		  struct stage *st, struct mc_bk_io *io,
		  struct mc_bk_sums *sums, struct mc_err *err)
{
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	char *in = mc_malloc(CHUNK);
	ZSTD_inBuffer ib = { in, 0, 0 };
	ZSTD_outBuffer ob = { NULL, SLOT, 0 };
	size_t pending = 0;
	int rc = -1, frames = 0, eof = 0;

	if (dc == NULL)
		MC_BUG("cannot create a zstd decompression context");
	for (;;) {
		size_t before, ret;

		if (ib.pos == ib.size && !eof) {
			ssize_t r = read_chunk(io, in_fd, in_name, in, err);

			if (r < 0)
				goto out;
			ib.size = (size_t)r;
			ib.pos = 0;
			eof = r == 0;
			EVP_DigestUpdate(hs, in, ib.size);
			sums->stored += ib.size;
		}
		if (eof && pending == 0)
			break;
		if (ob.dst == NULL) {
			if ((ob.dst = stage_slot(st)) == NULL)
				goto out;	/* the write failed: stage_end */
			ob.pos = 0;
		}
		before = ob.pos;
		ret = ZSTD_decompressStream(dc, &ob, &ib);
		if (ZSTD_isError(ret)) {
			mc_err_set(err, MC_EXIT_CRITICAL,
				   "corrupt compressed data (%s)",
				   ZSTD_getErrorName(ret));
			goto out;
		}
		sums->size += ob.pos - before;
		if (ret == 0)
			frames++;
		pending = ret;
		if (eof && ob.pos == before && ob.pos < ob.size) {
			/* Nothing more comes out: a frame cut off. */
			mc_err_set(err, MC_EXIT_CRITICAL, "truncated (the "
				   "compressed data ends inside a frame)");
			goto out;
		}
		if (ob.pos == ob.size) {
			stage_put(st, ob.pos);
			ob.dst = NULL;
		}
	}
	if (frames == 0) {
		mc_err_set(err, MC_EXIT_CRITICAL, "truncated (no complete zstd "
			   "frame)");
		goto out;
	}
	rc = 0;
out:
	if (ob.dst && ob.pos)
		stage_put(st, ob.pos);
	ZSTD_freeDCtx(dc);
	free(in);
	return rc;
}

int mc_bk_load(int in_fd, const char *in_name, int out_fd,
	       const char *out_name, int zstd, struct mc_bk_io *io,
	       struct mc_bk_sums *sums, struct mc_err *err)
{
	EVP_MD_CTX *hs = sha_new(), *ho;
	struct stage st;
	char *in;
	int rc = -1;

	memset(sums, 0, sizeof(*sums));
	if (zstd) {
		struct mc_err e = { 0 };

		ho = sha_new();
		stage_start(&st, ho, out_fd, out_name, io);
		rc = unzstd(in_fd, in_name, hs, &st, io, sums, err);
		/* A failed write is why the decompression stopped. */
		if (stage_end(&st, &e) < 0) {
			*err = e;
			rc = -1;
		}
		sha_end(hs, sums->sha256);
		sha_end(ho, sums->sha256_original);
		return rc;
	}
	in = mc_malloc(CHUNK);
	for (;;) {
		ssize_t r = read_chunk(io, in_fd, in_name, in, err);

		if (r < 0)
			goto out;
		if (r == 0)
			break;
		EVP_DigestUpdate(hs, in, (size_t)r);
		sums->stored += (uint64_t)r;
		sums->size += (uint64_t)r;
		if (out_fd >= 0 &&
		    write_all_fd(out_fd, out_name, in, (size_t)r, err) < 0)
			goto out;
		io_progress(io, (size_t)r);
	}
	rc = 0;
out:
	sha_end(hs, sums->sha256);
	memcpy(sums->sha256_original, sums->sha256, 65);
	free(in);
	return rc;
}
