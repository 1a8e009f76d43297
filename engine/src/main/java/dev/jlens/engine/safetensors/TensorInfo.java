package dev.jlens.engine.safetensors;

import java.util.Arrays;

/** One header entry: a tensor's type, shape, and byte range [begin, end) in the data section. */
public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {
    public long elements() {
        long n = 1;
        for (long extent : shape) n = Math.multiplyExact(n, extent);
        return n;
    }

    /** The shape as ints, for a tensor small enough to read into one array. */
    public int[] intShape() {
        int[] out = new int[shape.length];
        for (int i = 0; i < shape.length; i++) out[i] = Math.toIntExact(shape[i]);
        return out;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
