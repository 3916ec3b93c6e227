/* SPDX-License-Identifier: MIT */
/*
 * The config-write policy: which bytes the host owns (BAR registers,
 * STATUS, the MSI capability, PCIe DevCtl/DevCtl2) and which reach the
 * device (COMMAND and the rest); the backend applying it; and the same
 * decisions as the vfio-user server's hook (drop, emulate, forward).
 */
#include "dext_serve.h"
#include "pci_regs.h"
#include "srv_policy.h"
#include "test_dext_util.h"

#define TD 0, 2, 0

/* A config space with a capability list: MSI at 0x50, PCIe at 0x70. */
static void make_cfg(uint8_t *cfg, uint16_t msi_flags)
{
	memset(cfg, 0, 256);
	cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	cfg[PCI_CAPABILITY_LIST] = 0x50;
	cfg[0x50] = PCI_CAP_ID_MSI;
	cfg[0x51] = 0x70;
	cfg[0x52] = (uint8_t)msi_flags;
	cfg[0x53] = (uint8_t)(msi_flags >> 8);
	cfg[0x70] = PCI_CAP_ID_EXP;
	cfg[0x71] = 0;
}

static void test_host_owned_bytes(void **state)
{
	struct dext_policy p;
	uint8_t cfg[256];

	(void)state;
	make_cfg(cfg, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	dext_policy_init(&p, cfg, sizeof(cfg));
	assert_int_equal(p.msi, 0x50);
	assert_int_equal(p.msi_len, 24);
	assert_int_equal(p.exp, 0x70);
	assert_int_equal(dext_policy_write_mask(&p, PCI_COMMAND, 2), 0x3);  /* forwarded */
	assert_int_equal(dext_policy_write_mask(&p, PCI_STATUS, 2), 0x0);
	assert_int_equal(dext_policy_write_mask(&p, PCI_COMMAND, 4), 0x3);  /* COMMAND yes, STATUS no */
	for (uint32_t off = PCI_BASE_ADDRESS_0; off <= PCI_BASE_ADDRESS_5; off += 4)
		assert_int_equal(dext_policy_write_mask(&p, off, 4), 0x0);
	assert_int_equal(dext_policy_write_mask(&p, PCI_CARDBUS_CIS, 4), 0xf); /* right after the BARs */
	assert_int_equal(dext_policy_write_mask(&p, PCI_INTERRUPT_LINE, 1), 0x1);
	assert_int_equal(dext_policy_write_mask(&p, 0x4c, 4), 0xf);          /* before MSI */
	assert_int_equal(dext_policy_write_mask(&p, 0x50, 4), 0x0);
	assert_int_equal(dext_policy_write_mask(&p, 0x64, 4), 0x0);          /* pending bits, the last dword */
	assert_int_equal(dext_policy_write_mask(&p, 0x68, 4), 0xf);          /* after MSI */
	assert_int_equal(dext_policy_write_mask(&p, 0x70 + PCI_EXP_DEVCTL, 2), 0x0);
	assert_int_equal(dext_policy_write_mask(&p, 0x70 + PCI_EXP_DEVCTL, 4), 0xc); /* DevSta forwarded */
	assert_int_equal(dext_policy_write_mask(&p, 0x70 + PCI_EXP_DEVCTL2, 4), 0xc);
	assert_int_equal(dext_policy_write_mask(&p, 0x70 + PCI_EXP_LNKCTL, 2), 0x3);
}

static void test_msi_lengths(void **state)
{
	static const struct {
		uint16_t flags, len;
	} v[] = {
		{0, 10},
		{PCI_MSI_FLAGS_64BIT, 14},
		{PCI_MSI_FLAGS_MASKBIT, 20},
		{PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT, 24},
	};
	struct dext_policy p;
	uint8_t cfg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		make_cfg(cfg, v[i].flags);
		dext_policy_init(&p, cfg, sizeof(cfg));
		assert_int_equal(p.msi_len, v[i].len);
		assert_int_equal(dext_policy_write_mask(&p, 0x50 + v[i].len - 1, 1), 0);
		assert_int_equal(dext_policy_write_mask(&p, 0x50 + v[i].len, 1), 1);
	}
	/* No capabilities: only STATUS and the BARs are the host's. */
	memset(cfg, 0, sizeof(cfg));
	dext_policy_init(&p, cfg, sizeof(cfg));
	assert_true(p.msi == 0 && p.exp == 0);
	assert_int_equal(dext_policy_write_mask(&p, 0x50, 4), 0xf);
}

/* Through upci_config_write on dext: host-owned bytes never reach the
 * device, the others do, the call succeeds. */
static void test_backend_applies_it(void **state)
{
	upci_dev *d = NULL, *sim = iokit_shim_simdev(TD);
	uint32_t before = 0, after = 0, cmd = 0, devctl0 = 0, devctl1 = 0;
	struct dext_policy p;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_config_read(sim, PCI_BASE_ADDRESS_0, 4, &before), 0);
	assert_int_equal(upci_config_write(d, PCI_BASE_ADDRESS_0, 4, 0xffffffff), 0);
	assert_int_equal(upci_config_read(sim, PCI_BASE_ADDRESS_0, 4, &after), 0);
	assert_int_equal(before, after);
	/* A dword over COMMAND and STATUS: COMMAND changes, STATUS is not touched. */
	assert_int_equal(upci_config_read(d, PCI_COMMAND, 2, &cmd), 0);
	assert_int_equal(upci_config_write(d, PCI_COMMAND, 4, 0xffff0000u | (cmd & ~PCI_COMMAND_MASTER)), 0);
	assert_int_equal(upci_config_read(sim, PCI_COMMAND, 4, &after), 0);
	assert_int_equal(after & 0xffff, cmd & ~PCI_COMMAND_MASTER);
	/* DevCtl (testdev's PCIe capability at 0x70? ask the policy, which
	 * the claim learnt). */
	assert_int_equal(dext_policy_of(d, &p), 1);
	assert_int_not_equal(p.exp, 0);
	assert_int_equal(upci_config_read(sim, p.exp + PCI_EXP_DEVCTL, 2, &devctl0), 0);
	assert_int_equal(upci_config_write(d, p.exp + PCI_EXP_DEVCTL, 2, 0), 0);
	assert_int_equal(upci_config_read(sim, p.exp + PCI_EXP_DEVCTL, 2, &devctl1), 0);
	assert_int_equal(devctl0, devctl1);
	assert_int_equal(dext_policy_of(sim, &p), 0); /* a sim handle has none */
	upci_close(d);
}

/* The vfio-user server's hook on a dext device. */
static void test_serve_decisions(void **state)
{
	static struct vfu_cfg_shadow sh;
	upci_dev *d = NULL, *sim = iokit_shim_simdev(TD);
	uint8_t got[4];
	uint32_t v = 0, raw0 = 0, raw1 = 0, exp, devctl = 0;
	struct dext_policy p;

	(void)state;
	vfu_cfg_shadow_clear(&sh);
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(dext_policy_of(d, &p), 1);
	exp = p.exp;
	/* BAR: emulated (the client reads back what it wrote), device untouched. */
	assert_int_equal(upci_config_read(sim, PCI_BASE_ADDRESS_0, 4, &raw0), 0);
	assert_int_equal(vfu_cfg_policy_apply(&upci_dext_serve_policy, &sh, d, PCI_BASE_ADDRESS_0, 4, 0xfffffff0), 0);
	assert_int_equal(upci_config_read(sim, PCI_BASE_ADDRESS_0, 4, &raw1), 0);
	assert_int_equal(raw0, raw1);
	memset(got, 0, sizeof(got));
	vfu_cfg_shadow_overlay(&sh, PCI_BASE_ADDRESS_0, got, 4);
	assert_int_equal(got[0] | got[1] << 8 | got[2] << 16 | (uint32_t)got[3] << 24, 0xfffffff0);
	/* STATUS alone: dropped, nothing shadowed. */
	assert_int_equal(vfu_cfg_policy_apply(&upci_dext_serve_policy, &sh, d, PCI_STATUS, 2, 0xffff), 0);
	memset(got, 0xee, sizeof(got));
	vfu_cfg_shadow_overlay(&sh, PCI_STATUS, got, 2);
	assert_true(got[0] == 0xee && got[1] == 0xee);
	/* COMMAND: forwarded to the device. */
	assert_int_equal(vfu_cfg_policy_apply(&upci_dext_serve_policy, &sh, d, PCI_COMMAND, 2,
					      PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), 0);
	assert_int_equal(upci_config_read(sim, PCI_COMMAND, 2, &v), 0);
	assert_int_equal(v & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* DevCtl with Initiate FLR: the function is reset (ResetDevice), the
	 * rest of the value is emulated without the FLR bit. */
	assert_int_equal(vfu_cfg_policy_apply(&upci_dext_serve_policy, &sh, d, exp + PCI_EXP_DEVCTL, 2,
					      PCI_EXP_DEVCTL_BCR_FLR | 0x0010), 0);
	assert_string_equal(iokit_shim_last_reset(TD), "flr");
	vfu_cfg_shadow_overlay(&sh, exp + PCI_EXP_DEVCTL, got, 2);
	assert_int_equal(got[0] | got[1] << 8, 0x0010);
	assert_int_equal(upci_config_read(sim, exp + PCI_EXP_DEVCTL, 2, &devctl), 0);
	assert_int_not_equal(devctl, 0x0010); /* the device kept the host's value */
	assert_ptr_equal(upci_dext_cfg_policy(d), &upci_dext_serve_policy);
	assert_null(upci_dext_cfg_policy(sim));
	/* Not a dext device: everything forwarded. */
	assert_int_equal(vfu_cfg_policy_apply(&upci_dext_serve_policy, &sh, sim, PCI_INTERRUPT_LINE, 1, 0x5a), 0);
	assert_int_equal(upci_config_read(sim, PCI_INTERRUPT_LINE, 1, &v), 0);
	assert_int_equal(v, 0x5a);
	upci_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_owned_bytes),
		cmocka_unit_test(test_msi_lengths),
		cmocka_unit_test_setup_teardown(test_backend_applies_it, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_serve_decisions, shim_setup, shim_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
