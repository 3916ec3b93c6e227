/* SPDX-License-Identifier: MIT */
/*
 * SIGINT/SIGTERM as a readable fd (a self-pipe), for the commands that wait
 * in poll(): the handler only writes a byte, so there is no race between
 * checking a flag and going to sleep.
 */
#ifndef UPCI_TOOLS_STOP_SIGNAL_H
#define UPCI_TOOLS_STOP_SIGNAL_H

/* Install the handlers; @ignore_sigpipe also ignores SIGPIPE (a vanished
 * peer is then an error code, not a death). Returns the fd to poll, or a
 * negative errno. */
int stop_signal_open(int ignore_sigpipe);
/* The signal that arrived (SIGINT or SIGTERM), or 0. */
int stop_signal_caught(void);
void stop_signal_close(void);

#endif
