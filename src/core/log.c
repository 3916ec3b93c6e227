/* SPDX-License-Identifier: MIT */
/* Logging: off by default so that the library never prints unasked. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int log_level = -1;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_init(void)
{
	const char *e = getenv("UPCI_LOG");

	log_level = UPCI_LOG_NONE;
	if (!e)
		return;
	if (!strcmp(e, "debug") || !strcmp(e, "4"))
		log_level = UPCI_LOG_DEBUG;
	else if (!strcmp(e, "info") || !strcmp(e, "3"))
		log_level = UPCI_LOG_INFO;
	else if (!strcmp(e, "warn") || !strcmp(e, "2"))
		log_level = UPCI_LOG_WARN;
	else if (!strcmp(e, "error") || !strcmp(e, "1"))
		log_level = UPCI_LOG_ERROR;
}

int upci_log_enabled(enum upci_log_level level)
{
	pthread_once(&log_once, log_init);
	return level != UPCI_LOG_NONE && (int)level <= log_level;
}

void upci_log(enum upci_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"", "error", "warn", "info", "debug"};
	char buf[512];
	va_list ap;

	if (!upci_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One fprintf per line so that lines from threads do not interleave. */
	fprintf(stderr, "upci %s: %s\n", names[level], buf);
}
