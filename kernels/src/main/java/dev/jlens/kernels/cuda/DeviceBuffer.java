package dev.jlens.kernels.cuda;

/**
 * A block of GPU memory holding {@link #floats()} 4-byte values. It goes back to the pool when
 * this object is garbage collected, as a tensor's host array would.
 */
public final class DeviceBuffer {
    private final long address, floats;

    DeviceBuffer(long address, long floats) {
        this.address = address;
        this.floats = floats;
    }

    public long address() {
        return address;
    }

    /** The address of value {@code index}. */
    public long at(long index) {
        return address + 4 * index;
    }

    public long floats() {
        return floats;
    }

    public float[] download() {
        if (floats > Integer.MAX_VALUE - 8) throw new CudaException("a GPU buffer of " + floats + " values does not fit a Java array");
        float[] out = new float[(int) floats];
        Cuda.get().download(address, out);
        return out;
    }
}
