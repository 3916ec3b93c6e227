/* SPDX-License-Identifier: MIT */
/*
 * The signals a terminal or a service manager sends, for code that waits
 * in poll(): `upci serve`, `upci irq` and upci_server_start(). SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT stop: they arrive as a readable fd (a
 * self-pipe, or the caller's; the handler only writes a byte, so there is
 * no race between checking a flag and going to sleep). SIGUSR1 and
 * SIGUSR2 write the status line, if one was set, to its fd; SIGALRM is
 * ignored. None of them kills the process with the default action, which
 * would skip its clean-up (a served socket left behind). The dispositions
 * found at open are restored at close: a library user gets its own back.
 * One owner at a time (process-wide state).
 */
#ifndef UPCI_STOP_SIGNAL_H
#define UPCI_STOP_SIGNAL_H

/* Install the handlers; @ignore_sigpipe also ignores SIGPIPE (a vanished
 * peer is then an error code, not a death). Returns the fd to poll, or a
 * negative errno (-EBUSY while another owner has them). */
int stop_signal_open(int ignore_sigpipe);
/* The same, but a stop writes a byte to @wfd (non-blocking, the caller's)
 * instead of a pipe of our own. 0 or a negative errno. */
int stop_signal_open_fd(int wfd, int ignore_sigpipe);
/* The stop signal that arrived since open, or 0. */
int stop_signal_caught(void);
/* Its name ("SIGTERM"), or "no signal". */
const char *stop_signal_name(void);
/* The text SIGUSR1 and SIGUSR2 write to @fd (copied, cut to 4 KiB; a
 * newline is added). NULL: nothing. */
void stop_signal_set_status_fd(int fd, const char *text);
/* The same to stderr. */
void stop_signal_set_status(const char *line);
/* Restore the dispositions found at open; close our pipe. */
void stop_signal_close(void);

#endif
