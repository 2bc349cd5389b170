/* lazylib.c - see lazylib.h. */
#define MC_LAZYLIB_TABLES
#include "lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The libraries' sonames, as the build found them (Makefile). */
#ifndef MC_HIREDIS_SONAME
#define MC_HIREDIS_SONAME "libhiredis.so.0.14"
#endif
#ifndef MC_ARES_SONAME
#define MC_ARES_SONAME "libcares.so.2"
#endif
#ifndef MC_ZSTD_SONAME
#define MC_ZSTD_SONAME "libzstd.so.1"
#endif

int mc_lazy_load(const char *soname, const struct mc_lazy_sym *syms,
		 size_t n, void *table, struct mc_err *err)
{
	/* Kept loaded for the life of the process, as a linked one would
	 * be. RTLD_LAZY, as the dynamic linker binds a linked library: with
	 * RTLD_NOW every function libcurl's chain imports (thousands, most
	 * never called by an http:// request) was looked up before the
	 * first request, a fifth of a run with one HTTP check (callgrind).
	 * A library linked with -z now (libcrypto, libssl) is still bound
	 * at once, as its build asks. */
	void *lib = dlopen(soname, RTLD_LAZY | RTLD_LOCAL | MC_DLOPEN_DEEP);

	if (lib == NULL)
		return mc_err_set(err, MC_EXIT_UNKNOWN, "cannot load %s: %s",
				  soname, dlerror());
	for (size_t i = 0; i < n; i++) {
		void *f = dlsym(lib, syms[i].name);

		if (f == NULL)
			return mc_err_set(err, MC_EXIT_UNKNOWN, "%s lacks %s",
					  soname, syms[i].name);
		/* POSIX guarantees object and function pointers convert. */
		memcpy((char *)table + syms[i].offset, &f, sizeof(f));
	}
	return 0;
}

#define SYM(api, name) { #name, offsetof(struct api, name) }

static struct mc_hiredis_api hiredis_api;
static const struct mc_lazy_sym hiredis_syms[] = {
	SYM(mc_hiredis_api, freeReplyObject),
	SYM(mc_hiredis_api, redisAppendCommandArgv),
	SYM(mc_hiredis_api, redisvAppendCommand),
	SYM(mc_hiredis_api, redisAppendCommand),
	SYM(mc_hiredis_api, redisBufferWrite),
	SYM(mc_hiredis_api, redisConnectFd),
	SYM(mc_hiredis_api, redisFree),
	SYM(mc_hiredis_api, redisGetReplyFromReader),
	SYM(mc_hiredis_api, redisReaderFeed),
};

static struct mc_ares_api ares_api;
static const struct mc_lazy_sym ares_syms[] = {
	SYM(mc_ares_api, ares_library_init),
	SYM(mc_ares_api, ares_init),
	SYM(mc_ares_api, ares_getaddrinfo),
	SYM(mc_ares_api, ares_freeaddrinfo),
	SYM(mc_ares_api, ares_getsock),
	SYM(mc_ares_api, ares_process_fd),
	SYM(mc_ares_api, ares_timeout),
	SYM(mc_ares_api, ares_cancel),
	SYM(mc_ares_api, ares_destroy),
	SYM(mc_ares_api, ares_strerror),
	SYM(mc_ares_api, ares_version),
};

static struct mc_zstd_api zstd_api;
static const struct mc_lazy_sym zstd_syms[] = {
	SYM(mc_zstd_api, ZSTD_CCtx_setParameter),
	SYM(mc_zstd_api, ZSTD_CStreamOutSize),
	SYM(mc_zstd_api, ZSTD_DStreamOutSize),
	SYM(mc_zstd_api, ZSTD_compressStream2),
	SYM(mc_zstd_api, ZSTD_createCCtx),
	SYM(mc_zstd_api, ZSTD_createDCtx),
	SYM(mc_zstd_api, ZSTD_decompressStream),
	SYM(mc_zstd_api, ZSTD_freeCCtx),
	SYM(mc_zstd_api, ZSTD_freeDCtx),
	SYM(mc_zstd_api, ZSTD_getErrorName),
	SYM(mc_zstd_api, ZSTD_isError),
	SYM(mc_zstd_api, ZSTD_versionString),
};

#undef SYM

/* One library's loading, done once whichever thread asks first. */
static struct lazy {
	const char *soname;
	const struct mc_lazy_sym *syms;
	size_t n;
	void *table;
	pthread_once_t once;
	int rc;
	struct mc_err err;
} libs[] = {
	[MC_LAZY_HIREDIS] = { MC_HIREDIS_SONAME, hiredis_syms,
			      MC_ARRAY_LEN(hiredis_syms), &hiredis_api,
			      PTHREAD_ONCE_INIT, 0, { 0 } },
	[MC_LAZY_ARES] = { MC_ARES_SONAME, ares_syms, MC_ARRAY_LEN(ares_syms),
			   &ares_api, PTHREAD_ONCE_INIT, 0, { 0 } },
	[MC_LAZY_ZSTD] = { MC_ZSTD_SONAME, zstd_syms, MC_ARRAY_LEN(zstd_syms),
			   &zstd_api, PTHREAD_ONCE_INIT, 0, { 0 } },
};

static void load_hiredis(void)
{
	struct lazy *l = &libs[MC_LAZY_HIREDIS];

	l->rc = mc_lazy_load(l->soname, l->syms, l->n, l->table, &l->err);
}

static void load_ares(void)
{
	struct lazy *l = &libs[MC_LAZY_ARES];

	l->rc = mc_lazy_load(l->soname, l->syms, l->n, l->table, &l->err);
}

static void load_zstd(void)
{
	struct lazy *l = &libs[MC_LAZY_ZSTD];

	l->rc = mc_lazy_load(l->soname, l->syms, l->n, l->table, &l->err);
}

static void (*const loaders[])(void) = {
	[MC_LAZY_HIREDIS] = load_hiredis,
	[MC_LAZY_ARES] = load_ares,
	[MC_LAZY_ZSTD] = load_zstd,
};

int mc_lazy_ready(enum mc_lazy_lib lib, struct mc_err *err)
{
	struct lazy *l = &libs[lib];

	pthread_once(&l->once, loaders[lib]);
	if (l->rc == 0)
		return 0;
	if (err != NULL)
		*err = l->err;
	return -1;
}

/* The table of lib; a library that cannot be loaded ends the process as
 * a missing linked one would. */
static const void *table_of(enum mc_lazy_lib lib)
{
	struct mc_err err = { 0 };

	if (mc_lazy_ready(lib, &err) < 0) {
		fprintf(stderr, "mercuryctl: %s\n", err.msg);
		_exit(127);
	}
	return libs[lib].table;
}

const struct mc_hiredis_api *mc_hiredis(void)
{
	return table_of(MC_LAZY_HIREDIS);
}

const struct mc_ares_api *mc_ares(void)
{
	return table_of(MC_LAZY_ARES);
}

const struct mc_zstd_api *mc_zstd(void)
{
	return table_of(MC_LAZY_ZSTD);
}
