/* The README's second example: list devices, route a vector to an eventfd,
 * write through a mapped BAR (Linux: eventfd). */
#include <poll.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <upci/upci.h>

int main(void)
{
	struct upci_found *list;
	upci_dev *dev = NULL;
	uint64_t fired = 0, got = 0;
	size_t n;
	void *bar2;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (upci_enumerate(NULL, &list, &n) < 0)         /* sim models, vfio functions, ... */
		return 1;
	for (size_t i = 0; i < n; i++)                    /* nothing is opened to list them */
		printf("%-22s %04x:%04x  %s\n", list[i].uri, list[i].id.vendor_id, list[i].id.device_id,
		       list[i].flags & UPCI_FOUND_READY ? "ready" : list[i].why);
	upci_enumerate_free(list);

	if (efd < 0 || upci_open(&dev, "sim:testdev") < 0 || upci_claim(dev) < 0)
		goto out;
	upci_irq_enable(dev, UPCI_IRQ_MSIX, 0);            /* every vector */
	upci_irq_set_eventfd(dev, 3, efd);                 /* vector 3 -> efd (a thread, KVM's irqfd) */
	upci_mmio_write(dev, 0, 0x18, 4, 3);               /* testdev doorbell: fire vector 3 */
	if (poll(&(struct pollfd){.fd = efd, .events = POLLIN}, 1, 1000) == 1)
		(void)!read(efd, &fired, sizeof(fired));    /* 1: one interrupt */
	if (upci_bar_map(dev, 2, &bar2, NULL) == 0) {      /* testdev's RAM BAR, write-combined */
		upci_write32(bar2, 0x40, 0xcafe);          /* little-endian, after earlier stores */
		upci_wc_flush();                           /* write-combined stores out first */
		upci_mmio_read(dev, 2, 0x40, 4, &got);
		upci_bar_unmap(dev, 2);
	}
	printf("vector 3 fired %llu time(s) on its eventfd; BAR2[0x40] = %#llx\n", (unsigned long long)fired,
	       (unsigned long long)got);
out:
	upci_close(dev);                                   /* also ends the route */
	if (efd >= 0)
		close(efd);
	return fired == 1 && got == 0xcafe ? 0 : 1;
}
