/* SPDX-License-Identifier: MIT */
/* One logging function with levels; silent unless UPCI_LOG is set
 * (UPCI_LOG=error|warn|info|debug). Output goes to stderr. */
#ifndef UPCI_CORE_LOG_H
#define UPCI_CORE_LOG_H

enum upci_log_level {
	UPCI_LOG_NONE = 0,
	UPCI_LOG_ERROR = 1,
	UPCI_LOG_WARN = 2,
	UPCI_LOG_INFO = 3,
	UPCI_LOG_DEBUG = 4,
};

void upci_log(enum upci_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int upci_log_enabled(enum upci_log_level level);

#define LOG_ERR(...) upci_log(UPCI_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) upci_log(UPCI_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) upci_log(UPCI_LOG_INFO, __VA_ARGS__)
#define LOG_DBG(...) upci_log(UPCI_LOG_DEBUG, __VA_ARGS__)

#endif
