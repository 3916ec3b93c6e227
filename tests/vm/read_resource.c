/*
 * read_resource FILE OFFSET: mmap a PCI BAR through sysfs
 * (/sys/bus/pci/devices/BDF/resourceN) and print the 32-bit word at OFFSET as
 * 0x%08x. Used by the VM smoke test, built static. If the device's memory
 * decoding is off, it is turned on first through the sibling "config" file
 * (a bound vfio-pci leaves COMMAND alone until the device is opened).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2

static int enable_memory(const char *res)
{
	char cfg[4096];
	const char *slash = strrchr(res, '/');
	uint16_t cmd;
	int fd, ret = 0;

	if (!slash || (size_t)(slash - res) + sizeof("/config") > sizeof(cfg))
		return 0;
	memcpy(cfg, res, (size_t)(slash - res));
	strcpy(cfg + (slash - res), "/config");
	fd = open(cfg, O_RDWR);
	if (fd < 0)
		return 0;
	if (pread(fd, &cmd, 2, PCI_COMMAND) == 2 && !(cmd & PCI_COMMAND_MEMORY)) {
		cmd |= PCI_COMMAND_MEMORY;
		if (pwrite(fd, &cmd, 2, PCI_COMMAND) != 2) {
			fprintf(stderr, "read_resource: %s: cannot enable memory: %s\n", cfg, strerror(errno));
			ret = -1;
		}
	}
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct stat st;
	volatile uint32_t *p;
	unsigned long off;
	char *end;
	void *map;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: read_resource /sys/bus/pci/devices/BDF/resourceN OFFSET\n");
		return 2;
	}
	off = strtoul(argv[2], &end, 0);
	if (*argv[2] == '\0' || *end != '\0' || (off & 3)) {
		fprintf(stderr, "read_resource: bad offset '%s' (must be 4-aligned)\n", argv[2]);
		return 2;
	}
	if (enable_memory(argv[1]) < 0)
		return 1;
	fd = open(argv[1], O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "read_resource: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if ((off_t)off + 4 > st.st_size) {
		fprintf(stderr, "read_resource: offset 0x%lx beyond %s (%lld bytes)\n", off, argv[1],
			(long long)st.st_size);
		return 1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "read_resource: mmap %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	p = (volatile uint32_t *)((char *)map + off);
	printf("0x%08x\n", *p);
	munmap(map, (size_t)st.st_size);
	close(fd);
	return 0;
}
