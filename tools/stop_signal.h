/* SPDX-License-Identifier: MIT */
/*
 * The signals a terminal or a service manager sends, for the commands that
 * wait in poll(). SIGINT, SIGTERM, SIGHUP and SIGQUIT stop: they arrive as
 * a readable fd (a self-pipe; the handler only writes a byte, so there is
 * no race between checking a flag and going to sleep). SIGUSR1 and SIGUSR2
 * write the status line, if one was set, to stderr; SIGALRM is ignored.
 * None of them kills the process with the default action, which would skip
 * its clean-up (a served socket left behind).
 */
#ifndef UPCI_TOOLS_STOP_SIGNAL_H
#define UPCI_TOOLS_STOP_SIGNAL_H

/* Install the handlers; @ignore_sigpipe also ignores SIGPIPE (a vanished
 * peer is then an error code, not a death). Returns the fd to poll, or a
 * negative errno. */
int stop_signal_open(int ignore_sigpipe);
/* The stop signal that arrived, or 0. */
int stop_signal_caught(void);
/* Its name ("SIGTERM"), or "no signal". */
const char *stop_signal_name(void);
/* The line SIGUSR1 and SIGUSR2 write to stderr (copied, cut to 255 bytes;
 * a newline is added). NULL: nothing. */
void stop_signal_set_status(const char *line);
void stop_signal_close(void);

#endif
