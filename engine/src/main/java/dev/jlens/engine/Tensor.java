package dev.jlens.engine;

import dev.jlens.kernels.Half;
import dev.jlens.kernels.cuda.Cuda;
import dev.jlens.kernels.cuda.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A dense, contiguous, row-major array with a shape: float32 in host memory or on the GPU, or a
 * weight held 16-bit ({@link DataType#BFLOAT16}, {@link DataType#FLOAT16}) in native memory or in
 * the checkpoint file itself, mapped. Reshaping shares the values; nothing else aliases them. CPU
 * kernels work on {@link #data()} or {@link #segment()} directly; GPU kernels on
 * {@link #deviceBuffer()}.
 *
 * <p>Sizes are {@code long}: a tensor held in a memory segment (16-bit, or float32 made by
 * {@link #zeros(DataType, int...)} or read from a checkpoint) may hold more than 2^31 values, as
 * the logits of a 128k-token vocabulary over 16k positions do. Such a tensor is read through
 * {@link #segment()}, {@link #valueAt(long)} and {@link #elements()}; {@link #data()} and
 * {@link #size()}, which need one Java array, refuse it in one sentence.
 *
 * <p>The values live in one place and one form at a time: {@link #data()} on a GPU tensor copies it
 * to the host and the host copy is the tensor from then on (a hook may edit it in place);
 * {@link #deviceBuffer()} moves a host tensor to the GPU likewise; and {@link #data()} on a 16-bit
 * tensor widens it to float32 for good (kernels that read 16-bit weights never call it, so a model
 * held 16-bit stays so; code that wants floats still gets exactly the values). Views made by
 * {@link #reshape} move and convert with it.
 *
 * <p>A tensor may also be {@linkplain #derived derived}: defined by another tensor (a scaled or
 * transposed copy of it) and holding no values of its own until something reads or writes them,
 * when it is made once and is an ordinary tensor from then on. Code that can use the source as it
 * is asks {@link #derivation()} first; a model then holds Gemma's embedding once although
 * TransformerLens names it twice (W_E scaled, W_U transposed).
 */
public final class Tensor {
    private static final ValueLayout.OfShort HALF_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The most values a Java array holds: more live in a segment. */
    public static final int MAX_ARRAY = Integer.MAX_VALUE - 8;
    /** Values converted at a time between a segment and an array. */
    private static final int WINDOW = 1 << 20;
    private final int[] shape;
    private final Storage storage;
    private final long elements;

    /** Frees the native memory of tensors that become unreachable without being converted. */
    private static final Cleaner NATIVE_MEMORY = Cleaner.create();

    /**
     * The values of a tensor and its views: exactly one of the three fields is set, or none while
     * {@link #pending} says how to make them.
     */
    private static final class Storage {
        float[] host;
        DeviceBuffer device;
        /**
         * Values in native or mapped memory, little-endian as safetensors stores them, in the format
         * of {@link #type}: 16-bit, or float32 too many for an array.
         */
        MemorySegment segment;
        DataType type = DataType.FLOAT32;
        /** Frees {@link #segment} when this storage allocated it; null for memory the caller owns (a mapped checkpoint). */
        private Cleaner.Cleanable owned;
        /** How the values follow from another tensor's, until they are first needed; then null. */
        volatile Derivation pending;
        /** The storage whose values this one took over ({@link #takeOver}), kept reachable so that its cleaner does not free them. */
        private Storage donor;

        Storage(Derivation pending, DataType type) {
            this.pending = pending;
            this.type = type;
        }

        Storage(float[] host, DeviceBuffer device) {
            this.host = host;
            this.device = device;
        }

        Storage(DataType type, MemorySegment segment) {
            this.type = type;
            this.segment = segment;
        }

        /** Storage of {@code elements} values of {@code type} in new native memory, zeroed. */
        static Storage allocate(DataType type, long elements) {
            Storage s = new Storage(type, null);
            s.adopt(s.allocateNative(type.bytes() * elements), type);
            return s;
        }

        /** Native memory and what frees it. */
        private record Owned(MemorySegment segment, Cleaner.Cleanable cleanable) {}

        /**
         * New zeroed native memory for this storage's next values, freed as soon as they are
         * replaced (a conversion frees the old values at once rather than when the collector
         * notices: converting a model layer by layer would otherwise hold two copies of it), else
         * when the storage is unreachable. The current values stay readable until {@link #adopt}.
         */
        Owned allocateNative(long bytes) {
            Arena arena = Arena.ofShared();
            MemorySegment segment = arena.allocate(bytes, 64);
            return new Owned(segment, NATIVE_MEMORY.register(this, arena::close));
        }

        /** Makes {@code values}, of {@code type}, the storage's values, freeing the old ones now. */
        void adopt(Owned values, DataType type) {
            release();
            host = null;
            device = null;
            segment = values.segment();
            owned = values.cleanable();
            this.type = type;
        }

        /** Makes another storage's values this one's (that storage is not used again). */
        void takeOver(Storage other) {
            host = other.host;
            device = other.device;
            segment = other.segment;
            type = other.type;
            owned = other.owned;
            donor = other;
            pending = null;
        }

        /** Drops the segment, freeing it now if this storage allocated it. */
        void release() {
            if (owned != null) owned.clean();
            owned = null;
            segment = null;
        }
    }

    private Tensor(int[] shape, Storage storage) {
        this.shape = shape;
        this.storage = storage;
        this.elements = checkedElements(shape);
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
     * Wraps values in memory (not copied): {@code values} holds the shape's size in {@code type}'s
     * format, little-endian, and must be readable from any thread (kernels share the work).
     */
    public static Tensor ofSegment(DataType type, MemorySegment values, int... shape) {
        long bytes = type.bytes() * checkedElements(shape);
        if (values.byteSize() != bytes) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + bytes + " bytes of " + type + ", not " + values.byteSize());
        }
        return new Tensor(shape.clone(), new Storage(type, values));
    }

    /**
     * Zeros held as {@code type}, of any size: float32 in an array when one holds them, else (and
     * 16-bit always) in native memory.
     */
    public static Tensor zeros(DataType type, int... shape) {
        if (!type.isHalf() && checkedElements(shape) <= MAX_ARRAY) return zeros(shape);
        return nativeZeros(type, shape);
    }

    /**
     * Zeros held as {@code type} in native memory, whatever their size: freed by {@link #free()},
     * by a conversion, or once the tensor is unreachable.
     */
    public static Tensor nativeZeros(DataType type, int... shape) {
        return new Tensor(shape.clone(), Storage.allocate(type, checkedElements(shape)));
    }

    public static Tensor scalar(float value) {
        return new Tensor(new int[0], new float[] {value});
    }

    /**
     * How a derived tensor's values follow from its source's. The source must not change while a
     * tensor derived from it is pending: a loader derives from a tensor only it holds.
     */
    public sealed interface Derivation {
        Tensor source();
    }

    /** source × factor, each value computed in float32 and rounded to the source's type, as {@link #times} makes it. */
    public record Scaled(Tensor source, float factor) implements Derivation {}

    /** The source [..., rows, cols] transposed in its last two axes, as {@link #transposeLastTwo} makes it. */
    public record Transposed(Tensor source) implements Derivation {}

    /** A tensor of the derivation's values, of its source's type, which holds none until they are first read or written. */
    public static Tensor derived(Derivation how) {
        int[] shape = how.source().shape();
        if (how instanceof Transposed) {
            if (shape.length < 2) throw new IllegalArgumentException("cannot transpose a tensor of shape " + Arrays.toString(shape));
            int rows = shape[shape.length - 2];
            shape[shape.length - 2] = shape[shape.length - 1];
            shape[shape.length - 1] = rows;
        }
        return new Tensor(shape, new Storage(how, how.source().dtype()));
    }

    /** How this tensor's values follow from another's while they are not yet made; null for a tensor that holds its values. */
    public Derivation derivation() {
        return storage.pending;
    }

    /** The storage, its values made first if the tensor is derived and still pending. */
    private Storage values() {
        Storage s = storage;
        if (s.pending != null) {
            synchronized (s) { // kernels' threads may reach for it at once
                if (s.pending != null) {
                    Tensor made = switch (s.pending) {
                        case Scaled scaled -> scaled.source().times(scaled.factor());
                        case Transposed transposed -> transposed.source().transposeLastTwo();
                    };
                    s.takeOver(made.storage);
                }
            }
        }
        return s;
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

    /** How many values the tensor holds. */
    public long elements() {
        return elements;
    }

    /** How many values the tensor holds, for one that an array can hold (as every tensor but the largest can). */
    public int size() {
        if (elements > MAX_ARRAY) throw tooLargeForAnArray();
        return (int) elements;
    }

    private JlensException tooLargeForAnArray() {
        return new JlensException("a tensor of shape " + shapeString() + " holds " + elements + " values, more than one array holds, which this step needs.");
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
        Storage s = values();
        if (s.host == null) {
            if (elements > MAX_ARRAY) throw tooLargeForAnArray();
            if (s.segment != null) toArray();
            else {
                s.host = s.device.download(size());
                s.device = null;
            }
        }
        return s.host;
    }

    /** Moves segment-held values into a float32 array (widening 16-bit ones exactly). */
    private void toArray() {
        Storage s = values();
        float[] wide = new float[size()];
        for (long at = 0; at < elements; at += WINDOW) read(at, wide, (int) at, (int) Math.min(WINDOW, elements - at));
        s.release();
        s.host = wide;
        s.type = DataType.FLOAT32;
    }

    /**
     * The values in native or mapped memory, little-endian, in {@link #dtype()}'s format: those of
     * a 16-bit tensor, or of a float32 one held there (see {@link #zeros(DataType, int...)}).
     */
    public MemorySegment segment() {
        Storage s = values();
        if (s.segment == null) throw new IllegalStateException("a tensor held in " + (isOnDevice() ? "GPU memory" : "an array") + " has no segment");
        return s.segment;
    }

    /** Whether the values are in a memory segment now (see {@link #segment()}); a derived tensor's are made first. */
    public boolean inSegment() {
        return values().segment != null;
    }

    /** Values [from, from + n) as float32 into out[at..at + n), from wherever they are held. */
    public void read(long from, float[] out, int at, int n) {
        Storage s = values();
        if (s.segment == null) System.arraycopy(data(), Math.toIntExact(from), out, at, n);
        else if (s.type.isHalf()) s.type.half().widen(s.segment, from, out, at, n);
        else MemorySegment.copy(s.segment, FLOAT_LE, 4 * from, out, at, n);
    }

    /** Writes float32 values in[at..at + n) to [to, to + n), rounding them for a 16-bit tensor. */
    public void write(float[] in, int at, long to, int n) {
        Storage s = values();
        if (s.segment == null) System.arraycopy(in, at, data(), Math.toIntExact(to), n);
        else if (s.type.isHalf()) s.type.half().narrow(in, at, writableSegment(), to, n);
        else MemorySegment.copy(in, at, writableSegment(), FLOAT_LE, 4 * to, n);
    }

    /**
     * Holds the values as {@code type} from now on, for this tensor and its views: narrowing rounds
     * to nearest even, widening is exact. A tensor on the GPU is brought to the host first.
     */
    public void convertTo(DataType type) {
        if (storage.type == type) return;
        Storage s = values();
        if (elements <= MAX_ARRAY && !type.isHalf()) {
            data(); // widened into an array
            return;
        }
        // Into new native memory, a window at a time: 16-bit of any size, or float32 past an array's.
        Storage.Owned converted = s.allocateNative(type.bytes() * elements);
        Tensor into = new Tensor(shape, new Storage(type, converted.segment()));
        float[] window = new float[(int) Math.min(WINDOW, elements)];
        for (long at = 0; at < elements; at += WINDOW) {
            int n = (int) Math.min(WINDOW, elements - at);
            read(at, window, 0, n);
            into.write(window, 0, at, n);
        }
        s.adopt(converted, type);
    }

    /** Whether the values are in GPU memory now. */
    public boolean isOnDevice() {
        return storage.device != null;
    }

    /** The values in GPU memory (moved there if on the host; a 16-bit tensor goes as float32). */
    public DeviceBuffer deviceBuffer() {
        Storage s = values();
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
        if (checkedElements(newShape) != elements) {
            throw new IllegalArgumentException("shape " + Arrays.toString(newShape) + " holds " + checkedElements(newShape)
                    + " values, not " + elements);
        }
        return new Tensor(newShape.clone(), storage);
    }

    /**
     * A new host tensor [..., cols, rows] from this [..., rows, cols], of the same type: each matrix
     * of the stack transposed.
     */
    public Tensor transposeLastTwo() {
        int rows = shape[shape.length - 2], cols = shape[shape.length - 1];
        long stack = elements / Math.max(1, (long) rows * cols);
        int[] transposed = shape.clone();
        transposed[shape.length - 2] = cols;
        transposed[shape.length - 1] = rows;
        Storage s = values();
        if (s.segment != null && s.type.isHalf()) {
            Storage out = Storage.allocate(s.type, elements);
            for (long b = 0; b < stack; b++) Half.transpose(s.segment, out.segment, b * rows * cols, rows, cols);
            return new Tensor(transposed, out);
        }
        float[] in = data(), out = new float[size()];
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

    /**
     * A new host tensor of this type and shape holding this one's values times {@code factor}, each
     * computed in float32 and, for a 16-bit tensor, rounded once to nearest even.
     */
    public Tensor times(float factor) {
        Tensor out = zeros(dtype(), shape);
        float[] block = new float[(int) Math.min(elements, 1 << 16)];
        for (long at = 0; at < elements; at += block.length) {
            int n = (int) Math.min(block.length, elements - at);
            read(at, block, 0, n);
            for (int i = 0; i < n; i++) block[i] *= factor;
            out.write(block, 0, at, n);
        }
        return out;
    }

    /** dst[to..to + n) = this[from..from + n), between two host tensors held alike (in one type, both in arrays or both in segments). */
    public void copyTo(long from, Tensor dst, long to, long n) {
        if (dst.dtype() != dtype()) throw new IllegalArgumentException("cannot copy " + dtype() + " values into a " + dst.dtype() + " tensor");
        Storage s = values();
        if (s.segment == null) System.arraycopy(data(), Math.toIntExact(from), dst.data(), Math.toIntExact(to), Math.toIntExact(n));
        else {
            long bytes = dtype().bytes();
            MemorySegment.copy(s.segment, bytes * from, dst.writableSegment(), bytes * to, bytes * n);
        }
    }

    /** The segment's values, copied out of a read-only mapping of a checkpoint first: edits never reach the file. */
    private MemorySegment writableSegment() {
        Storage s = values();
        if (s.segment.isReadOnly()) {
            Storage.Owned copy = s.allocateNative(s.segment.byteSize());
            copy.segment().copyFrom(s.segment);
            s.adopt(copy, s.type);
        }
        return s.segment;
    }

    /** Whether both hold the same type, shape and values, bit for bit. */
    public boolean sameValues(Tensor other) {
        if (dtype() != other.dtype() || !Arrays.equals(shape, other.shape)) return false;
        Storage s = values(), o = other.values();
        if (s.segment != null && o.segment != null) return s.segment.mismatch(o.segment) == -1;
        if (s.segment == null && o.segment == null) return Arrays.equals(data(), other.data());
        for (long at = 0; at < elements; at++) if (Float.floatToIntBits(valueAt(at)) != Float.floatToIntBits(other.valueAt(at))) return false;
        return true;
    }

    /** Whether every value is zero (of either sign). */
    public boolean isAllZero() {
        if (values().segment != null) {
            for (long at = 0; at < elements; at++) if (valueAt(at) != 0f) return false;
            return true;
        }
        for (float v : data()) if (v != 0f) return false;
        return true;
    }

    /**
     * Frees the native memory of a tensor now, rather than when the collector notices it is
     * unreachable: for a tensor made for one use (a transposed copy being written out), which
     * neither it nor a view of it may be read after. Memory the tensor does not own (a mapped
     * checkpoint) and values in arrays are left to the collector.
     */
    public void free() {
        if (storage.segment != null) storage.release();
    }

    /** A copy, where this tensor lives and of its type (of a derived tensor still pending, another such tensor: nothing is made). */
    public Tensor copy() {
        Derivation pending = storage.pending;
        if (pending != null) return new Tensor(shape.clone(), new Storage(pending, storage.type));
        Storage s = values();
        if (isOnDevice()) return Backend.of(this).copy(this);
        if (s.segment == null) return new Tensor(shape.clone(), s.host.clone());
        Storage out = Storage.allocate(s.type, elements);
        out.segment.copyFrom(s.segment);
        return new Tensor(shape.clone(), out);
    }

    /** The value at a flat (row-major) index. */
    public float valueAt(long index) {
        Objects.checkIndex(index, elements);
        Storage s = values();
        if (s.segment == null) return data()[(int) index];
        return s.type.isHalf() ? s.type.half().get(s.segment, index) : s.segment.getAtIndex(FLOAT_LE, index);
    }

    /** The value at a full index. */
    public float get(int... index) {
        return valueAt(offset(index));
    }

    /** Sets the value at a full index (rounded, in a 16-bit tensor). */
    public void set(float value, int... index) {
        long at = offset(index);
        Storage s = values();
        if (s.segment == null) data()[(int) at] = value;
        else if (s.type.isHalf()) s.type.half().set(writableSegment(), at, value);
        else writableSegment().setAtIndex(FLOAT_LE, at, value);
    }

    private long offset(int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + index.length + " into a tensor of shape " + shapeString());
        }
        long at = 0;
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

    /** The size of a shape that an array must hold: one past that is the user's mistake, in one sentence. */
    static int checkedSize(int[] shape) {
        long size = checkedElements(shape);
        if (size > MAX_ARRAY) {
            // Sizes come from what the user asked for (a batch, a sequence, a model's shape): a mistake, not a bug.
            throw new JlensException("a tensor of shape " + Arrays.toString(shape) + " would hold more than 2^31 floats, more than jlens can hold in one tensor.");
        }
        return (int) size;
    }

    /** The number of values of a shape, which must not be negative in any extent nor pass 2^62 in all. */
    static long checkedElements(int[] shape) {
        long size = 1;
        for (int extent : shape) {
            if (extent < 0) throw new IllegalArgumentException("negative extent in shape " + Arrays.toString(shape));
            if (extent != 0 && size > (1L << 62) / extent) {
                throw new JlensException("a tensor of shape " + Arrays.toString(shape) + " would hold more values than any memory.");
            }
            size *= extent;
        }
        return size;
    }
}
