/*
 * backup_stream.c - the one streaming pass every backup file goes through:
 * read a chunk, hash it, compress it (libzstd, multi-threaded), hash what
 * comes out, write it. Memory stays bounded whatever the file's size, and
 * nothing is read twice. The reverse pass (verify, restore) hashes the
 * stored bytes, decompresses and hashes the original; its split form
 * (mc_bk_unpack, verify's database copies) decompresses on one thread and
 * writes on another, leaving both hashes to the caller.
 */
#include "backup.h"
#include "backup_int.h"
#include "lazylib.h"	/* libzstd, loaded on first use */

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
				       io && io->level ? io->level :
				       MC_BK_ZSTD_LEVEL);
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

/* ---- the writing thread of the split pass -------------------------------- */

void mc_bk_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;

	/* Signals stay with the main thread, which checks mc_interrupted. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(t, NULL, fn, arg) != 0)
		MC_BUG("cannot start a thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Slots the decompressing thread fills and the writing thread empties, in
 * order: [tail, head) are full. A bounded number, so memory stays bounded. */
#define SLOTS 4

struct wthread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf[SLOTS];
	size_t len[SLOTS], cap;
	unsigned head, tail;
	int end, failed;
	int fd;
	const char *name;
	struct mc_err err;
};

static void *wthread_main(void *arg)
{
	struct wthread *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		unsigned i;
		int rc;

		while (w->head == w->tail && !w->end)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->head == w->tail)
			break;
		i = w->tail % SLOTS;
		pthread_mutex_unlock(&w->mu);
		rc = write_all_fd(w->fd, w->name, w->buf[i], w->len[i], &w->err);
		pthread_mutex_lock(&w->mu);
		if (rc < 0) {
			w->failed = 1;
			pthread_cond_broadcast(&w->cv);
			break;
		}
		w->tail++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static struct wthread *wthread_start(int fd, const char *name, size_t cap)
{
	struct wthread *w = mc_calloc(1, sizeof(*w));

	for (int i = 0; i < SLOTS; i++)
		w->buf[i] = mc_malloc(cap);
	w->cap = cap;
	w->fd = fd;
	w->name = name;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	mc_bk_thread_start(&w->th, wthread_main, w);
	return w;
}

/* The slot to fill next, once the writer has emptied it; NULL when the
 * writer failed. */
static char *wthread_slot(struct wthread *w)
{
	char *b = NULL;

	pthread_mutex_lock(&w->mu);
	while (!w->failed && w->head - w->tail == SLOTS)
		pthread_cond_wait(&w->cv, &w->mu);
	if (!w->failed)
		b = w->buf[w->head % SLOTS];
	pthread_mutex_unlock(&w->mu);
	return b;
}

/* Hands the slot wthread_slot gave, n bytes of it, to the writer. */
static void wthread_push(struct wthread *w, size_t n)
{
	pthread_mutex_lock(&w->mu);
	w->len[w->head % SLOTS] = n;
	w->head++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Waits for the writes handed over and stops the thread; -1 with the
 * writer's error when one failed (err untouched when keep_err: the pass
 * already failed for its own reason). */
static int wthread_end(struct wthread *w, int keep_err, struct mc_err *err)
{
	int rc;

	pthread_mutex_lock(&w->mu);
	w->end = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	rc = w->failed ? -1 : 0;
	if (rc < 0 && !keep_err)
		*err = w->err;
	for (int i = 0; i < SLOTS; i++)
		free(w->buf[i]);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return rc;
}

/* ---- the reverse pass ---------------------------------------------------- */

/* Where the original bytes of the reverse pass go: hashed (ho, unless
 * NULL) and written to fd (unless -1) on this thread, or handed to the
 * writing thread wt in its slots. buf is what the decompressor fills.
 * no_hs: the stored bytes are not hashed either (sums->sha256 empty). */
struct load_out {
	int no_hs;
	EVP_MD_CTX *ho;
	int fd;
	const char *name;
	struct wthread *wt;
	char *buf;
	size_t cap;
};

/* The n bytes at the start of o->buf, passed on. */
static int out_put(struct load_out *o, size_t n, struct mc_err *err)
{
	if (o->ho)
		EVP_DigestUpdate(o->ho, o->buf, n);
	if (o->wt) {
		if (n == 0)
			return 0;
		wthread_push(o->wt, n);
		if ((o->buf = wthread_slot(o->wt)) == NULL)
			return -1;	/* the writer's error, at the end */
		return 0;
	}
	if (o->fd >= 0)
		return write_all_fd(o->fd, o->name, o->buf, n, err);
	return 0;
}

static int load(int in_fd, const char *in_name, struct load_out *o, int zstd,
		struct mc_bk_io *io, struct mc_bk_sums *sums,
		struct mc_err *err)
{
	EVP_MD_CTX *hs = o->no_hs ? NULL : sha_new();
	ZSTD_DCtx *dc = NULL;
	char *in = mc_malloc(CHUNK), *own = NULL;
	size_t pending = 0;
	int rc = -1, frames = 0;

	memset(sums, 0, sizeof(*sums));
	if (zstd) {
		dc = ZSTD_createDCtx();
		if (dc == NULL)
			MC_BUG("cannot create a zstd decompression context");
		if (o->wt) {
			o->buf = wthread_slot(o->wt);
		} else {
			o->cap = ZSTD_DStreamOutSize() * 8;
			o->buf = own = mc_malloc(o->cap);
		}
	}
	for (;;) {
		ssize_t r = read_chunk(io, in_fd, in_name, in, err);

		if (r < 0)
			goto out;
		if (r == 0)
			break;
		if (hs)
			EVP_DigestUpdate(hs, in, (size_t)r);
		sums->stored += (uint64_t)r;
		if (!zstd) {
			sums->size += (uint64_t)r;
			if (o->fd >= 0 && write_all_fd(o->fd, o->name, in,
							(size_t)r, err) < 0)
				goto out;
			io_progress(io, (size_t)r);
			continue;
		}
		{
			ZSTD_inBuffer ib = { in, (size_t)r, 0 };
			size_t before = sums->size;

			while (ib.pos < ib.size) {
				ZSTD_outBuffer ob = { o->buf, o->cap, 0 };
				size_t ret;

				if (o->buf == NULL)
					goto out;	/* the writer failed */
				ret = ZSTD_decompressStream(dc, &ob, &ib);
				if (ZSTD_isError(ret)) {
					mc_err_set(err, MC_EXIT_CRITICAL,
						   "corrupt compressed data (%s)",
						   ZSTD_getErrorName(ret));
					goto out;
				}
				sums->size += ob.pos;
				if (out_put(o, ob.pos, err) < 0)
					goto out;
				pending = ret;
				if (ret == 0)
					frames++;
			}
			io_progress(io, sums->size - before);
		}
	}
	if (zstd) {
		/* Output still held inside the decoder, or a frame cut off. */
		for (;;) {
			ZSTD_inBuffer ib = { in, 0, 0 };
			ZSTD_outBuffer ob = { o->buf, o->cap, 0 };
			size_t ret;

			if (pending == 0)
				break;
			if (o->buf == NULL)
				goto out;
			ret = ZSTD_decompressStream(dc, &ob, &ib);
			if (ZSTD_isError(ret) || ob.pos == 0) {
				mc_err_set(err, MC_EXIT_CRITICAL,
					   "truncated (the compressed data ends "
					   "inside a frame)");
				goto out;
			}
			sums->size += ob.pos;
			if (out_put(o, ob.pos, err) < 0)
				goto out;
			pending = ret;
		}
		if (frames == 0) {
			mc_err_set(err, MC_EXIT_CRITICAL, "truncated (no "
				   "complete zstd frame)");
			goto out;
		}
	}
	rc = 0;
out:
	if (hs)
		sha_end(hs, sums->sha256);
	ZSTD_freeDCtx(dc);
	free(in);
	free(own);
	return rc;
}

int mc_bk_load(int in_fd, const char *in_name, int out_fd,
	       const char *out_name, int zstd, struct mc_bk_io *io,
	       struct mc_bk_sums *sums, struct mc_err *err)
{
	struct load_out o = { .ho = zstd ? sha_new() : NULL, .fd = out_fd,
			      .name = out_name };
	int rc = load(in_fd, in_name, &o, zstd, io, sums, err);

	if (o.ho)
		sha_end(o.ho, sums->sha256_original);
	else
		memcpy(sums->sha256_original, sums->sha256, 65);
	return rc;
}

int mc_bk_unpack(int in_fd, const char *in_name, int out_fd,
		 const char *out_name, struct mc_bk_io *io,
		 struct mc_bk_sums *sums, struct mc_err *err)
{
	size_t cap = ZSTD_DStreamOutSize() * 8;
	struct load_out o = { .no_hs = 1, .fd = -1, .name = out_name,
			      .cap = cap };
	int rc;

	o.wt = wthread_start(out_fd, out_name, cap);
	rc = load(in_fd, in_name, &o, 1, io, sums, err);
	/* o.buf NULL: the pass stopped because the writer failed. */
	if (wthread_end(o.wt, rc < 0 && o.buf != NULL, err) < 0)
		rc = -1;
	return rc;
}
