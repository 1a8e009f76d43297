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

    /** The first {@code n} values, copied to a new host array (waits for the work before it). */
    public float[] download(int n) {
        if (n > floats) throw new IllegalArgumentException(n + " values asked of a GPU buffer of " + floats);
        float[] out = new float[n];
        Cuda.get().download(address, out);
        return out;
    }
}
