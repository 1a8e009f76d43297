package dev.jlens.engine;

import dev.jlens.kernels.Half;
import dev.jlens.kernels.cuda.Cuda;
import dev.jlens.kernels.cuda.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.ref.Cleaner;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A dense, contiguous, row-major array with a shape: float32 in host memory or on the GPU, or a
 * weight held 16-bit ({@link DataType#BFLOAT16}, {@link DataType#FLOAT16}) in native memory or in
 * the checkpoint file itself, mapped. Reshaping shares the values; nothing else aliases them. CPU
 * kernels work on {@link #data()} or {@link #halfValues()} directly; GPU kernels on
 * {@link #deviceBuffer()}.
 *
 * <p>The values live in one place and one form at a time: {@link #data()} on a GPU tensor copies it
 * to the host and the host copy is the tensor from then on (a hook may edit it in place);
 * {@link #deviceBuffer()} moves a host tensor to the GPU likewise; and {@link #data()} on a 16-bit
 * tensor widens it to float32 for good (kernels that read 16-bit weights never call it, so a model
 * held 16-bit stays so; code that wants floats still gets exactly the values). Views made by
 * {@link #reshape} move and convert with it.
 */
public final class Tensor {
    private static final java.lang.foreign.ValueLayout.OfShort HALF_LE =
            java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private final int[] shape;
    private final Storage storage;
    private final int size;

    /** Frees the native memory of 16-bit tensors that become unreachable without being converted. */
    private static final Cleaner NATIVE_MEMORY = Cleaner.create();

    /** The values of a tensor and its views: exactly one of the three fields is set. */
    private static final class Storage {
        float[] host;
        DeviceBuffer device;
        /** 16-bit values, little-endian as safetensors stores them, in the format of {@link #type}. */
        MemorySegment half;
        DataType type = DataType.FLOAT32;
        /** Frees {@link #half} when this storage allocated it; null for memory the caller owns (a mapped checkpoint). */
        private Cleaner.Cleanable owned;

        Storage(float[] host, DeviceBuffer device) {
            this.host = host;
            this.device = device;
        }

        Storage(DataType type, MemorySegment half) {
            this.type = type;
            this.half = half;
        }

        /** Storage of {@code bytes} of new native memory for 16-bit values. */
        static Storage allocate(DataType type, long bytes) {
            Storage s = new Storage(type, null);
            s.half = s.allocateHalf(bytes);
            return s;
        }

        /**
         * New native memory, freed as soon as these values are replaced (a conversion frees the
         * old values at once rather than when the collector notices: converting a model layer by
         * layer would otherwise hold two copies of it), else when the storage is unreachable.
         */
        MemorySegment allocateHalf(long bytes) {
            Arena arena = Arena.ofShared();
            MemorySegment segment = arena.allocate(bytes, 64);
            release();
            owned = NATIVE_MEMORY.register(this, arena::close);
            return segment;
        }

        /** Drops the 16-bit values, freeing them now if this storage allocated them. */
        void release() {
            if (owned != null) owned.clean();
            owned = null;
            half = null;
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

    /**
     * Wraps 16-bit values (not copied): {@code values} holds the shape's size in {@code type}'s
     * format, little-endian, and must be readable from any thread (kernels share the work).
     */
    public static Tensor ofHalf(DataType type, MemorySegment values, int... shape) {
        if (!type.isHalf()) throw new IllegalArgumentException(type + " is not a 16-bit type");
        long bytes = 2L * checkedSize(shape);
        if (values.byteSize() != bytes) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + bytes + " bytes of " + type + ", not " + values.byteSize());
        }
        return new Tensor(shape.clone(), new Storage(type, values));
    }

    /** Zeros held as {@code type}. */
    public static Tensor zeros(DataType type, int... shape) {
        if (!type.isHalf()) return zeros(shape);
        return new Tensor(shape.clone(), Storage.allocate(type, 2L * checkedSize(shape)));
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

    /** How the values are held now. */
    public DataType dtype() {
        return storage.type;
    }

    /**
     * The backing array: the tensor's values in row-major order (brought from the GPU if there, and
     * widened to float32 for good if held 16-bit).
     */
    public float[] data() {
        Storage s = storage;
        if (s.host == null) {
            if (s.half != null) convertTo(DataType.FLOAT32);
            else {
                s.host = s.device.download(size);
                s.device = null;
            }
        }
        return s.host;
    }

    /** The 16-bit values of a tensor held so ({@link #dtype()} is 16-bit). */
    public MemorySegment halfValues() {
        if (storage.half == null) throw new IllegalStateException("a " + storage.type + " tensor has no 16-bit values");
        return storage.half;
    }

    /**
     * Holds the values as {@code type} from now on, for this tensor and its views: narrowing rounds
     * to nearest even, widening is exact. A tensor on the GPU is brought to the host first.
     */
    public void convertTo(DataType type) {
        Storage s = storage;
        if (s.type == type) return;
        if (s.half != null) {
            float[] wide = new float[size];
            s.type.half().widen(s.half, 0, wide, 0, size);
            s.host = wide;
            s.release();
            s.type = DataType.FLOAT32;
        }
        if (type.isHalf()) {
            float[] wide = data();
            MemorySegment narrow = s.allocateHalf(2L * size);
            type.half().narrow(wide, 0, narrow, 0, size);
            s.half = narrow;
            s.host = null;
            s.type = type;
        }
    }

    /** Whether the values are in GPU memory now. */
    public boolean isOnDevice() {
        return storage.device != null;
    }

    /** The values in GPU memory (moved there if on the host; a 16-bit tensor goes as float32). */
    public DeviceBuffer deviceBuffer() {
        Storage s = storage;
        if (s.device == null) {
            s.device = Cuda.get().upload(data());
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

    /**
     * A new host tensor [..., cols, rows] from this [..., rows, cols], of the same type: each matrix
     * of the stack transposed.
     */
    public Tensor transposeLastTwo() {
        int rows = shape[shape.length - 2], cols = shape[shape.length - 1], stack = size / Math.max(1, rows * cols);
        int[] transposed = shape.clone();
        transposed[shape.length - 2] = cols;
        transposed[shape.length - 1] = rows;
        if (storage.half != null) {
            Storage out = Storage.allocate(storage.type, 2L * size);
            for (int b = 0; b < stack; b++) Half.transpose(storage.half, out.half, (long) b * rows * cols, rows, cols);
            return new Tensor(transposed, out);
        }
        float[] in = data(), out = new float[size];
        for (int b = 0; b < stack; b++) {
            int o = b * rows * cols;
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) out[o + j * rows + i] = in[o + i * cols + j];
        }
        return new Tensor(transposed, out);
    }

    /** A new tensor, this + other elementwise, where this tensor lives; the shapes must match. */
    public Tensor plus(Tensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("cannot add a tensor of shape " + other.shapeString() + " to one of " + shapeString());
        }
        return Backend.of(this).sum(this, other);
    }

    /** dst[to..to + n) = this[from..from + n), between two host tensors held in one type. */
    public void copyTo(int from, Tensor dst, int to, int n) {
        if (dst.dtype() != dtype()) throw new IllegalArgumentException("cannot copy " + dtype() + " values into a " + dst.dtype() + " tensor");
        if (storage.half == null) System.arraycopy(data(), from, dst.data(), to, n);
        else MemorySegment.copy(storage.half, 2L * from, dst.writableHalf(), 2L * to, 2L * n);
    }

    /** The 16-bit values, copied out of a read-only mapping of a checkpoint first: edits never reach the file. */
    private MemorySegment writableHalf() {
        Storage s = storage;
        if (s.half.isReadOnly()) {
            MemorySegment mapped = s.half, copy = s.allocateHalf(mapped.byteSize());
            copy.copyFrom(mapped);
            s.half = copy;
        }
        return s.half;
    }

    /** Whether both hold the same type, shape and values, bit for bit. */
    public boolean sameValues(Tensor other) {
        if (dtype() != other.dtype() || !Arrays.equals(shape, other.shape)) return false;
        if (storage.half != null) return storage.half.mismatch(other.storage.half) == -1;
        return Arrays.equals(data(), other.data());
    }

    /** Whether every value is zero (of either sign). */
    public boolean isAllZero() {
        if (storage.half != null) {
            for (long i = 0; i < size; i++) if ((storage.half.getAtIndex(HALF_LE, i) & 0x7FFF) != 0) return false;
            return true;
        }
        for (float v : data()) if (v != 0f) return false;
        return true;
    }

    /**
     * Frees the native memory of a 16-bit tensor now, rather than when the collector notices it is
     * unreachable: for a tensor made for one use (a transposed copy being written out), which
     * neither it nor a view of it may be read after. Memory the tensor does not own (a mapped
     * checkpoint) and float32 values are left to the collector.
     */
    public void free() {
        if (storage.half != null) storage.release();
    }

    /** A copy, where this tensor lives and of its type. */
    public Tensor copy() {
        if (isOnDevice()) return Backend.of(this).copy(this);
        if (storage.half == null) return new Tensor(shape.clone(), storage.host.clone());
        Storage out = Storage.allocate(storage.type, storage.half.byteSize());
        out.half.copyFrom(storage.half);
        return new Tensor(shape.clone(), out);
    }

    /** The value at a full index. */
    public float get(int... index) {
        return storage.half != null ? storage.type.half().get(storage.half, offset(index)) : data()[offset(index)];
    }

    /** Sets the value at a full index (rounded, in a 16-bit tensor). */
    public void set(float value, int... index) {
        if (storage.half != null) storage.type.half().set(writableHalf(), offset(index), value);
        else data()[offset(index)] = value;
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
        return "Tensor" + shapeString() + (storage.type == DataType.FLOAT32 ? "" : " " + storage.type);
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
