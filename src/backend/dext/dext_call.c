/* SPDX-License-Identifier: MIT */
/*
 * The driver's selectors, one function each: build the scalar inputs in
 * the protocol's order, check the number of outputs, decode them by name.
 * Every call is a scalar-only IOConnectCallScalarMethod; WaitInterrupt is
 * the one asynchronous call.
 */
#include <errno.h>
#include <string.h>

#include "dext.h"
#include "log.h"

static int call(io_connect_t c, uint32_t sel, const uint64_t *in, uint32_t nin, uint64_t *out, uint32_t nout)
{
	uint32_t n = nout;
	kern_return_t kr;

	kr = IOConnectCallScalarMethod(c, sel, nin ? in : NULL, nin, nout ? out : NULL, nout ? &n : NULL);
	if (kr != kIOReturnSuccess) {
		LOG_DBG("dext: selector %u: %s", sel, dext_kr_name(kr));
		return dext_errno(kr);
	}
	if (n != nout) {
		LOG_ERR("dext: selector %u returned %u outputs, the protocol has %u", sel, n, nout);
		return -EPROTO;
	}
	return 0;
}

int dext_get_identity(io_connect_t c, struct dext_identity *id)
{
	uint64_t out[DEXT_IDENT_NOUT];
	int ret = call(c, DEXT_SEL_GET_IDENTITY, NULL, 0, out, DEXT_IDENT_NOUT);

	if (ret)
		return ret;
	id->bus = (uint8_t)out[DEXT_IDENT_OUT_BUS];
	id->dev = (uint8_t)out[DEXT_IDENT_OUT_DEV];
	id->fn = (uint8_t)out[DEXT_IDENT_OUT_FN];
	id->vendor = (uint16_t)out[DEXT_IDENT_OUT_VENDOR];
	id->device = (uint16_t)out[DEXT_IDENT_OUT_DEVICE];
	id->class_code = (uint32_t)out[DEXT_IDENT_OUT_CLASS] & 0xffffffu;
	return 0;
}

int dext_claim(io_connect_t c)
{
	return call(c, DEXT_SEL_CLAIM, NULL, 0, NULL, 0);
}

int dext_terminate(io_connect_t c)
{
	return call(c, DEXT_SEL_TERMINATE, NULL, 0, NULL, 0);
}

int dext_alloc_dma_buffer(io_connect_t c, uint64_t size, uint64_t align, struct dext_dma_buffer *b)
{
	uint64_t in[DEXT_ALLOC_NIN], out[DEXT_ALLOC_NOUT];
	int ret;

	in[DEXT_ALLOC_IN_SIZE] = size;
	in[DEXT_ALLOC_IN_ALIGN] = align;
	ret = call(c, DEXT_SEL_ALLOC_DMA_BUFFER, in, DEXT_ALLOC_NIN, out, DEXT_ALLOC_NOUT);
	if (ret)
		return ret;
	b->size = out[DEXT_ALLOC_OUT_SIZE];
	b->flags = out[DEXT_ALLOC_OUT_FLAGS];
	b->nseg = out[DEXT_ALLOC_OUT_NSEG];
	b->seg0_addr = out[DEXT_ALLOC_OUT_SEG0_ADDR];
	b->seg0_len = out[DEXT_ALLOC_OUT_SEG0_LEN];
	b->class_code = (uint32_t)out[DEXT_ALLOC_OUT_CLASS] & 0xffffffu;
	return 0;
}

int dext_free_dma_buffer(io_connect_t c)
{
	return call(c, DEXT_SEL_FREE_DMA_BUFFER, NULL, 0, NULL, 0);
}

int dext_register_dma(io_connect_t c, uint64_t iova, uint64_t va, uint64_t size, uint64_t *bus, uint64_t *bus_len)
{
	uint64_t in[DEXT_REG_NIN], out[DEXT_REG_NOUT];
	int ret;

	in[DEXT_REG_IN_IOVA] = iova;
	in[DEXT_REG_IN_VA] = va;
	in[DEXT_REG_IN_SIZE] = size;
	ret = call(c, DEXT_SEL_REGISTER_DMA, in, DEXT_REG_NIN, out, DEXT_REG_NOUT);
	if (ret)
		return ret;
	if (out[DEXT_REG_OUT_NSEG] != 1) {
		/* The driver accepts one segment per chunk and reports one. */
		LOG_ERR("dext: RegisterDMARegion reported %llu segments, expected 1",
			(unsigned long long)out[DEXT_REG_OUT_NSEG]);
		dext_unregister_dma(c, iova);
		return -EPROTO;
	}
	*bus = out[DEXT_REG_OUT_BUS];
	*bus_len = out[DEXT_REG_OUT_BUS_LEN];
	return 0;
}

int dext_unregister_dma(io_connect_t c, uint64_t iova)
{
	uint64_t in[DEXT_UNREG_NIN];

	in[DEXT_UNREG_IN_IOVA] = iova;
	return call(c, DEXT_SEL_UNREGISTER_DMA, in, DEXT_UNREG_NIN, NULL, 0);
}

int dext_probe_dma(io_connect_t c, uint64_t iova, uint64_t off, uint64_t *word)
{
	uint64_t in[DEXT_PROBE_NIN], out[DEXT_PROBE_NOUT];
	int ret;

	in[DEXT_PROBE_IN_IOVA] = iova;
	in[DEXT_PROBE_IN_OFFSET] = off;
	ret = call(c, DEXT_SEL_PROBE_DMA, in, DEXT_PROBE_NIN, out, DEXT_PROBE_NOUT);
	if (ret == 0)
		*word = out[DEXT_PROBE_OUT_WORD];
	return ret;
}

static uint64_t width_mask(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1;
}

int dext_config_read(io_connect_t c, uint32_t off, unsigned width, uint32_t *val)
{
	uint64_t in[DEXT_CFGRD_NIN], out[DEXT_CFGRD_NOUT];
	int ret;

	in[DEXT_CFGRD_IN_OFFSET] = off;
	in[DEXT_CFGRD_IN_WIDTH] = width;
	ret = call(c, DEXT_SEL_CONFIG_READ, in, DEXT_CFGRD_NIN, out, DEXT_CFGRD_NOUT);
	if (ret == 0)
		*val = (uint32_t)(out[DEXT_CFGRD_OUT_VALUE] & width_mask(width));
	return ret;
}

int dext_config_write(io_connect_t c, uint32_t off, unsigned width, uint32_t val)
{
	uint64_t in[DEXT_CFGWR_NIN];

	in[DEXT_CFGWR_IN_OFFSET] = off;
	in[DEXT_CFGWR_IN_WIDTH] = width;
	in[DEXT_CFGWR_IN_VALUE] = val;
	return call(c, DEXT_SEL_CONFIG_WRITE, in, DEXT_CFGWR_NIN, NULL, 0);
}

int dext_bar_info(io_connect_t c, unsigned bar, struct dext_bar *b)
{
	uint64_t in[DEXT_BARINFO_NIN], out[DEXT_BARINFO_NOUT];
	int ret;

	in[DEXT_BARINFO_IN_BAR] = bar;
	ret = call(c, DEXT_SEL_BAR_INFO, in, DEXT_BARINFO_NIN, out, DEXT_BARINFO_NOUT);
	if (ret)
		return ret;
	b->memidx = (uint8_t)out[DEXT_BARINFO_OUT_MEMIDX];
	b->size = out[DEXT_BARINFO_OUT_SIZE];
	b->type = (uint8_t)out[DEXT_BARINFO_OUT_TYPE];
	return 0;
}

int dext_mmio_read(io_connect_t c, unsigned memidx, uint64_t off, unsigned width, uint64_t *val)
{
	uint64_t in[DEXT_MMIORD_NIN], out[DEXT_MMIORD_NOUT];
	int ret;

	in[DEXT_MMIORD_IN_MEMIDX] = memidx;
	in[DEXT_MMIORD_IN_OFFSET] = off;
	in[DEXT_MMIORD_IN_WIDTH] = width;
	ret = call(c, DEXT_SEL_MMIO_READ, in, DEXT_MMIORD_NIN, out, DEXT_MMIORD_NOUT);
	if (ret == 0)
		*val = out[DEXT_MMIORD_OUT_VALUE] & width_mask(width);
	return ret;
}

int dext_mmio_write(io_connect_t c, unsigned memidx, uint64_t off, unsigned width, uint64_t val)
{
	uint64_t in[DEXT_MMIOWR_NIN];

	in[DEXT_MMIOWR_IN_MEMIDX] = memidx;
	in[DEXT_MMIOWR_IN_OFFSET] = off;
	in[DEXT_MMIOWR_IN_WIDTH] = width;
	in[DEXT_MMIOWR_IN_VALUE] = val;
	return call(c, DEXT_SEL_MMIO_WRITE, in, DEXT_MMIOWR_NIN, NULL, 0);
}

int dext_setup_interrupts(io_connect_t c, unsigned *nvec)
{
	uint64_t out[DEXT_SETUPIRQ_NOUT];
	int ret = call(c, DEXT_SEL_SETUP_INTERRUPTS, NULL, 0, out, DEXT_SETUPIRQ_NOUT);

	if (ret == 0)
		*nvec = out[DEXT_SETUPIRQ_OUT_NVEC] > DEXT_MAX_VECTORS ? DEXT_MAX_VECTORS
								       : (unsigned)out[DEXT_SETUPIRQ_OUT_NVEC];
	return ret;
}

int dext_check_interrupt(io_connect_t c, uint64_t pending[DEXT_IRQ_WORDS])
{
	return call(c, DEXT_SEL_CHECK_INTERRUPT, NULL, 0, pending, DEXT_IRQ_WORDS);
}

int dext_wait_interrupt(io_connect_t c, mach_port_t port, IOAsyncCallback cb, void *refcon)
{
	io_async_ref64_t ref;
	kern_return_t kr;

	memset(ref, 0, sizeof(ref));
	ref[kIOAsyncCalloutFuncIndex] = (io_user_reference_t)(uintptr_t)cb;
	ref[kIOAsyncCalloutRefconIndex] = (io_user_reference_t)(uintptr_t)refcon;
	kr = IOConnectCallAsyncScalarMethod(c, DEXT_SEL_WAIT_INTERRUPT, port, ref, kIOAsyncCalloutCount, NULL, 0,
					    NULL, NULL);
	if (kr != kIOReturnSuccess)
		LOG_DBG("dext: WaitInterrupt: %s", dext_kr_name(kr));
	return dext_errno(kr);
}

int dext_set_irq_mask(io_connect_t c, const uint64_t mask[DEXT_IRQ_WORDS])
{
	return call(c, DEXT_SEL_SET_IRQ_MASK, mask, DEXT_IRQ_WORDS, NULL, 0);
}

int dext_reset_device(io_connect_t c)
{
	return call(c, DEXT_SEL_RESET_DEVICE, NULL, 0, NULL, 0);
}

IOOptionBits dext_bar_map_options(uint8_t bar_type)
{
	/* Prefetchable memory tolerates merged writes; registers do not. */
	if (!(bar_type & DEXT_BAR_TYPE_IO) && (bar_type & DEXT_BAR_TYPE_PREFETCH))
		return kIOMapAnywhere | kIOMapWriteCombineCache;
	return kIOMapAnywhere | kIOMapDefaultCache;
}

int dext_map(io_connect_t c, uint32_t mem_type, IOOptionBits opts, void **addr, uint64_t *size)
{
	mach_vm_address_t a = 0;
	mach_vm_size_t s = 0;
	kern_return_t kr;

	kr = IOConnectMapMemory64(c, mem_type, mach_task_self(), &a, &s, opts | kIOMapAnywhere);
	if (kr != kIOReturnSuccess) {
		LOG_DBG("dext: mapping memory type %u: %s", mem_type, dext_kr_name(kr));
		return dext_errno(kr);
	}
	*addr = (void *)(uintptr_t)a;
	if (size)
		*size = s;
	return 0;
}

int dext_unmap(io_connect_t c, uint32_t mem_type, void *addr)
{
	kern_return_t kr = IOConnectUnmapMemory64(c, mem_type, mach_task_self(), (mach_vm_address_t)(uintptr_t)addr);

	if (kr != kIOReturnSuccess)
		LOG_WARN("dext: unmapping memory type %u: %s", mem_type, dext_kr_name(kr));
	return dext_errno(kr);
}
