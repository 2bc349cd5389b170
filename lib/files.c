/*
 * files.c - directories and files: mkdir -p, atomic writes, bounded reads.
 */
#include "mc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mc_mkdir_p(const char *dir, unsigned mode, struct mc_err *err)
{
	char *path = mc_strdup(dir);
	int rc = 0;

	for (char *p = path + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST) {
			rc = mc_err_sys(err, MC_EXIT_IOERR, errno,
					"cannot create directory %s", path);
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(path);
	return rc;
}

int mc_dir_check_private(const char *dir, struct mc_err *err)
{
	struct stat sb;

	if (stat(dir, &sb) < 0)
		return mc_err_sys(err, MC_EXIT_IOERR, errno, "%s", dir);
	if (!S_ISDIR(sb.st_mode))
		return mc_err_set(err, MC_EXIT_IOERR, "%s: not a directory",
				  dir);
	if (sb.st_uid != geteuid())
		return mc_err_set(err, MC_EXIT_IOERR,
				  "%s: owned by uid %ld, not by this user (uid %ld): refused, another user could replace its files",
				  dir, (long)sb.st_uid, (long)geteuid());
	if (sb.st_mode & S_IWOTH)
		return mc_err_set(err, MC_EXIT_IOERR,
				  "%s: writable by every user (mode %04o): refused, anyone could plant links there (chmod o-w it)",
				  dir, (unsigned)(sb.st_mode & 07777));
	return 0;
}

/* Tries for a temporary name no one can foresee: a random suffix, created
 * with O_EXCL (a name someone planted is skipped, never opened). */
#define TMP_TRIES 16

int mc_write_atomic(const char *path, const void *data, size_t len,
		    unsigned mode, struct mc_err *err)
{
	char *tmp = NULL;
	char *dir = mc_strdup(path), *slash = strrchr(dir, '/');
	const char *p = data;
	int fd = -1, dfd, rc = -1, e = 0;

	for (int i = 0; i < TMP_TRIES && fd < 0; i++) {
		unsigned char r[8];
		char hex[17];

		mc_random_bytes(r, sizeof(r));
		mc_hex(r, sizeof(r), hex);
		free(tmp);
		tmp = mc_asprintf("%s.tmp.%s", path, hex);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			  O_CLOEXEC | O_NOCTTY, mode & 0777);
		e = errno;
		if (fd < 0 && e != EEXIST)
			break;
	}
	if (fd < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, e, "cannot create %s", tmp);
		goto out;
	}
	if (fchmod(fd, mode) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot chmod %s", tmp);
		close(fd);
		goto unlink;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot write %s",
				   tmp);
			close(fd);
			goto unlink;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot write %s", tmp);
		goto unlink;
	}
	/* rename() replaces a link planted at path; it never follows it. */
	if (rename(tmp, path) < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot rename %s to %s",
			   tmp, path);
		goto unlink;
	}
	if (slash)
		*slash = '\0';
	dfd = open(slash ? (*dir ? dir : "/") : ".",
		   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto out;
unlink:
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	return rc;
}

char *mc_read_file(const char *path, size_t max, size_t *len,
		   struct mc_err *err)
{
	struct mc_buf b = { 0 };
	char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot open %s", path);
		return NULL;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			mc_err_sys(err, MC_EXIT_IOERR, errno, "cannot read %s",
				   path);
			goto fail;
		}
		if (r == 0)
			break;
		if (b.len + (size_t)r > max) {
			mc_err_set(err, MC_EXIT_IOERR,
				   "%s is larger than %zu bytes", path, max);
			goto fail;
		}
		mc_buf_add(&b, chunk, (size_t)r);
	}
	close(fd);
	if (len)
		*len = b.len;
	return mc_buf_steal(&b);
fail:
	close(fd);
	if (b.data)
		explicit_bzero(b.data, b.len);
	mc_buf_release(&b);
	return NULL;
}

/* "/a/./b//c/" -> "/a/b/c", in place (".." is left to the caller). */
static void drop_dot_components(char *p)
{
	char *w = p;

	for (const char *r = p; *r;) {
		if (r[0] == '/' && (r[1] == '/' || r[1] == '\0' ||
				    (r[1] == '.' && (r[2] == '/' || r[2] == '\0')))) {
			r += r[1] == '.' ? 2 : 1;
			continue;
		}
		*w++ = *r++;
	}
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

char *mc_path_absolute(const char *path)
{
	char *real = realpath(path, NULL), *copy, *slash, *parent, *out;
	const char *base;

	if (real != NULL || errno != ENOENT)
		return real;
	copy = mc_strdup(path);
	while ((slash = strrchr(copy, '/')) != NULL && slash[1] == '\0' &&
	       slash != copy)
		*slash = '\0';			/* "bk/" is "bk" */
	slash = strrchr(copy, '/');
	base = slash ? slash + 1 : copy;
	if (slash == copy)
		parent = realpath("/", NULL);
	else {
		if (slash)
			*slash = '\0';
		parent = realpath(slash ? copy : ".", NULL);
	}
	if (parent == NULL && errno == ENOENT && path[0] != '/' &&
	    strstr(path, "..") == NULL) {
		/* A relative path whose parents are yet to be made. */
		char *cwd = getcwd(NULL, 0);

		free(copy);
		if (cwd == NULL)
			return NULL;
		out = mc_asprintf("%s/%s", cwd, path);
		free(cwd);
		drop_dot_components(out);
		return out;
	}
	if (parent == NULL || !*base || !strcmp(base, ".") ||
	    !strcmp(base, "..")) {
		int e = parent ? EINVAL : errno;

		free(parent);
		free(copy);
		errno = e;
		return NULL;
	}
	out = mc_asprintf("%s%s%s", parent, strcmp(parent, "/") ? "/" : "",
			  base);
	free(parent);
	free(copy);
	return out;
}
