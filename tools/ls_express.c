/* SPDX-License-Identifier: MIT */
/* lspci -vv layout of the PCI Express capability (PCIe Base 5.0 7.5.3):
 * device, link, slot, root and the version-2 registers. */
#include <stdio.h>

#include "lspci.h"

/* Register offsets inside the capability */
#define X_DEVCAP   0x04u
#define X_DEVCTL   0x08u
#define X_DEVSTA   0x0au
#define X_LNKCAP   0x0cu
#define X_LNKCTL   0x10u
#define X_LNKSTA   0x12u
#define X_SLTCAP   0x14u
#define X_SLTCTL   0x18u
#define X_SLTSTA   0x1au
#define X_RTCTL    0x1cu
#define X_RTCAP    0x1eu
#define X_RTSTA    0x20u
#define X_DEVCAP2  0x24u
#define X_DEVCTL2  0x28u
#define X_LNKCAP2  0x2cu
#define X_LNKCTL2  0x30u
#define X_LNKSTA2  0x32u

/* Capability register (offset 2) */
#define X_FLAGS_VERS      0x000fu
#define X_FLAGS_TYPE      0x00f0u
#define X_FLAGS_TYPE_SHIFT 4u
#define X_FLAGS_SLOT      0x0100u
#define X_FLAGS_IRQ       0x3e00u
#define X_FLAGS_IRQ_SHIFT 9u

/* Device/port types */
#define T_ENDPOINT   0x0
#define T_LEG_END    0x1
#define T_ROOT_PORT  0x4
#define T_UPSTREAM   0x5
#define T_DOWNSTREAM 0x6
#define T_PCI_BRIDGE 0x7
#define T_PCIE_BRIDGE 0x8
#define T_ROOT_INT_EP 0x9
#define T_ROOT_EC    0xa

/* Multi-bit fields: mask and shift */
#define DEVCAP_PAYLOAD      0x00000007u
#define DEVCAP_PHANTOM      0x00000018u
#define DEVCAP_PHANTOM_SHIFT 3u
#define DEVCAP_L0S          0x000001c0u
#define DEVCAP_L0S_SHIFT    6u
#define DEVCAP_L1           0x00000e00u
#define DEVCAP_L1_SHIFT     9u
#define DEVCAP_PWR_VAL      0x03fc0000u
#define DEVCAP_PWR_VAL_SHIFT 18u
#define DEVCAP_PWR_SCL      0x0c000000u
#define DEVCAP_PWR_SCL_SHIFT 26u
#define DEVCAP_FLRESET      0x10000000u
#define DEVCTL_PAYLOAD      0x00e0u
#define DEVCTL_PAYLOAD_SHIFT 5u
#define DEVCTL_READRQ       0x7000u
#define DEVCTL_READRQ_SHIFT 12u
#define LNKCAP_SPEED        0x0000000fu
#define LNKCAP_WIDTH        0x000003f0u
#define LNKCAP_WIDTH_SHIFT  4u
#define LNKCAP_ASPM         0x00000c00u
#define LNKCAP_ASPM_SHIFT   10u
#define LNKCAP_L0S          0x00007000u
#define LNKCAP_L0S_SHIFT    12u
#define LNKCAP_L1           0x00038000u
#define LNKCAP_L1_SHIFT     15u
#define LNKCAP_PORT_SHIFT   24u
#define LNKCTL_ASPM         0x0003u
#define LNKCTL_RCB          0x0008u
#define LNKSTA_SPEED        0x000fu
#define LNKSTA_WIDTH        0x03f0u
#define LNKSTA_WIDTH_SHIFT  4u
#define SLTCAP_PWR_VAL      0x00007f80u
#define SLTCAP_PWR_VAL_SHIFT 7u
#define SLTCAP_PWR_SCL      0x00018000u
#define SLTCAP_PWR_SCL_SHIFT 15u
#define SLTCAP_PSN_SHIFT    19u
#define SLTCTL_ATNI         0x00c0u
#define SLTCTL_ATNI_SHIFT   6u
#define SLTCTL_PWRI         0x0300u
#define SLTCTL_PWRI_SHIFT   8u
#define RTSTA_PME_REQID     0x0000ffffu
#define DEVCAP2_TIMEOUT(x)  ((x) & 0xfu)
#define DEVCAP2_TPH(x)      (((x) >> 12) & 3u)
#define DEVCAP2_LN_CLS(x)   (((x) >> 14) & 3u)
#define DEVCAP2_OBFF(x)     (((x) >> 18) & 3u)
#define DEVCAP2_MEE_TLP(x)  (((x) >> 22) & 3u)
#define DEVCAP2_EPR(x)      (((x) >> 24) & 3u)
#define DEVCAP2_EE_TLP      0x00200000u
#define DEVCTL2_TIMEOUT(x)  ((x) & 0xfu)
#define DEVCTL2_OBFF(x)     (((x) >> 13) & 3u)
#define LNKCAP2_SPEED(x)    (((x) >> 1) & 0x7fu)
#define LNKCAP2_DRS         0x80000000u
#define LNKCTL2_SPEED(x)    ((x) & 0xfu)
#define LNKCTL2_DEEMPH(x)   (((x) >> 6) & 1u)
#define LNKCTL2_MARGIN(x)   (((x) >> 7) & 7u)
#define LNKCTL2_COMDEEMPH(x) (((x) >> 12) & 0xfu)
#define LNKSTA2_DEEMPH(x)   ((x) & 1u)
#define LNKSTA2_CROSSLINK(x) (((x) >> 8) & 3u)
#define LNKSTA2_COMPONENT(x) (((x) >> 12) & 7u)

#define G8(o)  cfg_get8(&d->cfg, where + (o))
#define G16(o) cfg_get16(&d->cfg, where + (o))
#define G32(o) cfg_get32(&d->cfg, where + (o))

static int is_type(int type, int a, int b, int c)
{
	return type == a || type == b || type == c;
}

static void power_limit(unsigned value, unsigned scale)
{
	static const float scales[4] = {1.0f, 0.1f, 0.01f, 0.001f};

	if (scale == 0 && value == 0xff) {
		printf(">600W");
		return;
	}
	if (scale == 0 && value >= 0xf0 && value <= 0xfe)
		value = 250 + 25 * (value - 0xf0);
	printf("%gW", value * scales[scale & 3]);
}

static const char *l0s(unsigned v)
{
	static const char *const t[] = {"<64ns", "<128ns", "<256ns", "<512ns", "<1us", "<2us", "<4us", "unlimited"};
	return t[v & 7];
}

static const char *l1(unsigned v)
{
	static const char *const t[] = {"<1us", "<2us", "<4us", "<8us", "<16us", "<32us", "<64us", "unlimited"};
	return t[v & 7];
}

static void dev(const struct ls_dev *d, unsigned where, int type)
{
	uint32_t t = G32(X_DEVCAP);
	uint16_t w;
	int ep = is_type(type, T_ENDPOINT, T_LEG_END, -1);

	printf("\t\tDevCap:\tMaxPayload %u bytes, PhantFunc %u", 128u << (t & DEVCAP_PAYLOAD),
	       (1u << ((t & DEVCAP_PHANTOM) >> DEVCAP_PHANTOM_SHIFT)) - 1);
	if (ep)
		printf(", Latency L0s %s, L1 %s", l0s((t & DEVCAP_L0S) >> DEVCAP_L0S_SHIFT), l1((t & DEVCAP_L1) >> DEVCAP_L1_SHIFT));
	printf("\n\t\t\tExtTag%c", LS_FLAG(t, 0x20));
	if (ep || is_type(type, T_UPSTREAM, T_PCI_BRIDGE, -1))
		printf(" AttnBtn%c AttnInd%c PwrInd%c", LS_FLAG(t, 0x1000), LS_FLAG(t, 0x2000), LS_FLAG(t, 0x4000));
	printf(" RBE%c", LS_FLAG(t, 0x8000));
	if (is_type(type, T_ENDPOINT, T_LEG_END, T_ROOT_INT_EP))
		printf(" FLReset%c", LS_FLAG(t, DEVCAP_FLRESET));
	if (is_type(type, T_ENDPOINT, T_UPSTREAM, T_PCI_BRIDGE)) {
		printf(" SlotPowerLimit ");
		power_limit((t & DEVCAP_PWR_VAL) >> DEVCAP_PWR_VAL_SHIFT, (t & DEVCAP_PWR_SCL) >> DEVCAP_PWR_SCL_SHIFT);
	}
	printf("\n");

	w = G16(X_DEVCTL);
	printf("\t\tDevCtl:\tCorrErr%c NonFatalErr%c FatalErr%c UnsupReq%c\n", LS_FLAG(w, 0x1), LS_FLAG(w, 0x2),
	       LS_FLAG(w, 0x4), LS_FLAG(w, 0x8));
	printf("\t\t\tRlxdOrd%c ExtTag%c PhantFunc%c AuxPwr%c NoSnoop%c", LS_FLAG(w, 0x10), LS_FLAG(w, 0x100),
	       LS_FLAG(w, 0x200), LS_FLAG(w, 0x400), LS_FLAG(w, 0x800));
	if (type == T_PCI_BRIDGE)
		printf(" BrConfRtry%c", LS_FLAG(w, 0x8000));
	if (is_type(type, T_ENDPOINT, T_LEG_END, T_ROOT_INT_EP) && (t & DEVCAP_FLRESET))
		printf(" FLReset%c", LS_FLAG(w, 0x8000));
	printf("\n\t\t\tMaxPayload %u bytes, MaxReadReq %u bytes\n", 128u << ((w & DEVCTL_PAYLOAD) >> DEVCTL_PAYLOAD_SHIFT),
	       128u << ((w & DEVCTL_READRQ) >> DEVCTL_READRQ_SHIFT));

	w = G16(X_DEVSTA);
	printf("\t\tDevSta:\tCorrErr%c NonFatalErr%c FatalErr%c UnsupReq%c AuxPwr%c TransPend%c\n", LS_FLAG(w, 0x1),
	       LS_FLAG(w, 0x2), LS_FLAG(w, 0x4), LS_FLAG(w, 0x8), LS_FLAG(w, 0x10), LS_FLAG(w, 0x20));
}

static const char *speed(unsigned s)
{
	static const char *const t[] = {"unknown", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s"};
	return s < sizeof(t) / sizeof(t[0]) ? t[s] : "unknown";
}

static const char *compare(int type, unsigned sta, unsigned cap)
{
	if (sta > cap)
		return " (overdriven)";
	if (sta == cap || is_type(type, T_ROOT_PORT, T_DOWNSTREAM, T_PCIE_BRIDGE))
		return "";
	return " (downgraded)";
}

static void link(const struct ls_dev *d, unsigned where, int type)
{
	static const char *const aspm_sup[] = {"not supported", "L0s", "L1", "L0s L1"};
	static const char *const aspm_en[] = {"Disabled", "L0s Enabled", "L1 Enabled", "L0s L1 Enabled"};
	uint32_t t = G32(X_LNKCAP);
	unsigned aspm = (t & LNKCAP_ASPM) >> LNKCAP_ASPM_SHIFT, cap_speed = t & LNKCAP_SPEED;
	unsigned cap_width = (t & LNKCAP_WIDTH) >> LNKCAP_WIDTH_SHIFT, sta_speed, sta_width;
	uint16_t w;

	printf("\t\tLnkCap:\tPort #%u, Speed %s, Width x%u, ASPM %s", t >> LNKCAP_PORT_SHIFT, speed(cap_speed), cap_width,
	       aspm_sup[aspm]);
	if (aspm) {
		printf(", Exit Latency ");
		if (aspm & 1)
			printf("L0s %s", l0s((t & LNKCAP_L0S) >> LNKCAP_L0S_SHIFT));
		if (aspm & 2)
			printf("%sL1 %s", (aspm & 1) ? ", " : "", l1((t & LNKCAP_L1) >> LNKCAP_L1_SHIFT));
	}
	printf("\n\t\t\tClockPM%c Surprise%c LLActRep%c BwNot%c ASPMOptComp%c\n", LS_FLAG(t, 0x40000),
	       LS_FLAG(t, 0x80000), LS_FLAG(t, 0x100000), LS_FLAG(t, 0x200000), LS_FLAG(t, 0x400000));

	w = G16(X_LNKCTL);
	printf("\t\tLnkCtl:\tASPM %s;", aspm_en[w & LNKCTL_ASPM]);
	if (is_type(type, T_ROOT_PORT, T_ENDPOINT, T_LEG_END) || type == T_PCI_BRIDGE)
		printf(" RCB %u bytes,", (w & LNKCTL_RCB) ? 128u : 64u);
	printf(" Disabled%c CommClk%c\n\t\t\tExtSynch%c ClockPM%c AutWidDis%c BWInt%c AutBWInt%c\n", LS_FLAG(w, 0x10),
	       LS_FLAG(w, 0x40), LS_FLAG(w, 0x80), LS_FLAG(w, 0x100), LS_FLAG(w, 0x200), LS_FLAG(w, 0x400),
	       LS_FLAG(w, 0x800));

	w = G16(X_LNKSTA);
	sta_speed = w & LNKSTA_SPEED;
	sta_width = (w & LNKSTA_WIDTH) >> LNKSTA_WIDTH_SHIFT;
	printf("\t\tLnkSta:\tSpeed %s%s, Width x%u%s\n", speed(sta_speed), compare(type, sta_speed, cap_speed), sta_width,
	       compare(type, sta_width, cap_width));
	printf("\t\t\tTrErr%c Train%c SlotClk%c DLActive%c BWMgmt%c ABWMgmt%c\n", LS_FLAG(w, 0x400), LS_FLAG(w, 0x800),
	       LS_FLAG(w, 0x1000), LS_FLAG(w, 0x2000), LS_FLAG(w, 0x4000), LS_FLAG(w, 0x8000));
}

static void slot(const struct ls_dev *d, unsigned where)
{
	static const char *const ind[] = {"Unknown", "On", "Blink", "Off"};
	uint32_t t = G32(X_SLTCAP);
	uint16_t w;

	printf("\t\tSltCap:\tAttnBtn%c PwrCtrl%c MRL%c AttnInd%c PwrInd%c HotPlug%c Surprise%c\n", LS_FLAG(t, 0x1),
	       LS_FLAG(t, 0x2), LS_FLAG(t, 0x4), LS_FLAG(t, 0x8), LS_FLAG(t, 0x10), LS_FLAG(t, 0x40), LS_FLAG(t, 0x20));
	printf("\t\t\tSlot #%u, PowerLimit ", t >> SLTCAP_PSN_SHIFT);
	power_limit((t & SLTCAP_PWR_VAL) >> SLTCAP_PWR_VAL_SHIFT, (t & SLTCAP_PWR_SCL) >> SLTCAP_PWR_SCL_SHIFT);
	printf("; Interlock%c NoCompl%c\n", LS_FLAG(t, 0x20000), LS_FLAG(t, 0x40000));

	w = G16(X_SLTCTL);
	printf("\t\tSltCtl:\tEnable: AttnBtn%c PwrFlt%c MRL%c PresDet%c CmdCplt%c HPIrq%c LinkChg%c\n", LS_FLAG(w, 0x1),
	       LS_FLAG(w, 0x2), LS_FLAG(w, 0x4), LS_FLAG(w, 0x8), LS_FLAG(w, 0x10), LS_FLAG(w, 0x20), LS_FLAG(w, 0x1000));
	printf("\t\t\tControl: AttnInd %s, PwrInd %s, Power%c Interlock%c\n", ind[(w & SLTCTL_ATNI) >> SLTCTL_ATNI_SHIFT],
	       ind[(w & SLTCTL_PWRI) >> SLTCTL_PWRI_SHIFT], LS_FLAG(w, 0x400), LS_FLAG(w, 0x800));

	w = G16(X_SLTSTA);
	printf("\t\tSltSta:\tStatus: AttnBtn%c PowerFlt%c MRL%c CmdCplt%c PresDet%c Interlock%c\n", LS_FLAG(w, 0x1),
	       LS_FLAG(w, 0x2), LS_FLAG(w, 0x20), LS_FLAG(w, 0x10), LS_FLAG(w, 0x40), LS_FLAG(w, 0x80));
	printf("\t\t\tChanged: MRL%c PresDet%c LinkState%c\n", LS_FLAG(w, 0x4), LS_FLAG(w, 0x8), LS_FLAG(w, 0x100));
}

static void root(const struct ls_dev *d, unsigned where)
{
	uint32_t w = G16(X_RTCAP);

	printf("\t\tRootCap: CRSVisible%c\n", LS_FLAG(w, 0x1));
	w = G16(X_RTCTL);
	printf("\t\tRootCtl: ErrCorrectable%c ErrNon-Fatal%c ErrFatal%c PMEIntEna%c CRSVisible%c\n", LS_FLAG(w, 0x1),
	       LS_FLAG(w, 0x2), LS_FLAG(w, 0x4), LS_FLAG(w, 0x8), LS_FLAG(w, 0x10));
	w = G32(X_RTSTA);
	printf("\t\tRootSta: PME ReqID %04x, PMEStatus%c PMEPending%c\n", w & RTSTA_PME_REQID, LS_FLAG(w, 0x10000),
	       LS_FLAG(w, 0x20000));
}

static const char *timeout_range(unsigned v)
{
	switch (v) {
	case 0: return "Not Supported";
	case 1: return "Range A";
	case 2: return "Range B";
	case 3: return "Range AB";
	case 6: return "Range BC";
	case 7: return "Range ABC";
	case 14: return "Range BCD";
	case 15: return "Range ABCD";
	default: return "Unknown";
	}
}

static const char *timeout_value(unsigned v)
{
	switch (v) {
	case 0: return "50us to 50ms";
	case 1: return "50us to 100us";
	case 2: return "1ms to 10ms";
	case 5: return "16ms to 55ms";
	case 6: return "65ms to 210ms";
	case 9: return "260ms to 900ms";
	case 10: return "1s to 3.5s";
	case 13: return "4s to 13s";
	case 14: return "17s to 64s";
	default: return "Unknown";
	}
}

/* The device has a memory BAR (lspci asks for atomics only then). */
static int has_mem_bar(const struct ls_dev *d)
{
	for (unsigned i = 0; i < UPCI_NUM_BARS; i++)
		if (d->bar_ok[i] && (d->bars[i].flags & UPCI_BAR_PRESENT) && !(d->bars[i].flags & UPCI_BAR_IO))
			return 1;
	return 0;
}

static void dev2(const struct ls_dev *d, unsigned where, int type)
{
	static const char *const obff_cap[] = {"Not Supported", "Via message", "Via WAKE#", "Via message/WAKE#"};
	static const char *const epr[] = {"Not Supported", "Dev Specific", "Form Factor Dev Specific", "Reserved"};
	static const char *const lncls[] = {"Not Supported", "64byte cachelines", "128byte cachelines", "Reserved"};
	static const char *const tph[] = {"TPHComp- ExtTPHComp-", "TPHComp+ ExtTPHComp-", "", "TPHComp+ ExtTPHComp+"};
	static const char *const obff_ctl[] = {"Disabled", "Via message A", "Via message B", "Via WAKE#"};
	uint32_t l = G32(X_DEVCAP2);
	uint16_t w;
	int mem = has_mem_bar(d), sw = is_type(type, T_ROOT_PORT, T_UPSTREAM, T_DOWNSTREAM);

	printf("\t\tDevCap2: Completion Timeout: %s, TimeoutDis%c NROPrPrP%c LTR%c", timeout_range(DEVCAP2_TIMEOUT(l)),
	       LS_FLAG(l, 0x10), LS_FLAG(l, 0x400), LS_FLAG(l, 0x800));
	printf("\n\t\t\t 10BitTagComp%c 10BitTagReq%c OBFF %s, ExtFmt%c EETLPPrefix%c", LS_FLAG(l, 0x10000),
	       LS_FLAG(l, 0x20000), obff_cap[DEVCAP2_OBFF(l)], LS_FLAG(l, 0x100000), LS_FLAG(l, DEVCAP2_EE_TLP));
	if (l & DEVCAP2_EE_TLP)
		printf(", MaxEETLPPrefixes %u", DEVCAP2_MEE_TLP(l) ? DEVCAP2_MEE_TLP(l) : 4u);
	printf("\n\t\t\t EmergencyPowerReduction %s, EmergencyPowerReductionInit%c", epr[DEVCAP2_EPR(l)],
	       LS_FLAG(l, 0x04000000));
	printf("\n\t\t\t FRS%c", LS_FLAG(l, 0x80000000u));
	if (type == T_ROOT_PORT)
		printf(" LN System CLS %s,", lncls[DEVCAP2_LN_CLS(l)]);
	if (type == T_ROOT_PORT || type == T_ENDPOINT)
		printf(" %s", tph[DEVCAP2_TPH(l)]);
	if (type == T_ROOT_PORT || type == T_DOWNSTREAM)
		printf(" ARIFwd%c\n", LS_FLAG(l, 0x20));
	else
		printf("\n");
	if (sw || mem) {
		printf("\t\t\t AtomicOpsCap:");
		if (sw)
			printf(" Routing%c", LS_FLAG(l, 0x40));
		if (type == T_ROOT_PORT || mem)
			printf(" 32bit%c 64bit%c 128bitCAS%c", LS_FLAG(l, 0x80), LS_FLAG(l, 0x100), LS_FLAG(l, 0x200));
		printf("\n");
	}

	w = G16(X_DEVCTL2);
	printf("\t\tDevCtl2: Completion Timeout: %s, TimeoutDis%c LTR%c 10BitTagReq%c OBFF %s,",
	       timeout_value(DEVCTL2_TIMEOUT(w)), LS_FLAG(w, 0x10), LS_FLAG(w, 0x400), LS_FLAG(w, 0x1000),
	       obff_ctl[DEVCTL2_OBFF(w)]);
	if (type == T_ROOT_PORT || type == T_DOWNSTREAM)
		printf(" ARIFwd%c\n", LS_FLAG(w, 0x20));
	else
		printf("\n");
	if (sw || is_type(type, T_ENDPOINT, T_ROOT_INT_EP, T_LEG_END)) {
		printf("\t\t\t AtomicOpsCtl:");
		if (type == T_ROOT_PORT || is_type(type, T_ENDPOINT, T_ROOT_INT_EP, T_LEG_END))
			printf(" ReqEn%c", LS_FLAG(w, 0x40));
		if (sw)
			printf(" EgressBlck%c", LS_FLAG(w, 0x80));
		printf("\n");
	}
}

static const char *speed_cap2(unsigned v)
{
	if (v & 0x60)
		return "RsvdP";
	if (v & 0x10)
		return "2.5-32GT/s";
	if (v & 0x08)
		return "2.5-16GT/s";
	if (v & 0x04)
		return "2.5-8GT/s";
	if (v & 0x02)
		return "2.5-5GT/s";
	if (v & 0x01)
		return "2.5GT/s";
	return "Unknown";
}

static const char *target_speed(unsigned v)
{
	return v == 0 ? "2.5GT/s" : v <= 6 ? speed(v) : "Unknown";
}

static const char *deemph(unsigned v)
{
	return v == 0 ? "-6dB" : v == 1 ? "-3.5dB" : "Unknown";
}

static const char *compliance_preset(unsigned v)
{
	static const char *const t[] = {
		"-6dB de-emphasis, 0dB preshoot",    "-3.5dB de-emphasis, 0dB preshoot",
		"-4.4dB de-emphasis, 0dB preshoot",  "-2.5dB de-emphasis, 0dB preshoot",
		"0dB de-emphasis, 0dB preshoot",     "0dB de-emphasis, 1.9dB preshoot",
		"0dB de-emphasis, 2.5dB preshoot",   "-6.0dB de-emphasis, 3.5dB preshoot",
		"-3.5dB de-emphasis, 3.5dB preshoot", "0dB de-emphasis, 3.5dB preshoot",
	};
	return v < sizeof(t) / sizeof(t[0]) ? t[v] : "Unknown";
}

static const char *margin(unsigned v)
{
	if (v == 0)
		return "Normal Operating Range";
	if (v == 1)
		return "800-1200mV(full-swing)/400-700mV(half-swing)";
	if (v <= 5)
		return "200-400mV(full-swing)/100-200mV(half-swing)";
	return "Unknown";
}

static const char *crosslink(unsigned v)
{
	static const char *const t[] = {"unsupported", "Upstream Port", "Downstream Port", "incomplete"};
	return t[v & 3];
}

static const char *component(unsigned v)
{
	switch (v) {
	case 0: return "Link Down - Not Determined";
	case 1: return "Link Down - Not Present";
	case 2: return "Link Down - Present";
	case 4: return "Link Up - Present";
	case 5: return "Link Up - Present and DRS Received";
	default: return "Reserved";
	}
}

static void link2(const struct ls_dev *d, unsigned where, int type)
{
	uint32_t l = 0;
	uint16_t w;

	/* Link Capabilities 2 was reserved before PCIe 3.0: lspci skips it
	 * (and LnkCtl2) for endpoints other than function 0 of device 0. */
	if (!(is_type(type, T_ENDPOINT, T_LEG_END, -1) && (d->id->device != 0 || d->id->function != 0))) {
		l = G32(X_LNKCAP2);
		if (l)
			printf("\t\tLnkCap2: Supported Link Speeds: %s, Crosslink%c Retimer%c 2Retimers%c DRS%c\n",
			       speed_cap2(LNKCAP2_SPEED(l)), LS_FLAG(l, 0x100), LS_FLAG(l, 0x800000), LS_FLAG(l, 0x1000000),
			       LS_FLAG(l, LNKCAP2_DRS));
		w = G16(X_LNKCTL2);
		printf("\t\tLnkCtl2: Target Link Speed: %s, EnterCompliance%c SpeedDis%c", target_speed(LNKCTL2_SPEED(w)),
		       LS_FLAG(w, 0x10), LS_FLAG(w, 0x20));
		if (type == T_DOWNSTREAM)
			printf(", Selectable De-emphasis: %s", deemph(LNKCTL2_DEEMPH(w)));
		printf("\n\t\t\t Transmit Margin: %s, EnterModifiedCompliance%c ComplianceSOS%c\n"
		       "\t\t\t Compliance Preset/De-emphasis: %s\n",
		       margin(LNKCTL2_MARGIN(w)), LS_FLAG(w, 0x400), LS_FLAG(w, 0x800), compliance_preset(LNKCTL2_COMDEEMPH(w)));
	}
	w = G16(X_LNKSTA2);
	printf("\t\tLnkSta2: Current De-emphasis Level: %s, EqualizationComplete%c EqualizationPhase1%c\n"
	       "\t\t\t EqualizationPhase2%c EqualizationPhase3%c LinkEqualizationRequest%c\n"
	       "\t\t\t Retimer%c 2Retimers%c CrosslinkRes: %s",
	       deemph(LNKSTA2_DEEMPH(w)), LS_FLAG(w, 0x2), LS_FLAG(w, 0x4), LS_FLAG(w, 0x8), LS_FLAG(w, 0x10),
	       LS_FLAG(w, 0x20), LS_FLAG(w, 0x40), LS_FLAG(w, 0x80), crosslink(LNKSTA2_CROSSLINK(w)));
	if (is_type(type, T_ROOT_PORT, T_DOWNSTREAM, T_PCIE_BRIDGE) && (l & LNKCAP2_DRS))
		printf(", DRS%c\n\t\t\t DownstreamComp: %s\n", LS_FLAG(w, 0x8000), component(LNKSTA2_COMPONENT(w)));
	else
		printf("\n");
}

int ls_express(const struct ls_dev *d, unsigned where, uint16_t cap)
{
	int type = (cap & X_FLAGS_TYPE) >> X_FLAGS_TYPE_SHIFT, slt = 0, lnk = 1;
	unsigned size;

	printf("Express (v%u) ", cap & X_FLAGS_VERS);
	switch (type) {
	case T_ENDPOINT: printf("Endpoint"); break;
	case T_LEG_END: printf("Legacy Endpoint"); break;
	case T_ROOT_PORT:
		slt = (cap & X_FLAGS_SLOT) != 0;
		printf("Root Port (Slot%c)", LS_FLAG(cap, X_FLAGS_SLOT));
		break;
	case T_UPSTREAM: printf("Upstream Port"); break;
	case T_DOWNSTREAM:
		slt = (cap & X_FLAGS_SLOT) != 0;
		printf("Downstream Port (Slot%c)", LS_FLAG(cap, X_FLAGS_SLOT));
		break;
	case T_PCI_BRIDGE: printf("PCI-Express to PCI/PCI-X Bridge"); break;
	case T_PCIE_BRIDGE:
		slt = (cap & X_FLAGS_SLOT) != 0;
		printf("PCI/PCI-X to PCI-Express Bridge (Slot%c)", LS_FLAG(cap, X_FLAGS_SLOT));
		break;
	case T_ROOT_INT_EP:
		lnk = 0;
		printf("Root Complex Integrated Endpoint");
		break;
	case T_ROOT_EC:
		lnk = 0;
		printf("Root Complex Event Collector");
		break;
	default: printf("Unknown type %d", type);
	}
	printf(", MSI %02x\n", (cap & X_FLAGS_IRQ) >> X_FLAGS_IRQ_SHIFT);

	size = slt ? 24 : 16;
	if (type == T_ROOT_PORT || type == T_ROOT_EC)
		size = 32;
	if (where + X_DEVCAP + size > d->readable)
		return type;
	dev(d, where, type);
	if (lnk)
		link(d, where, type);
	if (slt)
		slot(d, where);
	if (type == T_ROOT_PORT || type == T_ROOT_EC)
		root(d, where);
	if ((cap & X_FLAGS_VERS) < 2)
		return type;
	if (where + X_DEVCAP2 + (slt ? 24u : 16u) > d->readable)
		return type;
	dev2(d, where, type);
	if (lnk)
		link2(d, where, type);
	return type;
}
