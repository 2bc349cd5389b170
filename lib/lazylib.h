/*
 * lazylib.h - libraries loaded on first use: hiredis, c-ares and libzstd
 * (libcurl has its own table, lib/curl_lazy.h).
 *
 * Only the Redis, tcp and backup paths call them, yet linked they were
 * mapped and relocated at every start, and each library the program links
 * is one more the dynamic linker searches for every symbol of a library
 * loaded later: with these three linked, a run with one HTTP check spent
 * about 0.8M more instructions loading libcurl's chain (callgrind). The
 * names below map their calls of lib/ onto the loaded functions, so the
 * callers read as ordinary code; the first call loads the library. One
 * that cannot be loaded ends the process with exit status 127, as the
 * dynamic linker does for a missing linked library; mc_lazy_ready() lets
 * an entry point report it as an error first.
 */
#ifndef MC_LAZYLIB_H
#define MC_LAZYLIB_H

#include <dlfcn.h>
#include <stddef.h>

#include <ares.h>
#include <hiredis/hiredis.h>
#include <zstd.h>

#include "mc.h"

/*
 * The flag every lazy dlopen() adds: RTLD_DEEPBIND, so a loaded library
 * and its chain look up their symbols in their own chain first and the
 * program's libraries (SQLite, jansson, inih, libm, libc) after. Searched
 * first, those were four more misses for each of the chain's relocations:
 * loading libcurl's chain took 17.2M instructions with them linked and
 * 14.4M with this flag (callgrind, a dlopen and curl_global_init). The
 * chain shares no allocation with the program (what libcurl, hiredis,
 * c-ares or libzstd allocate, they free), which is what this binding
 * changes when an allocator is interposed. The sanitizers' run-time
 * refuses the flag: their builds bind the default way.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MC_DLOPEN_DEEP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define MC_DLOPEN_DEEP 0
#endif
#endif
#ifndef MC_DLOPEN_DEEP
#define MC_DLOPEN_DEEP RTLD_DEEPBIND
#endif

/* One function to look up: its name and where its pointer goes. */
struct mc_lazy_sym {
	const char *name;
	size_t offset;
};

/* dlopen()s soname and fills table from syms[0..n); -1 with err
 * (MC_EXIT_UNKNOWN) when it or a function is missing. */
int mc_lazy_load(const char *soname, const struct mc_lazy_sym *syms,
		 size_t n, void *table, struct mc_err *err);

enum mc_lazy_lib { MC_LAZY_HIREDIS, MC_LAZY_ARES, MC_LAZY_ZSTD };

/* Loads lib (once; any thread); -1 with err when it cannot be. */
int mc_lazy_ready(enum mc_lazy_lib lib, struct mc_err *err);

struct mc_hiredis_api {
	void (*freeReplyObject)(void *reply);
	int (*redisAppendCommandArgv)(redisContext *c, int argc,
				      const char **argv,
				      const size_t *argvlen);
	int (*redisvAppendCommand)(redisContext *c, const char *format,
				   va_list ap);
	int (*redisAppendCommand)(redisContext *c, const char *format, ...);
	int (*redisBufferWrite)(redisContext *c, int *done);
	redisContext *(*redisConnectFd)(int fd);
	void (*redisFree)(redisContext *c);
	int (*redisGetReplyFromReader)(redisContext *c, void **reply);
	int (*redisReaderFeed)(redisReader *r, const char *buf, size_t len);
};

struct mc_ares_api {
	int (*ares_library_init)(int flags);
	int (*ares_init)(ares_channel *channel);
	void (*ares_getaddrinfo)(ares_channel channel, const char *node,
				 const char *service,
				 const struct ares_addrinfo_hints *hints,
				 ares_addrinfo_callback callback, void *arg);
	void (*ares_freeaddrinfo)(struct ares_addrinfo *ai);
	int (*ares_getsock)(ares_channel channel, ares_socket_t *socks,
			    int numsocks);
	void (*ares_process_fd)(ares_channel channel, ares_socket_t read_fd,
				ares_socket_t write_fd);
	struct timeval *(*ares_timeout)(ares_channel channel,
					struct timeval *maxtv,
					struct timeval *tv);
	void (*ares_cancel)(ares_channel channel);
	void (*ares_destroy)(ares_channel channel);
	const char *(*ares_strerror)(int code);
	const char *(*ares_version)(int *version);
};

struct mc_zstd_api {
	size_t (*ZSTD_CCtx_setParameter)(ZSTD_CCtx *cctx, ZSTD_cParameter p,
					 int value);
	size_t (*ZSTD_CStreamOutSize)(void);
	size_t (*ZSTD_DStreamOutSize)(void);
	size_t (*ZSTD_compressStream2)(ZSTD_CCtx *cctx, ZSTD_outBuffer *out,
				       ZSTD_inBuffer *in,
				       ZSTD_EndDirective end);
	ZSTD_CCtx *(*ZSTD_createCCtx)(void);
	ZSTD_DCtx *(*ZSTD_createDCtx)(void);
	size_t (*ZSTD_decompressStream)(ZSTD_DStream *zds, ZSTD_outBuffer *out,
					ZSTD_inBuffer *in);
	size_t (*ZSTD_freeCCtx)(ZSTD_CCtx *cctx);
	size_t (*ZSTD_freeDCtx)(ZSTD_DCtx *dctx);
	const char *(*ZSTD_getErrorName)(size_t code);
	unsigned (*ZSTD_isError)(size_t code);
	const char *(*ZSTD_versionString)(void);
};

/* The tables, loaded by the first call (exit 127 when that fails). */
const struct mc_hiredis_api *mc_hiredis(void);
const struct mc_ares_api *mc_ares(void);
const struct mc_zstd_api *mc_zstd(void);

#ifndef MC_LAZYLIB_TABLES	/* lazylib.c names the functions itself */

#define freeReplyObject		(mc_hiredis()->freeReplyObject)
#define redisAppendCommandArgv	(mc_hiredis()->redisAppendCommandArgv)
#define redisvAppendCommand	(mc_hiredis()->redisvAppendCommand)
#define redisAppendCommand	(mc_hiredis()->redisAppendCommand)
#define redisBufferWrite	(mc_hiredis()->redisBufferWrite)
#define redisConnectFd		(mc_hiredis()->redisConnectFd)
#define redisFree		(mc_hiredis()->redisFree)
#define redisGetReplyFromReader	(mc_hiredis()->redisGetReplyFromReader)
#define redisReaderFeed		(mc_hiredis()->redisReaderFeed)

#define ares_library_init	(mc_ares()->ares_library_init)
#define ares_init		(mc_ares()->ares_init)
#define ares_getaddrinfo	(mc_ares()->ares_getaddrinfo)
#define ares_freeaddrinfo	(mc_ares()->ares_freeaddrinfo)
#define ares_getsock		(mc_ares()->ares_getsock)
#define ares_process_fd		(mc_ares()->ares_process_fd)
#define ares_timeout		(mc_ares()->ares_timeout)
#define ares_cancel		(mc_ares()->ares_cancel)
#define ares_version		(mc_ares()->ares_version)
#define ares_destroy		(mc_ares()->ares_destroy)
#define ares_strerror		(mc_ares()->ares_strerror)

#define ZSTD_CCtx_setParameter	(mc_zstd()->ZSTD_CCtx_setParameter)
#define ZSTD_CStreamOutSize	(mc_zstd()->ZSTD_CStreamOutSize)
#define ZSTD_DStreamOutSize	(mc_zstd()->ZSTD_DStreamOutSize)
#define ZSTD_compressStream2	(mc_zstd()->ZSTD_compressStream2)
#define ZSTD_createCCtx		(mc_zstd()->ZSTD_createCCtx)
#define ZSTD_createDCtx		(mc_zstd()->ZSTD_createDCtx)
#define ZSTD_decompressStream	(mc_zstd()->ZSTD_decompressStream)
#define ZSTD_freeCCtx		(mc_zstd()->ZSTD_freeCCtx)
#define ZSTD_freeDCtx		(mc_zstd()->ZSTD_freeDCtx)
#define ZSTD_getErrorName	(mc_zstd()->ZSTD_getErrorName)
#define ZSTD_isError		(mc_zstd()->ZSTD_isError)
#define ZSTD_versionString	(mc_zstd()->ZSTD_versionString)
#endif

#endif
