/* SPDX-License-Identifier: MIT */
/* Two devices in one DMA space: IOVAs chosen by the library, a huge-page
 * buffer, translation for each device (README; built and run by the tests). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <upci/upci.h>

int main(void)
{
	upci_dev *nic = NULL, *disk = NULL;
	upci_dma_space *sp = NULL;
	struct upci_dma_buf ring = {0};
	struct upci_iova_range r[8];
	uint64_t iova = 0, bus_disk = 0, bus_nic = 0;
	void *mem = aligned_alloc(65536, 65536);  /* the caller's own memory */
	int ret;

	if ((ret = upci_open(&nic, "sim:edu")) < 0 || (ret = upci_open(&disk, "sim:testdev")) < 0 ||
	    (ret = upci_claim(nic)) < 0 || (ret = upci_claim(disk)) < 0 || !mem ||
	    (ret = upci_dma_space_create(&sp)) < 0 ||
	    (ret = upci_dma_space_join(sp, nic)) < 0 ||          /* one IOVA space for both */
	    (ret = upci_dma_space_join(sp, disk)) < 0)
		goto out;
	ret = upci_dma_alloc_flags(nic, UPCI_IOVA_ANY, 4 << 20, UPCI_DMA_ALLOC_HUGE, &ring);
	if (ret == -ENOMEM || ret == -ENOTSUP)                    /* no 2 MiB pages reserved */
		ret = upci_dma_alloc(nic, UPCI_IOVA_ANY, 4 << 20, &ring);
	if (ret < 0 || (ret = upci_dma_map_any(disk, mem, 65536, UPCI_DMA_RW, &iova, &bus_disk)) < 0 ||
	    (ret = upci_dma_vaddr_to_bus(disk, ring.vaddr, ring.size, NULL, &bus_disk)) < 0 ||
	    (ret = upci_dma_vaddr_to_bus(nic, mem, 65536, NULL, &bus_nic)) < 0 ||
	    (ret = upci_dma_iova_ranges(nic, r, 8)) < 0)            /* what every member accepts */
		goto out;
	printf("ring at IOVA %#llx (disk sees %#llx), memory at IOVA %#llx (nic sees %#llx), %d IOVA range(s)\n",
	       (unsigned long long)ring.iova, (unsigned long long)bus_disk, (unsigned long long)iova,
	       (unsigned long long)bus_nic, ret);
	ret = 0;
out:
	if (ret < 0)
		fprintf(stderr, "dma_space: %s\n", upci_strerror(ret));
	upci_close(nic);                                  /* members leave the space by themselves */
	upci_close(disk);
	upci_dma_space_destroy(sp);                       /* frees the ring, forgets the mapping */
	free(mem);
	return ret < 0 || !mem;
}
