package dev.jlens.engine;

import java.util.Arrays;

/**
 * A dense, contiguous, row-major float32 array with a shape. Reshaping shares the data; nothing
 * else aliases it. Kernels work on {@link #data()} directly.
 */
public final class Tensor {
    private final int[] shape;
    private final float[] data;

    private Tensor(int[] shape, float[] data) {
        this.shape = shape;
        this.data = data;
    }

    public static Tensor zeros(int... shape) {
        return new Tensor(shape.clone(), new float[checkedSize(shape)]);
    }

    /** Wraps {@code data} (not copied) with a shape whose size must equal its length. */
    public static Tensor of(float[] data, int... shape) {
        if (checkedSize(shape) != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + checkedSize(shape)
                    + " values, not " + data.length);
        }
        return new Tensor(shape.clone(), data);
    }

    public static Tensor scalar(float value) {
        return new Tensor(new int[0], new float[] {value});
    }

    public int[] shape() {
        return shape.clone();
    }

    public int dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return data.length;
    }

    /** The backing array: the tensor's values in row-major order. */
    public float[] data() {
        return data;
    }

    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /** A view with another shape of the same size, sharing the data. */
    public Tensor reshape(int... newShape) {
        return of(data, newShape);
    }

    /** A new tensor, this + other elementwise; the shapes must match. */
    public Tensor plus(Tensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("cannot add a tensor of shape " + other.shapeString() + " to one of " + shapeString());
        }
        float[] out = data.clone();
        dev.jlens.kernels.Simd.add(other.data, 0, out, 0, out.length);
        return new Tensor(shape.clone(), out);
    }

    public Tensor copy() {
        return new Tensor(shape.clone(), data.clone());
    }

    /** The value at a full index. */
    public float get(int... index) {
        return data[offset(index)];
    }

    public void set(float value, int... index) {
        data[offset(index)] = value;
    }

    private int offset(int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + index.length + " into a tensor of shape " + shapeString());
        }
        int at = 0;
        for (int axis = 0; axis < shape.length; axis++) {
            if (index[axis] < 0 || index[axis] >= shape[axis]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of shape " + shapeString());
            }
            at = at * shape[axis] + index[axis];
        }
        return at;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString();
    }

    static int checkedSize(int[] shape) {
        long size = 1;
        for (int extent : shape) {
            if (extent < 0) throw new IllegalArgumentException("negative extent in shape " + Arrays.toString(shape));
            size *= extent;
            if (size > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large for one float array");
            }
        }
        return (int) size;
    }
}
