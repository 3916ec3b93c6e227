#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the server fuzzers (fuzz/corpus/server/ for
fuzz_server, fuzz/corpus/sock/ for fuzz_sock): vfio-user conversations of a
hostile client in the record format documented in fuzz/hostile.h. Run it
again after changing that format:
    python3 fuzz/gen_corpus.py
"""
import os
import struct
import sys

VERSION, DMA_MAP, DMA_UNMAP, GET_INFO, REGION_INFO, IO_FDS, IRQ_INFO, SET_IRQS = range(1, 9)
REGION_READ, REGION_WRITE, DMA_READ, DMA_WRITE, RESET = range(9, 14)
WRITE_MULTI = 15
REPLY, NO_REPLY = 0x1, 0x10
# enum hostile_kind (fuzz/hostile.h)
(MEM64K, MEM4K, MEM2M, MEM_SEALED, MEM_RDONLY, MEM_PATH, EVENT, EVENT_BLOCK, EVENT_FULL,
 PIPE_W, PIPE_R, DIR, SOCK, DISK, PROC, DEVZERO) = range(16)
# byte 0 and the record ops (fuzz/hostile.h)
IN_EDU, IN_READAHEAD, IN_DRAIN = 1, 2, 4
OP_PAUSE, OP_ACTIONS = 0x80, 0xc0
# hostile_act
A_SHRINK, A_SHRINK_IN_DMA, A_FILL_EVENT, A_DRAIN_EVENT, A_TOGGLE_NONBLOCK, A_FILL, A_CHANGE_KIND, A_REGROW = range(8)
A_RESIZE_SERVER_FDS = 12
# sizes[] of hostile.c
SZ_0, SZ_PAGE, SZ_2PAGES, SZ_3PAGES, SZ_32K, SZ_60K, SZ_64K, SZ_2M = range(8)
CFG = 7
CAPS = b'{"capabilities":{"max_msg_fds":8,"max_data_xfer_size":4096,"write_multiple":true}}\0'


class Conv:
    def __init__(self, dev):
        self.out = bytes([dev])
        self.id = 0

    def raw(self, data, fds=(), conn=0):
        """One sendmsg of connection @conn with fds of the kinds @fds."""
        assert (len(fds) < 15 or len(fds) == 20) and conn < 8
        nibble = 15 if len(fds) == 20 else len(fds)  # 15 stands for 20 (NFDS_MANY)
        self.out += struct.pack('<BH', nibble | conn << 4, len(fds) + len(data)) + bytes(fds) + data

    def pause(self, ms):
        self.out += struct.pack('<BH', OP_PAUSE, ms)

    def act(self, what, a1=0, a2=0, a3=0):
        self.out += struct.pack('<BHBBBB', OP_ACTIONS, 4, what, a1, a2, a3)

    def msg(self, cmd, payload=b'', fds=(), flags=0, msg_id=None):
        if msg_id is None:
            msg_id = self.id
            self.id += 1
        self.raw(struct.pack('<HHIII', msg_id, cmd, 16 + len(payload), flags, 0) + payload, fds)

    def version(self):
        self.msg(VERSION, struct.pack('<HH', 0, 0) + CAPS)

    def read(self, region, off, count):
        self.msg(REGION_READ, struct.pack('<QII', off, region, count))

    def write(self, region, off, data, flags=0):
        self.msg(REGION_WRITE, struct.pack('<QII', off, region, len(data)) + data, flags=flags)

    def w32(self, region, off, val):
        self.write(region, off, struct.pack('<I', val))

    def w64(self, region, off, val):
        self.write(region, off, struct.pack('<Q', val))

    def master(self):
        self.write(CFG, 4, struct.pack('<H', 0x6))

    def dma_map(self, iova, size, off=0, flags=3, fds=()):
        self.msg(DMA_MAP, struct.pack('<IIQQQ', 32, flags, off, iova, size), fds=fds)

    def dma_unmap(self, iova, size, flags=0):
        self.msg(DMA_UNMAP, struct.pack('<IIQQ', 24, flags, iova, size))

    def set_irqs(self, flags, index, start, count, data=b'', fds=()):
        self.msg(SET_IRQS, struct.pack('<IIIII', 20 + len(data), flags, index, start, count) + data, fds=fds)

    def reply(self, cmd, msg_id, payload=b''):
        self.raw(struct.pack('<HHIII', msg_id, cmd, 16 + len(payload), REPLY, 0) + payload)


# The DMA_READ reply with testdev's one descriptor at 0x100000: 16 bytes
# of client memory at 0x100100 into BAR2.
INBAND_DESC = struct.pack('<QQ', 0x100000, 32) + struct.pack('<QQIIII', 0x100100, 0, 16, 2, 0, 0)


def inband_start():
    """testdev with memory lent without an fd (in-band DMA) at 0x100000,
    started on a one-descriptor list there."""
    c = Conv(0)
    c.version()
    c.master()
    c.dma_map(0x100000, 0x10000)
    c.w64(0, 0x20, 0x100000)
    c.w32(0, 0x28, 1)
    c.w32(0, 0x2c, 1)
    return c


def seeds():
    out = {}

    c = Conv(0)
    c.version()
    out['td_version'] = c

    c = Conv(0)
    c.version()
    c.msg(GET_INFO, struct.pack('<IIII', 16, 0, 0, 0))
    for i in range(9):
        c.msg(REGION_INFO, struct.pack('<IIIIQQ', 256, 0, i, 0, 0, 0))
    c.msg(REGION_INFO, struct.pack('<IIIIQQ', 32, 0, 2, 0, 0, 0))
    for i in range(5):
        c.msg(IRQ_INFO, struct.pack('<IIII', 16, 0, i, 0))
    c.msg(IO_FDS, struct.pack('<IIII', 256, 0, 0, 0))
    out['td_info'] = c

    c = Conv(0)
    c.version()
    c.w32(0, 0x0c, 0x12345678)
    c.read(0, 0x0c, 4)
    c.write(2, 0x101, bytes(range(13)))
    c.read(2, 0x100, 64)
    c.read(CFG, 0, 256)
    c.write(CFG, 0x3c, b'\x0b')
    multi = struct.pack('<Q', 2)
    multi += struct.pack('<QII', 0x0c, 0, 4) + struct.pack('<Q', 7)
    multi += struct.pack('<QII', 0x10, 2, 8) + b'ABCDEFGH'
    c.msg(WRITE_MULTI, multi)
    c.write(0, 0x0c, b'\x01\x00\x00\x00', flags=NO_REPLY)
    c.msg(RESET)
    out['td_region_rw'] = c

    c = Conv(0)
    c.version()
    c.master()
    c.dma_map(0x10000, 0x10000, fds=[MEM64K])
    c.dma_map(0x20000, 0x1000, fds=[MEM4K])
    c.dma_map(0x30000, 0x1000, flags=1)
    # BAR2 -> memory: a descriptor written by the device itself
    desc = struct.pack('<QQIIII', 0, 0x10100, 32, 1, 0, 0)
    c.write(2, 0, desc)
    c.w64(0, 0x20, 0x10000)
    c.w32(0, 0x28, 1)
    c.w32(0, 0x2c, 1)
    c.read(0, 0x30, 4)
    c.dma_unmap(0x20000, 0x1000)
    c.dma_unmap(0x10000, 0x1000)
    c.dma_unmap(0, 0, flags=2)
    out['td_dma_fd'] = c

    # the device asks for the descriptor (DMA_READ id 0), copies 16 bytes
    # of client memory into BAR2 (DMA_READ id 1), writes the status (DMA_WRITE id 2)
    c = inband_start()
    c.reply(DMA_READ, 0, INBAND_DESC)
    c.reply(DMA_READ, 1, struct.pack('<QQ', 0x100100, 16) + bytes(range(16)))
    c.reply(DMA_WRITE, 2, struct.pack('<QQ', 0x100018, 4))
    c.read(2, 0, 16)
    out['td_dma_inband'] = c

    c = Conv(0)
    c.version()
    c.master()
    trig_efd = 0x24
    c.set_irqs(trig_efd, 2, 0, 1, fds=[EVENT])
    c.set_irqs(trig_efd, 2, 1, 2, fds=[EVENT, PIPE_W])
    c.w32(0, 0x18, 0)
    c.set_irqs(0x09, 2, 0, 1)            # NONE|MASK
    c.w32(0, 0x18, 0)
    c.set_irqs(0x11, 2, 0, 1)            # NONE|UNMASK
    c.set_irqs(0x0a, 2, 0, 2, b'\x01\x00')  # BOOL|MASK
    c.set_irqs(0x14, 2, 3, 1, fds=[EVENT])  # EVENTFD|UNMASK
    c.set_irqs(0x21, 2, 0, 1)            # NONE|TRIGGER
    c.set_irqs(trig_efd, 2, 0, 1)        # de-assign
    c.set_irqs(trig_efd, 3, 0, 1, fds=[EVENT])  # ERR
    c.set_irqs(0x21, 2, 0, 0)            # disable
    out['td_irq'] = c

    c = Conv(0)
    c.version()
    c.msg(GET_INFO, struct.pack('<IIII', 16, 0, 0, 0), flags=0x100)
    c.msg(99)
    c.msg(GET_INFO, struct.pack('<IIII', 16, 0, 0, 0), fds=[EVENT])
    c.msg(REGION_READ, struct.pack('<QII', 0, 42, 4), flags=NO_REPLY)
    c.reply(GET_INFO, 5)
    c.reply(DMA_READ, 9)
    c.msg(VERSION, struct.pack('<HH', 0, 0))
    c.msg(DMA_MAP, struct.pack('<IIQQQ', 32, 3, 0, 0x1000, 0x1000), fds=[PIPE_W])
    out['td_bad'] = c

    c = Conv(1)
    c.version()
    c.master()
    c.read(0, 0, 4)
    c.dma_map(0x10000, 0x10000, fds=[MEM64K])
    c.w64(0, 0x80, 0x10000)
    c.w64(0, 0x88, 0x40000)
    c.w64(0, 0x90, 64)
    c.w64(0, 0x98, 1)
    c.w64(0, 0x80, 0x40000)
    c.w64(0, 0x88, 0x10800)
    c.w64(0, 0x98, 3)
    c.read(0, 0xa0, 4)
    out['edu_dma'] = c

    c = Conv(1)
    c.version()
    c.set_irqs(0x24, 0, 0, 1, fds=[EVENT])
    c.w32(0, 0x60, 1)
    c.set_irqs(0x11, 0, 0, 1)
    c.w32(0, 0x64, 1)
    c.master()
    c.set_irqs(0x24, 1, 0, 1, fds=[EVENT])
    c.w32(0, 0x60, 1)
    c.w32(0, 0x08, 5)
    c.read(0, 0x08, 4)
    out['edu_irq'] = c

    # ---- hostile fds and time (hostile.h) ----
    iova = 0x10000  # HOSTILE_IOVA: the memfds start with 3 descriptors for it

    def memfd_mapped(dev):
        c = Conv(dev)
        c.version()
        c.master()
        c.dma_map(iova, 0x10000, fds=[MEM64K])
        return c

    def td_run(c, count=3):
        c.w64(0, 0x20, iova)
        c.w32(0, 0x28, count)
        c.w32(0, 0x2c, 3)  # START | IRQ_EN
        c.read(0, 0x30, 4)
        c.read(0, 0x4c, 4)

    # the memfd shrinks after DMA_MAP, before the device's DMA
    c = memfd_mapped(0)
    td_run(c)
    c.act(A_SHRINK, MEM64K, SZ_0)
    td_run(c)
    c.act(A_REGROW, MEM64K)
    td_run(c)
    out['td_shrunk'] = c

    # ... and in the middle of it: in the device's 2nd copy, to a size
    # that cuts a copy in two
    c = memfd_mapped(0)
    c.act(A_SHRINK_IN_DMA, MEM64K, SZ_2PAGES, 1)
    td_run(c)
    c.act(A_SHRINK_IN_DMA, MEM64K, SZ_0, 0)
    td_run(c)
    out['td_shrunk_in_dma'] = c

    c = memfd_mapped(1)
    c.w64(0, 0x80, iova + 0x800)
    c.w64(0, 0x88, 0x40000)
    c.w64(0, 0x90, 4096)
    c.act(A_SHRINK_IN_DMA, MEM64K, SZ_PAGE, 0)
    c.w64(0, 0x98, 1)
    c.read(0, 0xa0, 8)
    out['edu_shrunk_in_dma'] = c

    # every kind of fd the menu has, offered to DMA_MAP
    c = Conv(0)
    c.version()
    for i, k in enumerate([MEM4K, MEM2M, MEM_SEALED, MEM_RDONLY, MEM_PATH, EVENT, PIPE_W, PIPE_R, DIR,
                           SOCK, DISK, PROC, DEVZERO]):
        c.dma_map(0x100000 * (i + 1), 0x1000, fds=[k])
    c.dma_map(0x2000000, 0x1000, flags=1, fds=[MEM_RDONLY])
    c.dma_map(0x3000000, 0x200000, fds=[MEM2M])
    c.dma_map(0x4000000, 0x1000, fds=[MEM64K, MEM4K])
    out['td_fd_kinds'] = c

    # full blocking eventfds: signalled by the device and by the client's
    # own TRIGGER; then one that becomes a full pipe under the server
    c = Conv(0)
    c.version()
    c.master()
    trig_efd = 0x24
    c.set_irqs(trig_efd, 2, 0, 4, fds=[EVENT_FULL, EVENT_BLOCK, EVENT, EVENT_FULL])
    c.act(A_FILL_EVENT, EVENT_BLOCK)
    for v in range(4):
        c.w32(0, 0x18, v)
    c.set_irqs(0x21, 2, 0, 4)  # NONE|TRIGGER: the server writes them itself
    c.set_irqs(0x14, 2, 0, 2, fds=[EVENT_FULL, EVENT_FULL])  # EVENTFD|UNMASK
    c.set_irqs(0x09, 2, 0, 2)  # NONE|MASK
    c.set_irqs(0x11, 2, 0, 2)  # NONE|UNMASK: signals the unmask fds
    c.act(A_CHANGE_KIND, 0, PIPE_W)
    c.act(A_CHANGE_KIND, 1, SOCK)
    c.act(A_CHANGE_KIND, 2, MEM64K)
    c.act(A_CHANGE_KIND, 3, DIR)
    for v in range(4):
        c.w32(0, 0x18, v)
    c.act(A_DRAIN_EVENT, EVENT_FULL)
    c.act(A_TOGGLE_NONBLOCK, EVENT_FULL)
    c.w32(0, 0x18, 0)
    out['td_irq_full'] = c

    # time: the client does not answer the device's DMA_READ for 6 s (the
    # timeout is 5 s), answers late, then stalls 6 s inside a message
    c = inband_start()
    c.pause(6000)
    c.reply(DMA_READ, 0, INBAND_DESC)
    c.pause(3000)
    c.read(0, 0x4c, 4)
    hdr = struct.pack('<HHIII', 99, REGION_READ, 32, 0, 0)
    c.raw(hdr[:8])
    c.pause(6000)
    c.raw(hdr[8:] + struct.pack('<QII', 0, 0, 4))
    out['td_time'] = c

    # a reset while eventfds are assigned: the server points the device at
    # them again
    c = Conv(0)
    c.version()
    c.master()
    c.set_irqs(0x24, 2, 0, 2, fds=[EVENT, EVENT_BLOCK])
    c.msg(RESET)
    c.master()
    c.w32(0, 0x18, 1)
    c.set_irqs(0x24, 0, 0, 1, fds=[EVENT])
    c.msg(RESET)
    out['td_reset_irqs'] = c

    # the edu server's small limits: 4 KiB transfers (in-band DMA in
    # chunks, oversized messages skipped), 8 maps, 4 fds a message
    c = Conv(1)
    c.version()
    c.master()
    for i in range(9):
        c.dma_map(0x100000 + i * 0x10000, 0x10000)
    c.w64(0, 0x80, 0x100000)
    c.w64(0, 0x88, 0x40000)
    c.w64(0, 0x90, 4096)
    c.w64(0, 0x98, 1)
    c.reply(DMA_READ, 0, struct.pack('<QQ', 0x100000, 4096) + bytes(4096))
    c.write(0, 0x0, bytes(5000))
    c.set_irqs(0x24, 1, 0, 1, fds=[EVENT] * 5)
    out['edu_limits'] = c

    # the BAR fd the server hands out, shrunk and grown by the client (it
    # is sealed), then BAR2 used
    c = Conv(0)
    c.version()
    c.msg(REGION_INFO, struct.pack('<IIIIQQ', 256, 0, 2, 0, 0, 0))
    c.act(A_RESIZE_SERVER_FDS, 0, 0)
    c.read(2, 0x100, 64)
    c.msg(REGION_INFO, struct.pack('<IIIIQQ', 256, 0, 2, 0, 0, 0))
    c.act(A_RESIZE_SERVER_FDS, 0, 1)
    c.write(2, 0xff00, bytes(range(64)))
    out['td_bar_fd_resized'] = c
    return out


# the socket fuzzer's own actions (fuzz_sock.c)
S_STOP, S_CLOSE, S_SHUT_WR, S_DRAIN = 8, 9, 10, 11


def sock_seeds():
    """Conversations only the socket fuzzer can have: newcomers, stops,
    hang-ups, fds that ride across message boundaries."""
    out = {}

    # newcomers while a client is served: one speaks (EBUSY), one waits
    # silently and is served after the client leaves, one trickles half a
    # header, one more than the server holds
    c = Conv(0)
    c.version()
    hdr = struct.pack('<HHIII', 0, VERSION, 16 + 4 + len(CAPS), 0, 0) + struct.pack('<HH', 0, 0) + CAPS
    c.raw(hdr, conn=1)
    c.raw(b'', conn=2)
    c.raw(hdr[:7], conn=3)
    c.raw(hdr, conn=4)
    c.pause(500)
    c.read(CFG, 0, 4)
    c.act(S_CLOSE, 0)
    c.raw(hdr, conn=2)
    c.pause(1500)
    c.act(S_DRAIN, 2)
    out['sock_newcomers'] = c

    # a stop while a write to a full blocking eventfd holds the session
    c = Conv(IN_DRAIN)
    c.version()
    c.master()
    c.set_irqs(0x24, 2, 0, 2, fds=[EVENT_FULL, EVENT_FULL])
    c.w32(0, 0x18, 0)
    c.w32(0, 0x18, 1)
    c.pause(1)  # the server took it all and waits
    c.act(S_STOP)
    c.read(CFG, 0, 4)
    out['sock_stop_busy'] = c

    # the same, but time passes first: the watcher's 50 ms look interrupts
    # the write, later writes are guarded
    c = Conv(0)
    c.version()
    c.master()
    c.set_irqs(0x24, 2, 0, 2, fds=[EVENT_FULL, EVENT_FULL])
    c.w32(0, 0x18, 0)
    c.pause(60)
    c.w32(0, 0x18, 1)
    c.w32(0, 0x18, 1)
    c.pause(60)
    c.read(CFG, 0, 4)
    out['sock_full_eventfd'] = c

    # interrupts the watcher relays: vector 0 has an eventfd, 3 does not
    c = Conv(0)
    c.version()
    c.master()
    c.set_irqs(0x24, 2, 0, 1, fds=[EVENT])
    c.w32(0, 0x18, 3)
    c.w32(0, 0x18, 0)
    c.pause(10)
    c.set_irqs(0x24, 2, 3, 1, fds=[EVENT])
    c.w32(0, 0x18, 3)
    out['sock_relay'] = c

    # fds on a sendmsg that holds the end of one message and the start of
    # the next (read-ahead gives them to the later one); too many fds; a
    # client that reads nothing and then shuts its side
    c = Conv(0)
    c.version()
    m1 = struct.pack('<HHIII', 1, DMA_MAP, 48, 0, 0) + struct.pack('<IIQQQ', 32, 3, 0, iova_s, 0x10000)
    m2 = struct.pack('<HHIII', 2, DMA_MAP, 48, 0, 0) + struct.pack('<IIQQQ', 32, 3, 0, iova_s + 0x10000, 0x10000)
    c.raw(m1[:20])
    c.raw(m1[20:] + m2[:10], fds=[MEM64K])
    c.raw(m2[10:])
    c.raw(m1[:16], fds=[MEM64K] * 16 + [EVENT] * 4)
    c.raw(m1[16:])
    for i in range(40):
        c.read(CFG, 0, 256)
    c.act(S_SHUT_WR, 0)
    out['sock_fds_split'] = c

    # a client that does not read its replies: the server's sends block,
    # then time out
    c = Conv(0)
    c.version()
    for i in range(8):
        c.read(2, 0, 0x10000)
    c.pause(6000)
    out['sock_no_reader'] = c

    # a stop in the middle of a long REGION_WRITE_MULTI
    c = Conv(0)
    c.version()
    multi = struct.pack('<Q', 200)
    for i in range(200):
        multi += struct.pack('<QII', 0x0c, 0, 4) + struct.pack('<Q', i)
    c.msg(WRITE_MULTI, multi)
    c.act(S_STOP)
    out['sock_multi_stop'] = c
    return out


iova_s = 0x10000


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    d = os.path.join(here, 'corpus', 'server')
    os.makedirs(d, exist_ok=True)
    for name, conv in seeds().items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(conv.out)
    # the socket fuzzer starts from both
    d = os.path.join(here, 'corpus', 'sock')
    os.makedirs(d, exist_ok=True)
    for name, conv in list(seeds().items()) + list(sock_seeds().items()):
        with open(os.path.join(d, name), 'wb') as f:
            f.write(conv.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
