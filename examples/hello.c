/* The README's example: open sim:edu, read its ID, take one interrupt. */
#include <stdio.h>
#include <upci/upci.h>

int main(void)
{
	upci_dev *dev;
	uint64_t id = 0, pending[UPCI_IRQ_WORDS];
	int ret = upci_open(&dev, "sim:edu");          /* or "vfio:0000:03:00.0" */

	if (ret < 0) {
		fprintf(stderr, "sim:edu: open: %s\n", upci_strerror(ret));
		return 1;
	}
	if ((ret = upci_claim(dev)) < 0) {             /* another user has it */
		fprintf(stderr, "sim:edu: claim: %s\n", upci_strerror(ret));
		upci_close(dev);
		return 1;
	}
	upci_mmio_read(dev, 0, 0x00, 4, &id);            /* BAR0 ID register */
	upci_irq_enable(dev, UPCI_IRQ_AUTO, 1);          /* MSI-X, else MSI, else INTx */
	upci_mmio_write(dev, 0, 0x60, 4, 0x1);           /* edu: raise an interrupt */
	ret = upci_irq_wait(dev, 1000, pending);         /* 1 s timeout; takes pending bits */
	printf("id %#llx, %d vector(s) fired\n", (unsigned long long)id, ret);
	upci_close(dev);                                 /* unmaps, disables, releases */
	return ret == 1 && id == 0x010000ed ? 0 : 1;
}
