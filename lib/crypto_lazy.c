/*
 * crypto_lazy.c - OpenSSL's libcrypto, loaded on first use.
 *
 * libcrypto is linked with BIND_NOW: loading it resolves its 4000-odd
 * symbol relocations at start-up, about 0.8 ms of CPU for every process
 * (measured: an empty program linked against it against one without),
 * while most runs (health of local checks, job run, history, config)
 * never hash. So the binary does not link libcrypto: the few functions
 * lib/ and cmd/ call are defined here, with OpenSSL's own prototypes, and
 * each forwards to the function of that name in libcrypto, which the first
 * call dlopen()s. The callers read as ordinary OpenSSL code.
 *
 * These definitions are hidden: they serve this program's calls only, and
 * never stand in for libcrypto's own functions in a library loaded later
 * (libcurl's TLS).
 */
#include "mc.h"
#include "lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* The soname of Debian's libcrypto 3 (libssl3), whose headers these are. */
#define MC_CRYPTO_SONAME "libcrypto.so.3"

#define HIDDEN __attribute__((visibility("hidden")))

static struct {
	int (*digest)(const void *, size_t, unsigned char *, unsigned int *,
		      const EVP_MD *, ENGINE *);
	int (*digest_final_ex)(EVP_MD_CTX *, unsigned char *, unsigned int *);
	int (*digest_init_ex)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
	int (*digest_update)(EVP_MD_CTX *, const void *, size_t);
	int (*encode_block)(unsigned char *, const unsigned char *, int);
	void (*md_ctx_free)(EVP_MD_CTX *);
	EVP_MD_CTX *(*md_ctx_new)(void);
	const EVP_MD *(*sha1)(void);
	const EVP_MD *(*sha256)(void);
	void (*cleanse)(void *, size_t);
	const char *(*version)(int);
	int (*rand_bytes)(unsigned char *, int);
	unsigned char *(*sha256_oneshot)(const unsigned char *, size_t,
					 unsigned char *);
	int (*init_crypto)(uint64_t, const OPENSSL_INIT_SETTINGS *);
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* A program that cannot load libcrypto could not have started had it been
 * linked: it stops here, saying why, rather than hash with nothing. */
static void __attribute__((noreturn)) cannot(const char *what)
{
	fprintf(stderr, "mercuryctl: cannot load %s: %s\n", MC_CRYPTO_SONAME,
		what);
	_exit(MC_EXIT_UNKNOWN);
}

static void load(void)
{
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
#define SYM(field, name) { name, offsetof(__typeof__(api), field) }
		SYM(digest, "EVP_Digest"),
		SYM(digest_final_ex, "EVP_DigestFinal_ex"),
		SYM(digest_init_ex, "EVP_DigestInit_ex"),
		SYM(digest_update, "EVP_DigestUpdate"),
		SYM(encode_block, "EVP_EncodeBlock"),
		SYM(md_ctx_free, "EVP_MD_CTX_free"),
		SYM(md_ctx_new, "EVP_MD_CTX_new"),
		SYM(sha1, "EVP_sha1"),
		SYM(sha256, "EVP_sha256"),
		SYM(cleanse, "OPENSSL_cleanse"),
		SYM(version, "OpenSSL_version"),
		SYM(rand_bytes, "RAND_bytes"),
		SYM(sha256_oneshot, "SHA256"),
		SYM(init_crypto, "OPENSSL_init_crypto"),
#undef SYM
	};
	/* Kept loaded for the life of the process, as a linked one would be. */
	void *lib = dlopen(MC_CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL | MC_DLOPEN_DEEP);

	if (lib == NULL)
		cannot(dlerror());
	for (size_t i = 0; i < MC_ARRAY_LEN(syms); i++) {
		void *f = dlsym(lib, syms[i].name);

		if (f == NULL)
			cannot(syms[i].name);
		/* POSIX guarantees object and function pointers convert. */
		memcpy((char *)&api + syms[i].offset, &f, sizeof(f));
	}
}

#define API() (pthread_once(&load_once, load), &api)

HIDDEN int EVP_Digest(const void *data, size_t count, unsigned char *md,
		      unsigned int *size, const EVP_MD *type, ENGINE *impl)
{
	return API()->digest(data, count, md, size, type, impl);
}

HIDDEN int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md,
			      unsigned int *s)
{
	return API()->digest_final_ex(ctx, md, s);
}

HIDDEN int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type,
			     ENGINE *impl)
{
	return API()->digest_init_ex(ctx, type, impl);
}

HIDDEN int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt)
{
	return API()->digest_update(ctx, d, cnt);
}

HIDDEN int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n)
{
	return API()->encode_block(t, f, n);
}

HIDDEN void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
	API()->md_ctx_free(ctx);
}

HIDDEN EVP_MD_CTX *EVP_MD_CTX_new(void)
{
	return API()->md_ctx_new();
}

HIDDEN const EVP_MD *EVP_sha1(void)
{
	return API()->sha1();
}

HIDDEN const EVP_MD *EVP_sha256(void)
{
	return API()->sha256();
}

HIDDEN void OPENSSL_cleanse(void *ptr, size_t len)
{
	API()->cleanse(ptr, len);
}

HIDDEN const char *OpenSSL_version(int type)
{
	return API()->version(type);
}

HIDDEN int RAND_bytes(unsigned char *buf, int num)
{
	return API()->rand_bytes(buf, num);
}

HIDDEN unsigned char *SHA256(const unsigned char *d, size_t n,
			     unsigned char *md)
{
	return API()->sha256_oneshot(d, n, md);
}

HIDDEN int OPENSSL_init_crypto(uint64_t opts,
			       const OPENSSL_INIT_SETTINGS *settings)
{
	return API()->init_crypto(opts, settings);
}
