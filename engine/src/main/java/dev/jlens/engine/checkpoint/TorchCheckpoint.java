package dev.jlens.engine.checkpoint;

import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A PyTorch checkpoint ({@code pytorch_model.bin}, {@code .pth}) in the zip format torch.save has
 * written since 1.6: {@code <archive>/data.pkl} pickles the state dict, whose tensors name storages
 * kept as raw little-endian arrays in {@code <archive>/data/<key>}. The pickle is read by
 * {@link Unpickler}, which runs no code. Floating-point tensors (F32, F16, BF16, F64) are read as
 * float32; others (a causal mask buffer, say) are not weights and are left out.
 */
public final class TorchCheckpoint implements Checkpoint {
    /** data.pkl names the tensors and their storages; the data are elsewhere. GPT-2 XL's is about 40 KiB. */
    private static final int MAX_PICKLE_BYTES = 64 << 20;

    private final Path path;
    private final ZipFile zip;
    private final String prefix;
    private final Map<String, Unpickler.TensorRef> tensors = new LinkedHashMap<>();

    private TorchCheckpoint(Path path, ZipFile zip, String prefix) {
        this.path = path;
        this.zip = zip;
        this.prefix = prefix;
    }

    public static TorchCheckpoint open(Path path) {
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (java.util.zip.ZipException e) {
            throw new JlensException(path + ": is not a zip-format PyTorch checkpoint (older torch.save files are not supported).");
        } catch (IOException e) {
            throw new JlensException(path + ": cannot be read (" + JlensException.describe(e) + ").", e);
        }
        try {
            ZipEntry pickle = zip.stream().filter(e -> e.getName().endsWith("/data.pkl") || e.getName().equals("data.pkl"))
                    .findFirst().orElseThrow(() -> new JlensException(path + ": has no data.pkl; it is not a PyTorch checkpoint."));
            String prefix = pickle.getName().substring(0, pickle.getName().length() - "data.pkl".length());
            TorchCheckpoint checkpoint = new TorchCheckpoint(path, zip, prefix);
            byte[] pickled = readAtMost(zip, pickle, MAX_PICKLE_BYTES);
            if (pickled.length > MAX_PICKLE_BYTES) {
                throw new JlensException(path + ": its data.pkl inflates past " + MAX_PICKLE_BYTES / (1 << 20) + " MiB; a state dict's is a few kilobytes.");
            }
            Object root = Unpickler.load(pickled, path + " (data.pkl)");
            if (!(root instanceof Map<?, ?> stateDict)) throw new JlensException(path + ": does not hold a state dict.");
            for (Map.Entry<?, ?> e : stateDict.entrySet()) {
                if (e.getKey() instanceof String name && e.getValue() instanceof Unpickler.TensorRef t && floatBytes(t.storage().type()) > 0) {
                    checkpoint.tensors.put(name, t);
                }
            }
            return checkpoint;
        } catch (IOException e) {
            closeQuietly(zip);
            throw new JlensException(path + ": cannot be read (" + JlensException.describe(e) + ").", e);
        } catch (RuntimeException e) {
            closeQuietly(zip);
            throw e;
        }
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(tensors.keySet());
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public DataType storedType(String name) {
        return switch (ref(name).storage().type()) {
            case "HalfStorage" -> DataType.FLOAT16;
            case "BFloat16Storage" -> DataType.BFLOAT16;
            default -> DataType.FLOAT32;
        };
    }

    @Override
    public long elements(String name) {
        long n = 1;
        for (long extent : ref(name).size()) n *= extent;
        return n;
    }

    private Unpickler.TensorRef ref(String name) {
        Unpickler.TensorRef t = tensors.get(name);
        if (t == null) throw new JlensException(path + ": has no tensor " + JlensException.quote(name) + ".");
        return t;
    }

    @Override
    public Tensor read(String name, float[] reuse) {
        Unpickler.TensorRef t = ref(name);
        int[] shape = checkView(name, t);
        int count = 1;
        for (int extent : shape) count *= extent;
        float[] out = reuse != null && reuse.length == count ? reuse : new float[count];
        ByteBuffer storage = storage(name, t);
        // Walk the strided view in row-major order of its shape (checkView bounded every element).
        int[] index = new int[shape.length];
        for (int i = 0; i < out.length; i++) {
            long element = t.offset();
            for (int axis = 0; axis < shape.length; axis++) element += index[axis] * t.stride()[axis];
            out[i] = element(storage, (int) element, t.storage().type());
            for (int axis = shape.length - 1; axis >= 0; axis--) {
                if (++index[axis] < shape[axis]) break;
                index[axis] = 0;
            }
        }
        return Tensor.of(out, shape);
    }

    /**
     * The view's shape, once its sizes, strides and offset are known to stay inside its storage's
     * declared elements and the whole to fit one float array: a hostile file could otherwise make
     * jlens allocate without end or index outside the storage.
     */
    private int[] checkView(String name, Unpickler.TensorRef t) {
        long[] size = t.size(), stride = t.stride();
        String what = path + ": tensor " + JlensException.quote(name) + " ";
        if (size.length != stride.length) throw new JlensException(what + "has " + size.length + " sizes but " + stride.length + " strides.");
        try {
            long count = 1, lowest = t.offset(), highest = t.offset();
            for (int axis = 0; axis < size.length; axis++) {
                if (size[axis] < 0) throw new JlensException(what + "has a negative size, " + size[axis] + ".");
                count = Math.multiplyExact(count, size[axis]);
                if (size[axis] == 0) continue;
                long reach = Math.multiplyExact(size[axis] - 1, stride[axis]);
                if (reach < 0) lowest = Math.addExact(lowest, reach);
                else highest = Math.addExact(highest, reach);
            }
            if (count > Integer.MAX_VALUE - 8) throw new JlensException(what + "has " + count + " elements, too many for one float array.");
            if (count > 0 && (lowest < 0 || highest >= t.storage().elements())) {
                throw new JlensException(what + "reaches outside its storage of " + t.storage().elements() + " elements.");
            }
        } catch (ArithmeticException e) {
            throw new JlensException(what + "has sizes or strides too large to index.", e);
        }
        int[] shape = new int[size.length];
        for (int i = 0; i < shape.length; i++) shape[i] = (int) size[i];
        return shape;
    }

    private ByteBuffer storage(String name, Unpickler.TensorRef t) {
        ZipEntry entry = zip.getEntry(prefix + "data/" + t.storage().key());
        if (entry == null) throw new JlensException(path + ": tensor " + JlensException.quote(name) + " names storage " + JlensException.quote(t.storage().key()) + ", which is missing.");
        long elements = t.storage().elements();
        if (elements < 0 || elements > (Integer.MAX_VALUE - 8) / floatBytes(t.storage().type())) {
            throw new JlensException(path + ": storage " + JlensException.quote(t.storage().key()) + " declares " + elements + " elements, more than one array holds.");
        }
        long declared = elements * floatBytes(t.storage().type());
        try {
            byte[] bytes = readAtMost(zip, entry, declared);
            if (bytes.length != declared) {
                throw new JlensException(path + ": storage " + JlensException.quote(t.storage().key()) + (bytes.length > declared ? " inflates past" : " holds " + bytes.length + " bytes, not")
                        + " the " + declared + " bytes its tensors declare.");
            }
            return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new JlensException(path + ": tensor " + JlensException.quote(name) + " cannot be read (" + JlensException.describe(e) + ").", e);
        }
    }

    private static float element(ByteBuffer storage, int i, String type) {
        return switch (type) {
            case "FloatStorage" -> storage.getFloat(4 * i);
            case "HalfStorage" -> Float.float16ToFloat(storage.getShort(2 * i));
            case "BFloat16Storage" -> Float.intBitsToFloat((storage.getShort(2 * i) & 0xffff) << 16);
            case "DoubleStorage" -> (float) storage.getDouble(8 * i);
            default -> throw new AssertionError(type);
        };
    }

    /** Bytes per element of a floating-point storage type; 0 for the others. */
    private static int floatBytes(String type) {
        return switch (type) {
            case "FloatStorage" -> 4;
            case "HalfStorage", "BFloat16Storage" -> 2;
            case "DoubleStorage" -> 8;
            default -> 0;
        };
    }

    /**
     * The entry's bytes, reading no more than {@code limit} + 1 of them whatever its header claims,
     * so a small zip that inflates to gigabytes is refused after {@code limit}.
     */
    private static byte[] readAtMost(ZipFile zip, ZipEntry entry, long limit) throws IOException {
        try (InputStream in = zip.getInputStream(entry)) {
            return in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
        }
    }

    private static void closeQuietly(ZipFile zip) {
        try {
            zip.close();
        } catch (IOException ignored) {
            // already failing: the first error is the one to report
        }
    }

    @Override
    public void close() {
        closeQuietly(zip);
    }
}
