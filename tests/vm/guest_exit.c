/*
 * guest_exit RC: end a QEMU guest with a status the host can read.
 *
 * Writes RC to QEMU's isa-debug-exit device (-device
 * isa-debug-exit,iobase=0xf4,iosize=0x04), which makes QEMU exit at once with
 * status (RC << 1) | 1. RC must be 0..127 so that the status fits in 8 bits.
 * Build it static (gcc -static -O2 -o guest_exit guest_exit.c); x86 only.
 * It first waits for the console to drain (tcdrain), so that what the guest
 * printed last reaches the serial log before QEMU exits.
 * Returns 1 if it is still running afterwards (no such device).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/io.h>
#include <termios.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	char *end;
	long rc;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: guest_exit RC (0..127)\n");
		return 2;
	}
	rc = strtol(argv[1], &end, 0);
	if (*argv[1] == '\0' || *end != '\0' || rc < 0 || rc > 127) {
		fprintf(stderr, "guest_exit: RC must be 0..127, not '%s'\n", argv[1]);
		return 2;
	}
	fflush(NULL);
	tcdrain(STDOUT_FILENO);
	tcdrain(STDERR_FILENO);
	fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	if (fd >= 0) {
		tcdrain(fd);
		close(fd);
	}
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) < 0) {
		fprintf(stderr, "guest_exit: ioperm(0x%x): %s\n", DEBUG_EXIT_PORT, strerror(errno));
		return 1;
	}
	outb((unsigned char)rc, DEBUG_EXIT_PORT);
	fprintf(stderr, "guest_exit: still running: no isa-debug-exit at 0x%x?\n", DEBUG_EXIT_PORT);
	return 1;
}
