package dev.jlens.engine;

import dev.jlens.kernels.cuda.Cuda;
import dev.jlens.kernels.cuda.DeviceBuffer;
import java.util.Arrays;

/**
 * A dense, contiguous, row-major float32 array with a shape, held in host memory or on the GPU.
 * Reshaping shares the values; nothing else aliases them. CPU kernels work on {@link #data()}
 * directly; GPU kernels on {@link #deviceBuffer()}.
 *
 * <p>The values live in one place at a time: {@link #data()} on a GPU tensor copies it to the host
 * and the host copy is the tensor from then on (a hook may edit it in place), and
 * {@link #deviceBuffer()} moves a host tensor to the GPU likewise. Views made by {@link #reshape}
 * move with it.
 */
public final class Tensor {
    private final int[] shape;
    private final Storage storage;
    private final int size;

    /** The values of a tensor and its views: exactly one of the two fields is set. */
    private static final class Storage {
        float[] host;
        DeviceBuffer device;

        Storage(float[] host, DeviceBuffer device) {
            this.host = host;
            this.device = device;
        }
    }

    private Tensor(int[] shape, Storage storage) {
        this.shape = shape;
        this.storage = storage;
        this.size = checkedSize(shape);
    }

    private Tensor(int[] shape, float[] data) {
        this(shape, new Storage(data, null));
    }

    public static Tensor zeros(int... shape) {
        return new Tensor(shape.clone(), new float[checkedSize(shape)]);
    }

    /** A tensor whose values are GPU memory; the buffer must hold at least the shape's size. */
    public static Tensor onDevice(DeviceBuffer buffer, int... shape) {
        if (buffer.floats() < checkedSize(shape)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not fit a GPU buffer of " + buffer.floats() + " values");
        }
        return new Tensor(shape.clone(), new Storage(null, buffer));
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
        return size;
    }

    /** The backing array: the tensor's values in row-major order (brought from the GPU if there). */
    public float[] data() {
        Storage s = storage;
        if (s.host == null) {
            s.host = s.device.download(size);
            s.device = null;
        }
        return s.host;
    }

    /** Whether the values are in GPU memory now. */
    public boolean isOnDevice() {
        return storage.host == null;
    }

    /** The values in GPU memory (moved there if on the host). */
    public DeviceBuffer deviceBuffer() {
        Storage s = storage;
        if (s.device == null) {
            s.device = Cuda.get().upload(s.host);
            s.host = null;
        }
        return s.device;
    }

    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /** A view with another shape of the same size, sharing the data. */
    public Tensor reshape(int... newShape) {
        if (checkedSize(newShape) != size) {
            throw new IllegalArgumentException("shape " + Arrays.toString(newShape) + " holds " + checkedSize(newShape)
                    + " values, not " + size);
        }
        return new Tensor(newShape.clone(), storage);
    }

    /** A new host tensor [..., cols, rows] from this [..., rows, cols]: each matrix of the stack transposed. */
    public Tensor transposeLastTwo() {
        int rows = shape[shape.length - 2], cols = shape[shape.length - 1], stack = size / Math.max(1, rows * cols);
        float[] in = data(), out = new float[size];
        for (int b = 0; b < stack; b++) {
            int o = b * rows * cols;
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) out[o + j * rows + i] = in[o + i * cols + j];
        }
        int[] transposed = shape.clone();
        transposed[shape.length - 2] = cols;
        transposed[shape.length - 1] = rows;
        return new Tensor(transposed, out);
    }

    /** A new tensor, this + other elementwise, where this tensor lives; the shapes must match. */
    public Tensor plus(Tensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("cannot add a tensor of shape " + other.shapeString() + " to one of " + shapeString());
        }
        return Backend.of(this).sum(this, other);
    }

    /** A copy, where this tensor lives. */
    public Tensor copy() {
        return isOnDevice() ? Backend.of(this).copy(this) : new Tensor(shape.clone(), storage.host.clone());
    }

    /** The value at a full index. */
    public float get(int... index) {
        return data()[offset(index)];
    }

    public void set(float value, int... index) {
        data()[offset(index)] = value;
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
                // Sizes come from what the user asked for (a batch, a sequence, a model's shape): a mistake, not a bug.
                throw new JlensException("a tensor of shape " + Arrays.toString(shape) + " would hold more than 2^31 floats, more than jlens can hold in one tensor.");
            }
        }
        return (int) size;
    }
}
