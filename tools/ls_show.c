/* SPDX-License-Identifier: MIT */
/* lspci -vv layout: the device line, header fields, BARs, ROM, kernel
 * driver and the hex dump (see lspci.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lspci.h"
#include "names.h"
#include "pci_regs.h"
#include "util.h"

/* Header fields lspci shows that src/core/pci_regs.h does not name. */
#define LS_CLASS_BRIDGE_PCI     0x0604u
#define LS_BASE_CLASS_BRIDGE    0x06u
#define LS_HEADER_NORMAL        0u
#define LS_HEADER_BRIDGE        1u
#define LS_HEADER_CARDBUS       2u
#define LS_ROM_ADDRESS1         0x38u   /* type 1 header */
#define LS_ROM_ADDRESS_MASK     0xfffff800u
#define LS_BAR_MEM_TYPE_1M      0x02u
#define LS_STATUS_DEVSEL_MASK   0x0600u
#define LS_STATUS_DEVSEL_FAST   0x0000u
#define LS_STATUS_DEVSEL_MEDIUM 0x0200u
#define LS_STATUS_DEVSEL_SLOW   0x0400u
#define LS_BIST_CAPABLE         0x80u
#define LS_BIST_START           0x40u
#define LS_BIST_CODE_MASK       0x0fu
#define LS_CAP_ID_SSVID         0x0du
#define LS_SSVID_VENDOR         0x04u
#define LS_SSVID_DEVICE         0x06u

static void flag_list(const struct pci_flag *t, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%s%c", i ? " " : "", t[i].name, LS_FLAG(v, t[i].bit));
}

void ls_slot(const struct upci_identity *id, int domains, char *buf, unsigned len)
{
	if (domains || id->domain)
		snprintf(buf, len, "%04x:%02x:%02x.%u", id->domain, id->bus, id->device, id->function);
	else
		snprintf(buf, len, "%02x:%02x.%u", id->bus, id->device, id->function);
}

void ls_size(uint64_t x)
{
	static const char suffix[][2] = {"", "K", "M", "G", "T"};
	unsigned i;

	if (!x)
		return;
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]) - 1; i++) {
		if (x % 1024)
			break;
		x /= 1024;
	}
	printf(" [size=%u%s]", (unsigned)x, suffix[i]);
}

static unsigned htype_of(const struct ls_dev *d)
{
	return cfg_get8(&d->cfg, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
}

/* A bridge's subsystem is in its SSVID capability, not at 0x2c. */
static int subsystem_of(const struct ls_dev *d, uint16_t *sv, uint16_t *sd)
{
	unsigned where;

	if (htype_of(d) == LS_HEADER_NORMAL) {
		*sv = d->id->subsys_vendor_id;
		*sd = d->id->subsys_id;
		return 1;
	}
	where = caps_find(&d->cfg, LS_CAP_ID_SSVID);
	if (!where || where + LS_SSVID_DEVICE + 2 > d->readable)
		return 0;
	*sv = cfg_get16(&d->cfg, where + LS_SSVID_VENDOR);
	*sd = cfg_get16(&d->cfg, where + LS_SSVID_DEVICE);
	return 1;
}

static void show_terse(const struct ls_dev *d, const struct ls_opts *o)
{
	const struct upci_identity *id = d->id;
	unsigned class16 = id->class_code >> 8, progif = id->class_code & 0xffu;
	char slot[24], cls[128], dev[256], pif[128];
	const char *x;
	uint16_t sv, sd;

	ls_slot(id, o->domains, slot, sizeof(slot));
	printf("%s %s: %s", slot, name_class(cls, sizeof(cls), class16),
	       name_vendor_device(dev, sizeof(dev), id->vendor_id, id->device_id));
	if (id->revision)
		printf(" (rev %02x)", id->revision);
	x = name_progif(pif, sizeof(pif), class16, progif);
	if (progif || x) {
		printf(" (prog-if %02x", progif);
		if (x)
			printf(" [%s]", x);
		putchar(')');
	}
	putchar('\n');
	if (subsystem_of(d, &sv, &sd) && sv && sv != 0xffff)
		printf("\tSubsystem: %s\n", name_subsystem(dev, sizeof(dev), id->vendor_id, id->device_id, sv, sd));
}

static const char *devsel(uint16_t status)
{
	switch (status & LS_STATUS_DEVSEL_MASK) {
	case LS_STATUS_DEVSEL_SLOW:
		return "slow";
	case LS_STATUS_DEVSEL_MEDIUM:
		return "medium";
	case LS_STATUS_DEVSEL_FAST:
		return "fast";
	default:
		return "??";
	}
}

static void show_control_status(const struct ls_dev *d, uint8_t min_gnt, uint8_t max_lat)
{
	uint16_t cmd = cfg_get16(&d->cfg, PCI_COMMAND), sts = cfg_get16(&d->cfg, PCI_STATUS);

	printf("\tControl: ");
	flag_list(pci_command_flags, PCI_COMMAND_NFLAGS, cmd);
	printf("\n\tStatus: ");
	flag_list(pci_status_flags_lo, PCI_STATUS_NFLAGS_LO, sts);
	printf(" DEVSEL=%s ", devsel(sts));
	flag_list(pci_status_flags_hi, PCI_STATUS_NFLAGS_HI, sts);
	putchar('\n');
	if (cmd & PCI_COMMAND_MASTER) {
		uint8_t latency = cfg_get8(&d->cfg, PCI_LATENCY_TIMER), cache_line = cfg_get8(&d->cfg, PCI_CACHE_LINE_SIZE);

		printf("\tLatency: %u", latency);
		if (min_gnt || max_lat) {
			printf(" (");
			if (min_gnt)
				printf("%uns min", min_gnt * 250u);
			if (min_gnt && max_lat)
				printf(", ");
			if (max_lat)
				printf("%uns max", max_lat * 250u);
			putchar(')');
		}
		if (cache_line)
			printf(", Cache Line Size: %u bytes", cache_line * 4u);
		putchar('\n');
	}
}

/* One BAR as lspci prints it. The address is the kernel's for a host
 * function (sysfs), else the register's. */
static void show_bar(const struct ls_dev *d, unsigned i, unsigned cnt, uint16_t cmd)
{
	const struct upci_bar_info *bi = &d->bars[i];
	uint32_t hw_lower = cfg_get32(&d->cfg, PCI_BAR_OFFSET(i)), hw_upper = 0;
	int is64 = (bi->flags & UPCI_BAR_MEM64) != 0, broken = 0, virt = 0;
	uint64_t a;

	printf("\tRegion %u: ", i);
	if (is64 && i + 1 < cnt)
		hw_upper = cfg_get32(&d->cfg, PCI_BAR_OFFSET(i + 1));
	else if (is64)
		broken = 1;
	if (d->host.present) {
		a = d->host.bar_start[i];
		/* The space the register says must match what the kernel says. */
		if (((hw_lower & PCI_BAR_SPACE_IO) != 0) != ((bi->flags & UPCI_BAR_IO) != 0))
			hw_lower = hw_upper = 0;
		else if (a && !hw_lower && !hw_upper)
			virt = 1;
	} else {
		a = (bi->flags & UPCI_BAR_IO) ? (hw_lower & PCI_BAR_IO_ADDR_MASK)
					      : ((uint64_t)hw_upper << 32 | (hw_lower & PCI_BAR_MEM_ADDR_MASK));
		hw_lower = hw_upper = 0; /* lspci knows the register only through sysfs */
	}
	if (bi->flags & UPCI_BAR_IO) {
		a &= ~(uint64_t)0x3;
		printf("I/O ports at ");
		if (a || (cmd & PCI_COMMAND_IO))
			printf("%04" PRIx64, a);
		else if (hw_lower)
			printf("<ignored>");
		else
			printf("<unassigned>");
		if (virt)
			printf(" [virtual]");
		else if (!(cmd & PCI_COMMAND_IO))
			printf(" [disabled]");
	} else {
		a &= ~(uint64_t)0xf;
		printf("Memory at ");
		if (broken)
			printf("<broken-64-bit-slot>");
		else if (a)
			printf("%08" PRIx64, a);
		else if (hw_lower || hw_upper)
			printf("<ignored>");
		else
			printf("<unassigned>");
		printf(" (%s, %sprefetchable)", is64 ? "64-bit" : "32-bit", (bi->flags & UPCI_BAR_PREFETCH) ? "" : "non-");
		if (virt)
			printf(" [virtual]");
		else if (!(cmd & PCI_COMMAND_MEMORY))
			printf(" [disabled]");
	}
	ls_size(bi->size);
	putchar('\n');
}

static void show_bases(const struct ls_dev *d, unsigned cnt)
{
	uint16_t cmd = cfg_get16(&d->cfg, PCI_COMMAND);

	for (unsigned i = 0; i < cnt; i++)
		if (d->bar_ok[i] && (d->bars[i].flags & UPCI_BAR_PRESENT))
			show_bar(d, i, cnt, cmd);
}

static void show_rom(const struct ls_dev *d, unsigned reg)
{
	uint32_t flg = cfg_get32(&d->cfg, reg);
	uint16_t cmd = cfg_get16(&d->cfg, PCI_COMMAND);
	uint64_t rom = d->host.present ? d->host.rom_start : (flg & LS_ROM_ADDRESS_MASK);
	uint64_t len = d->host.present ? d->host.rom_size : 0;
	int virt = 0;

	if (!rom && !flg && !len)
		return;
	if ((rom & LS_ROM_ADDRESS_MASK) && !(flg & LS_ROM_ADDRESS_MASK)) {
		flg = (uint32_t)rom;
		virt = 1;
	}
	printf("\tExpansion ROM at ");
	if (rom & LS_ROM_ADDRESS_MASK)
		printf("%08" PRIx64, rom & LS_ROM_ADDRESS_MASK);
	else if (flg & LS_ROM_ADDRESS_MASK)
		printf("<ignored>");
	else
		printf("<unassigned>");
	if (virt)
		printf(" [virtual]");
	if (!(flg & PCI_ROM_ADDRESS_ENABLE))
		printf(" [disabled]");
	else if (!virt && !(cmd & PCI_COMMAND_MEMORY))
		printf(" [disabled by cmd]");
	ls_size(len);
	putchar('\n');
}

static void show_verbose(const struct ls_dev *d)
{
	unsigned htype = htype_of(d), class16 = d->id->class_code >> 8;
	uint8_t bist = 0, max_lat = 0, min_gnt = 0, pin;
	int unknown = 0;

	switch (htype) {
	case LS_HEADER_NORMAL:
		if (class16 == LS_CLASS_BRIDGE_PCI)
			printf("\t!!! Invalid class %04x for header type %02x\n", class16, htype);
		max_lat = cfg_get8(&d->cfg, PCI_MAX_LAT);
		min_gnt = cfg_get8(&d->cfg, PCI_MIN_GNT);
		bist = cfg_get8(&d->cfg, PCI_BIST);
		break;
	case LS_HEADER_BRIDGE:
	case LS_HEADER_CARDBUS:
		if ((class16 >> 8) != LS_BASE_CLASS_BRIDGE)
			printf("\t!!! Invalid class %04x for header type %02x\n", class16, htype);
		bist = cfg_get8(&d->cfg, PCI_BIST);
		break;
	default:
		printf("\t!!! Unknown header type %02x\n", htype);
		unknown = 1;
	}
	if (!unknown)
		show_control_status(d, min_gnt, max_lat);
	/* Only a host function has an IRQ route: a model or a remote device
	 * has none to show, so no "routed to IRQ 0" line. */
	pin = unknown ? 0 : cfg_get8(&d->cfg, PCI_INTERRUPT_PIN);
	if (d->host.present) {
		if (pin || d->host.irq)
			printf("\tInterrupt: pin %c routed to IRQ %ld\n", pin ? 'A' + pin - 1 : '?', d->host.irq);
		if (d->host.numa_node != -1)
			printf("\tNUMA node: %ld\n", d->host.numa_node);
		if (d->host.iommu_group >= 0)
			printf("\tIOMMU group: %d\n", d->host.iommu_group);
	}
	if (bist & LS_BIST_CAPABLE) {
		if (bist & LS_BIST_START)
			printf("\tBIST is running\n");
		else
			printf("\tBIST result: %02x\n", bist & LS_BIST_CODE_MASK);
	}
	switch (htype) {
	case LS_HEADER_NORMAL:
		show_bases(d, UPCI_NUM_BARS);
		show_rom(d, PCI_ROM_ADDRESS);
		ls_caps(d);
		break;
	case LS_HEADER_BRIDGE:
		/* Bus numbers and windows of a bridge are not decoded. */
		show_bases(d, 2);
		show_rom(d, LS_ROM_ADDRESS1);
		ls_caps(d);
		break;
	case LS_HEADER_CARDBUS:
		show_bases(d, 1);
		break;
	default:
		show_bases(d, UPCI_NUM_BARS);
	}
}

void ls_hex_dump(const uint8_t *cfg, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		if (!(i & 15))
			printf("%02x:", i);
		printf(" %02x", cfg[i]);
		if ((i & 15) == 15)
			putchar('\n');
	}
	if (len & 15)
		putchar('\n');
}

void ls_show(const struct ls_dev *d, const struct ls_opts *o, void (*extra)(const struct ls_dev *d, void *ctx),
	     void *ctx)
{
	names_set_numeric(o->numeric);
	show_terse(d, o);
	show_verbose(d);
	if (d->host.present && d->host.driver[0])
		printf("\tKernel driver in use: %s\n", d->host.driver);
	if (extra)
		extra(d, ctx);
	if (o->hex) {
		unsigned n = o->hex >= 4 ? d->cfg.size : o->hex >= 3 ? 256u : htype_of(d) == LS_HEADER_CARDBUS ? 128u : 64u;

		if (n > d->readable)
			n = d->readable < 64 ? 0 : d->readable >= 256 ? 256 : 64;
		ls_hex_dump(d->cfg.data, n);
	}
	putchar('\n');
}
