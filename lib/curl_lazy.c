/* curl_lazy.c - see curl_lazy.h. */
#include "curl_lazy.h"

#include <dlfcn.h>
#include <string.h>

const struct mc_curl_api *mc_curl;

/* The soname of Debian's libcurl4 (the OpenSSL flavour the headers come
 * from). */
#define MC_CURL_SONAME "libcurl.so.4"

const struct mc_curl_api *mc_curl_load(struct mc_err *err)
{
	static struct mc_curl_api api;
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
#define SYM(field, name) { name, offsetof(struct mc_curl_api, field) }
		SYM(global_init, "curl_global_init"),
		SYM(easy_init, "curl_easy_init"),
		SYM(easy_setopt, "curl_easy_setopt"),
		SYM(easy_getinfo, "curl_easy_getinfo"),
		SYM(easy_cleanup, "curl_easy_cleanup"),
		SYM(easy_strerror, "curl_easy_strerror"),
		SYM(multi_init, "curl_multi_init"),
		SYM(multi_add_handle, "curl_multi_add_handle"),
		SYM(multi_remove_handle, "curl_multi_remove_handle"),
		SYM(multi_perform, "curl_multi_perform"),
		SYM(multi_poll, "curl_multi_poll"),
		SYM(multi_info_read, "curl_multi_info_read"),
		SYM(multi_cleanup, "curl_multi_cleanup"),
		SYM(slist_append, "curl_slist_append"),
		SYM(slist_free_all, "curl_slist_free_all"),
		SYM(getdate, "curl_getdate"),
		SYM(version_info, "curl_version_info"),
#undef SYM
	};
	void *lib;

	if (mc_curl != NULL)
		return mc_curl;
	/* Kept loaded for the life of the process, as a linked one would be.
	 * RTLD_LAZY, as the dynamic linker binds a linked library: with
	 * RTLD_NOW every function libcurl's chain imports (thousands, most
	 * never called by an http:// request) was looked up before the
	 * first request, which cost a run with one HTTP check a fifth of its
	 * instructions (callgrind). A library linked with -z now (libcrypto,
	 * libssl) is still bound at once, as its build asks. */
	lib = dlopen(MC_CURL_SONAME, RTLD_LAZY | RTLD_LOCAL);
	if (lib == NULL) {
		mc_err_set(err, MC_EXIT_UNKNOWN, "cannot load %s: %s",
			   MC_CURL_SONAME, dlerror());
		return NULL;
	}
	for (size_t i = 0; i < MC_ARRAY_LEN(syms); i++) {
		void *f = dlsym(lib, syms[i].name);

		if (f == NULL) {
			mc_err_set(err, MC_EXIT_UNKNOWN, "%s lacks %s",
				   MC_CURL_SONAME, syms[i].name);
			return NULL;
		}
		/* POSIX guarantees object and function pointers convert. */
		memcpy((char *)&api + syms[i].offset, &f, sizeof(f));
	}
	mc_curl = &api;
	return mc_curl;
}
