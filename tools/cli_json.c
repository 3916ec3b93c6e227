/* SPDX-License-Identifier: MIT */
/* --json output (see cli_json.h). */
#include "cli_json.h"

#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "names.h"
#include "pci_regs.h"
#include "util.h"

int json_emit(struct json_object *o, int one_line)
{
	const char *s;
	int ok;

	if (!o) {
		fprintf(stderr, "upci: json: out of memory\n");
		return EXIT_FAIL;
	}
	s = json_object_to_json_string_ext(o, one_line ? JSON_C_TO_STRING_PLAIN
					       : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	ok = s && printf("%s\n", s) > 0;
	json_object_put(o);
	if (!ok) {
		fprintf(stderr, "upci: json: cannot write the output\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

void json_set_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

void json_set_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

struct json_object *json_double(double v, int decimals)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *bars_json(const struct ls_dev *d)
{
	struct json_object *a = json_object_new_array();

	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		const struct upci_bar_info *bi = &d->bars[b];
		struct json_object *o;
		struct bar_decode bd;
		uint64_t addr = 0;

		if (!d->bar_ok[b] || !(bi->flags & UPCI_BAR_PRESENT))
			continue;
		o = json_object_new_object();
		json_set_int(o, "index", b);
		json_set_str(o, "kind", (bi->flags & UPCI_BAR_IO) ? "io" : (bi->flags & UPCI_BAR_MEM64) ? "mem64" : "mem32");
		json_set_int(o, "size", (int64_t)bi->size);
		json_object_object_add(o, "prefetchable", json_object_new_boolean(!!(bi->flags & UPCI_BAR_PREFETCH)));
		json_object_object_add(o, "mappable", json_object_new_boolean(!!(bi->flags & UPCI_BAR_MAPPABLE)));
		json_object_object_add(o, "map_read_only", json_object_new_boolean(!!(bi->flags & UPCI_BAR_MAP_RDONLY)));
		if (d->host.present)
			addr = d->host.bar_start[b];
		else if (bar_decode(&d->cfg, b, &bd) == 0)
			addr = bd.address;
		json_object_object_add(o, "address", addr ? json_object_new_int64((int64_t)addr) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *caps_json(const struct ls_dev *d, int ext)
{
	struct json_object *a = json_object_new_array();
	struct cap_entry caps[CAPS_MAX];
	size_t n = 0;

	if (d->readable < d->cfg.size)
		return a; /* only the header could be read */
	if (ext)
		ext_caps_walk(&d->cfg, caps, CAPS_MAX, &n);
	else
		caps_walk(&d->cfg, caps, CAPS_MAX, &n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_set_int(o, "offset", caps[i].offset);
		json_set_int(o, "id", caps[i].id);
		if (ext)
			json_set_int(o, "version", caps[i].version);
		json_set_str(o, "name", ext ? ext_cap_name(caps[i].id) : cap_name(caps[i].id));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *names_json(const struct upci_identity *id)
{
	struct json_object *o = json_object_new_object();
	char buf[256];

	names_set_numeric(0);
	json_set_str(o, "class", name_class(buf, sizeof(buf), id->class_code >> 8));
	json_set_str(o, "vendor", name_vendor_only(buf, sizeof(buf), id->vendor_id));
	json_set_str(o, "device", name_device_only(buf, sizeof(buf), id->vendor_id, id->device_id));
	json_set_str(o, "subsystem", id->subsys_vendor_id && id->subsys_vendor_id != 0xffff
					     ? name_subsystem(buf, sizeof(buf), id->vendor_id, id->device_id,
							      id->subsys_vendor_id, id->subsys_id)
					     : NULL);
	return o;
}

static struct json_object *host_json(const struct ls_dev *d)
{
	struct json_object *o;

	if (!d->host.present)
		return NULL;
	o = json_object_new_object();
	json_set_str(o, "driver", d->host.driver[0] ? d->host.driver : NULL);
	json_object_object_add(o, "iommu_group", d->host.iommu_group >= 0 ? json_object_new_int(d->host.iommu_group) : NULL);
	json_object_object_add(o, "numa_node", d->host.numa_node >= 0 ? json_object_new_int64(d->host.numa_node) : NULL);
	json_set_int(o, "irq", d->host.irq);
	return o;
}

int info_json(upci_dev *dev, const struct ls_dev *d)
{
	const struct upci_identity *id = d->id;
	struct json_object *o = json_object_new_object(), *v;
	unsigned msix, msi, intx;
	char addr[24];

	if (!o)
		return json_emit(NULL, 0);
	json_set_str(o, "kind", "info");
	json_set_str(o, "uri", upci_uri(dev));
	json_set_str(o, "backend", id->backend);
	json_set_str(o, "name", id->name);
	snprintf(addr, sizeof(addr), "%04x:%02x:%02x.%x", id->domain, id->bus, id->device, id->function);
	json_set_str(o, "address", addr);
	json_set_int(o, "vendor_id", id->vendor_id);
	json_set_int(o, "device_id", id->device_id);
	json_set_int(o, "subsystem_vendor_id", id->subsys_vendor_id);
	json_set_int(o, "subsystem_id", id->subsys_id);
	json_set_int(o, "class", id->class_code);
	json_set_int(o, "revision", id->revision);
	json_object_object_add(o, "names", names_json(id));
	json_set_int(o, "config_size", id->config_size);
	json_set_int(o, "config_readable", d->readable);
	json_set_int(o, "command", cfg_get16(&d->cfg, PCI_COMMAND));
	json_set_int(o, "status", cfg_get16(&d->cfg, PCI_STATUS));
	json_set_int(o, "header_type", cfg_get8(&d->cfg, PCI_HEADER_TYPE));
	json_set_int(o, "interrupt_pin", cfg_get8(&d->cfg, PCI_INTERRUPT_PIN));
	json_object_object_add(o, "bars", bars_json(d));
	json_object_object_add(o, "capabilities", caps_json(d, 0));
	json_object_object_add(o, "extended_capabilities", caps_json(d, 1));
	irq_offer(&d->cfg, &msix, &msi, &intx);
	v = json_object_new_object();
	json_set_int(v, "msix", msix);
	json_set_int(v, "msi", msi);
	json_set_int(v, "intx", intx);
	json_object_object_add(o, "interrupt_vectors", v);
	json_object_object_add(o, "host", host_json(d));
	return json_emit(o, 0);
}
