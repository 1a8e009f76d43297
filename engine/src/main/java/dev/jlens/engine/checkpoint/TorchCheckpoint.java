package dev.jlens.engine.checkpoint;

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
            Object root = Unpickler.load(readAll(zip, pickle), path + " (data.pkl)");
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
    public Tensor read(String name, float[] reuse) {
        Unpickler.TensorRef t = tensors.get(name);
        if (t == null) throw new JlensException(path + ": has no tensor '" + name + "'.");
        long count = 1;
        for (long extent : t.size()) count *= extent;
        if (count > Integer.MAX_VALUE - 8) throw new JlensException(path + ": tensor '" + name + "' is too large for one float array.");
        int[] shape = new int[t.size().length];
        for (int i = 0; i < shape.length; i++) shape[i] = Math.toIntExact(t.size()[i]);
        float[] out = reuse != null && reuse.length == count ? reuse : new float[(int) count];
        ByteBuffer storage = storage(name, t);
        int bytes = floatBytes(t.storage().type());
        // Walk the strided view in row-major order of its shape.
        int[] index = new int[shape.length];
        for (int i = 0; i < out.length; i++) {
            long element = t.offset();
            for (int axis = 0; axis < shape.length; axis++) element += index[axis] * t.stride()[axis];
            if (element < 0 || (element + 1) * bytes > storage.capacity()) {
                throw new JlensException(path + ": tensor '" + name + "' reaches past the end of its storage.");
            }
            out[i] = element(storage, (int) element, t.storage().type());
            for (int axis = shape.length - 1; axis >= 0; axis--) {
                if (++index[axis] < shape[axis]) break;
                index[axis] = 0;
            }
        }
        return Tensor.of(out, shape);
    }

    private ByteBuffer storage(String name, Unpickler.TensorRef t) {
        ZipEntry entry = zip.getEntry(prefix + "data/" + t.storage().key());
        if (entry == null) throw new JlensException(path + ": tensor '" + name + "' names storage " + t.storage().key() + ", which is missing.");
        try {
            return ByteBuffer.wrap(readAll(zip, entry)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new JlensException(path + ": tensor '" + name + "' cannot be read (" + JlensException.describe(e) + ").", e);
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

    private static byte[] readAll(ZipFile zip, ZipEntry entry) throws IOException {
        try (InputStream in = zip.getInputStream(entry)) {
            return in.readAllBytes();
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
