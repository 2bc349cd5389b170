/*
 * log.h - diagnostics on stderr (text or JSON lines) and redaction.
 *
 * Every string that leaves the process through a log line, an error message,
 * an output document or the state file's run log passes through mc_redact():
 * registered secrets are replaced by "***" and URLs lose their credentials
 * and, where the path is the secret (webhooks), their path.
 */
#ifndef MC_LOG_H
#define MC_LOG_H

#include <stdarg.h>

enum mc_log_level {
	MC_LOG_ERROR = 0,
	MC_LOG_WARN = 1,
	MC_LOG_INFO = 2,
	MC_LOG_DEBUG = 3,
};

/* json: 1 for JSON lines. command and correlation_id are copied. */
void mc_log_setup(int level, int json, const char *command,
		  const char *correlation_id);
int mc_log_level_parse(const char *s);		/* -1 when unknown */
void mc_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A log line with extra fields: pairs of key, value ending in NULL. In
 * JSON logs a value that is a JSON number is written as a number
 * ("exit_code":0, "duration_ms":12.5), any other as a string. */
void mc_logkv(int level, const char *msg, ...);
/* Frees the registered secrets (wiped) and the setup strings. */
void mc_log_shutdown(void);

/* Registers a secret (copied) to be masked wherever it appears. Secrets
 * shorter than 4 bytes are ignored: masking them would mangle text. */
void mc_redact_add(const char *secret);
/* Registers the password in a URL's user info (scheme://user:PASSWORD@host),
 * taking the last '@' before any '?' or '#', so a password holding '@',
 * '/' or a space is registered whole. Nothing when the URL has none. */
void mc_redact_add_url(const char *url);
/* A copy of s with every registered secret and every URL credential
 * (user:password@, ?token=..., password=...) masked, and then escaped with
 * mc_escape() (control characters and invalid UTF-8 as \xNN): what it
 * returns is one line, safe for a terminal, a log or the state file.
 * Caller frees. */
char *mc_redact(const char *s);
/* scheme://[user:***@]host[:port]/... with the password masked and, when hide_path, the
 * path and query replaced by a slash and three stars. Caller frees. */
char *mc_redact_url(const char *url, int hide_path);

#endif
