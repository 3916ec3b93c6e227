/* SPDX-License-Identifier: MIT */
/*
 * A test double for the README example (hello.c): upci_claim() fails as it
 * does when another user holds the device, and every handle the example
 * opened must be closed by the time it exits (exit status 3 otherwise).
 * Linked into the example's executable in front of the shared libupci, so
 * the example's calls come here; upci_open/upci_close forward to the
 * library's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <upci/upci.h>

static int open_handles;

int upci_open(upci_dev **out, const char *uri)
{
	int (*real)(upci_dev **, const char *) = (int (*)(upci_dev **, const char *))dlsym(RTLD_NEXT, "upci_open");
	int rc = real ? real(out, uri) : -ENOSYS;

	if (rc == 0)
		open_handles++;
	return rc;
}

void upci_close(upci_dev *dev)
{
	void (*real)(upci_dev *) = (void (*)(upci_dev *))dlsym(RTLD_NEXT, "upci_close");

	if (dev)
		open_handles--;
	if (real)
		real(dev);
}

int upci_claim(upci_dev *dev)
{
	(void)dev;
	return -EBUSY;
}

__attribute__((destructor)) static void all_closed(void)
{
	if (open_handles != 0) {
		fprintf(stderr, "claim_fails: %d handle(s) never closed\n", open_handles);
		_exit(3);
	}
}
