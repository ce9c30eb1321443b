/*
 * log.h - the CLI's logging: warnings always, debug lines when LUNATIC_LOG
 * (or RUST_LOG, for compatibility) mentions "debug" or "trace", e.g.
 * LUNATIC_LOG=debug or RUST_LOG=lunatic=debug. Lines go to stderr.
 */
#ifndef LUNATIC_LOG_H
#define LUNATIC_LOG_H

/* Reads the environment once; later calls are free. */
int log_debug_enabled(void);
/* "[debug] ..." on stderr when enabled. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "lunatic: ..." on stderr, always. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
