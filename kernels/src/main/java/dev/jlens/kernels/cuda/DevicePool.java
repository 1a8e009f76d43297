package dev.jlens.kernels.cuda;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * GPU memory for {@link DeviceBuffer}s, reused by size as PyTorch's caching allocator does: a
 * training step asks for the same sizes every time, and cuMemAlloc/cuMemFree synchronise the GPU.
 * A buffer returns here when the garbage collector finds it unreachable; since the Java heap barely
 * moves while the GPU fills, the pool asks for a collection itself when the memory held by live
 * and dead-but-uncollected buffers nears the card's size.
 */
final class DevicePool {
    private static final long ALIGN = 512;

    private final Cuda cuda;
    private final long softLimit;
    private final ReferenceQueue<DeviceBuffer> dead = new ReferenceQueue<>();
    private final Map<Long, Block> live = new HashMap<>();
    private final Map<Long, ArrayDeque<Long>> idle = new HashMap<>();
    private long liveBytes, idleBytes;

    /** What a live buffer owns, kept after the buffer itself is unreachable. */
    private static final class Block extends PhantomReference<DeviceBuffer> {
        final long address, bytes;

        Block(DeviceBuffer buffer, ReferenceQueue<DeviceBuffer> queue, long bytes) {
            super(buffer, queue);
            this.address = buffer.address();
            this.bytes = bytes;
        }
    }

    DevicePool(Cuda cuda, long totalBytes) {
        this.cuda = cuda;
        this.softLimit = totalBytes / 10 * 8;
    }

    synchronized DeviceBuffer allocate(long floats) {
        long bytes = Math.max(ALIGN, (4 * floats + ALIGN - 1) / ALIGN * ALIGN);
        reclaim();
        Long address = take(bytes);
        if (address == null) {
            if (liveBytes + idleBytes + bytes > softLimit) {
                collect();
                address = take(bytes);
            }
            if (address == null) address = fresh(bytes);
        }
        DeviceBuffer buffer = new DeviceBuffer(address, floats);
        live.put(address, new Block(buffer, dead, bytes));
        liveBytes += bytes;
        return buffer;
    }

    private Long take(long bytes) {
        ArrayDeque<Long> same = idle.get(bytes);
        if (same == null || same.isEmpty()) return null;
        idleBytes -= bytes;
        return same.pop();
    }

    private long fresh(long bytes) {
        if (liveBytes + idleBytes + bytes > softLimit) releaseIdle();
        long address = cuda.tryAllocate(bytes);
        if (address == 0) {
            collect();
            releaseIdle();
            address = cuda.tryAllocate(bytes);
        }
        if (address == 0) {
            throw new CudaException("the GPU is out of memory: " + bytes / (1 << 20) + " MiB more were needed with "
                    + liveBytes / (1 << 20) + " MiB in use");
        }
        return address;
    }

    /** Buffers the collector found unreachable go back to the idle lists. */
    private void reclaim() {
        for (Reference<? extends DeviceBuffer> r; (r = dead.poll()) != null; ) toIdle((Block) r);
    }

    private void toIdle(Block block) {
        if (!live.remove(block.address, block)) return;
        liveBytes -= block.bytes;
        idleBytes += block.bytes;
        idle.computeIfAbsent(block.bytes, b -> new ArrayDeque<>()).push(block.address);
    }

    /** Asks for a collection and takes back what it freed. */
    private void collect() {
        System.gc();
        try {
            Reference<? extends DeviceBuffer> first = dead.remove(200);
            if (first != null) toIdle((Block) first);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reclaim();
    }

    /** Gives every idle block back to the driver, for sizes the idle lists do not hold. */
    private void releaseIdle() {
        cuda.synchronize();
        for (ArrayDeque<Long> blocks : idle.values()) for (long address : blocks) cuda.free(address);
        idle.clear();
        idleBytes = 0;
    }
}
