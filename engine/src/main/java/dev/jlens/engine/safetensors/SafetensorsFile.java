package dev.jlens.engine.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.io.Json;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file, validated whole when opened: an 8-byte little-endian header length, a JSON
 * header naming each tensor's dtype, shape and data offsets, then the data. Any inconsistency is
 * refused with one sentence naming the file and the tensor. Tensors are read on demand into
 * float32, widening F16 and BF16, through memory maps of the FFM API (long offsets, so files past
 * 2 GB work). Each read maps a bounded window at a time and unmaps it at once, so loading a model
 * never holds the file's pages and the weights' arrays in memory together.
 */
public final class SafetensorsFile implements dev.jlens.engine.checkpoint.Checkpoint {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Headers larger than this are refused before being read (the reference implementation uses 100 MB). */
    private static final long MAX_HEADER = 100L << 20;

    /** Bytes mapped at once while reading a tensor. */
    private static final long WINDOW = 16L << 20;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
            long size = channel.size();
            if (size < 8) throw error(path, "is " + size + " bytes long, too short for the 8-byte header length");
            long headerLength;
            byte[] header;
            try (Arena arena = Arena.ofConfined()) {
                headerLength = channel.map(FileChannel.MapMode.READ_ONLY, 0, 8, arena).get(U64_LE, 0);
                if (headerLength < 0 || headerLength > size - 8) {
                    throw error(path, "declares a header of " + Long.toUnsignedString(headerLength)
                            + " bytes, past the end of the file (" + size + " bytes)");
                }
                if (headerLength > MAX_HEADER) throw error(path, "declares a header of " + headerLength + " bytes, more than 100 MB");
                header = channel.map(FileChannel.MapMode.READ_ONLY, 8, headerLength, arena).toArray(ValueLayout.JAVA_BYTE);
            }
            Header parsed = parseHeader(path, new String(header, StandardCharsets.UTF_8), size - 8 - headerLength);
            return new SafetensorsFile(path, channel, 8 + headerLength, parsed.tensors, parsed.metadata);
        } catch (NoSuchFileException e) {
            throw new JlensException(path + ": no such file.");
        } catch (IOException e) {
            closeQuietly(channel);
            throw new JlensException(path + ": cannot be read (" + JlensException.describe(e) + ").", e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            if (channel != null) channel.close();
        } catch (IOException ignored) {
            // already failing: the first error is the one to report
        }
    }

    private record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {}

    private static Header parseHeader(Path path, String json, long dataSize) {
        JsonNode root;
        try {
            // A name given twice would silently read one of two tensors: refuse it.
            root = Json.strictTree(json);
        } catch (JsonProcessingException e) {
            throw error(path, "has a header that is not valid JSON (" + Json.describe(e) + ")");
        }
        if (root == null || !root.isObject()) throw error(path, "has a header that is not a JSON object");
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String name = entry.getKey();
            JsonNode node = entry.getValue();
            if (name.equals("__metadata__")) {
                if (!node.isObject()) throw error(path, "has a __metadata__ entry that is not an object of strings");
                node.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            tensors.put(name, parseEntry(path, name, node, dataSize));
        }
        checkNoOverlap(path, tensors.values());
        return new Header(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode node, long dataSize) {
        if (!node.isObject()) throw tensorError(path, name, "is not a JSON object");
        JsonNode dtypeNode = node.get("dtype"), shapeNode = node.get("shape"), offsetsNode = node.get("data_offsets");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw tensorError(path, name, "has no dtype");
        Dtype dtype = Dtype.parse(dtypeNode.asText())
                .orElseThrow(() -> tensorError(path, name, "has unknown dtype " + JlensException.quote(dtypeNode.asText())));
        if (shapeNode == null || !shapeNode.isArray()) throw tensorError(path, name, "has no shape");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode extent = shapeNode.get(i);
            if (!extent.canConvertToLong() || extent.asLong() < 0) {
                throw tensorError(path, name, "has an invalid shape " + shapeNode);
            }
            shape[i] = extent.asLong();
        }
        if (offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2
                || !offsetsNode.get(0).canConvertToLong() || !offsetsNode.get(1).canConvertToLong()) {
            throw tensorError(path, name, "has no valid data_offsets pair");
        }
        long begin = offsetsNode.get(0).asLong(), end = offsetsNode.get(1).asLong();
        if (begin < 0 || end < begin || end > dataSize) {
            throw tensorError(path, name, "has data offsets [" + begin + ", " + end
                    + ") outside the data section of " + dataSize + " bytes");
        }
        TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
        long expected;
        try {
            expected = Math.multiplyExact(info.elements(), dtype.bytes());
        } catch (ArithmeticException e) {
            throw tensorError(path, name, "has a shape " + info.shapeString() + " too large to address");
        }
        if (expected != end - begin) {
            throw tensorError(path, name, "has shape " + info.shapeString() + " of " + dtype + ", which needs "
                    + expected + " bytes, but its data offsets span " + (end - begin));
        }
        return info;
    }

    private static void checkNoOverlap(Path path, Iterable<TensorInfo> infos) {
        List<TensorInfo> sorted = new ArrayList<>();
        infos.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo previous = sorted.get(i - 1), current = sorted.get(i);
            if (current.begin() < previous.end()) {
                throw tensorError(path, current.name(), "has data [" + current.begin() + ", " + current.end()
                        + ") overlapping tensor " + JlensException.quote(previous.name()) + " [" + previous.begin() + ", " + previous.end() + ")");
            }
        }
    }

    @Override
    public Path path() {
        return path;
    }

    /** Tensor names in header order. */
    @Override
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) throw new JlensException(path + ": has no tensor " + JlensException.quote(name) + ".");
        return info;
    }


    /**
     * Reads a floating-point tensor as float32 into {@code reuse} when it has exactly the tensor's
     * size (for temporaries read layer after layer), else into a new array.
     */
    @Override
    public Tensor read(String name, float[] reuse) {
        TensorInfo info = readable(name);
        if (info.elements() > Integer.MAX_VALUE - 8) {
            throw tensorError(path, name, "has " + info.elements() + " elements, more than one float array holds");
        }
        int n = (int) info.elements();
        float[] out = reuse != null && reuse.length == n ? reuse : new float[n];
        readFloats(info, 0, n, out);
        return Tensor.of(out, info.intShape());
    }

    /**
     * A tensor held as {@code type} (as stored when null). When the file already holds that type
     * as the tensor is to be held (16-bit, or float32 past 2^31 elements, which no array holds),
     * the tensor is the file's bytes, mapped read-only into {@code arena}: nothing is copied and
     * pages are read as kernels touch them (a tensor edited later is copied first; the file is
     * never written). Other requests of those kinds are converted window by window into memory of
     * {@code arena}; a float32 tensor an array holds is read into one.
     */
    @Override
    public Tensor read(String name, DataType type, Arena arena) {
        TensorInfo info = readable(name);
        DataType stored = info.dtype().heldAs(), target = type == null ? stored : type;
        long n = info.elements();
        if (!target.isHalf() && n <= Integer.MAX_VALUE - 8) return read(name, (float[]) null);
        try {
            if (stored == target && info.dtype() != Dtype.F64) {
                MemorySegment values = n == 0 ? arena.allocate(0)
                        : channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin(), target.bytes() * n, arena);
                return Tensor.ofSegment(target, values, info.intShape());
            }
        } catch (IOException e) {
            throw unreadable(name, e);
        }
        Tensor out = Tensor.ofSegment(target, arena.allocate(target.bytes() * n, 64), info.intShape());
        float[] window = new float[(int) Math.min(n, WINDOW / 4)];
        for (long first = 0; first < n; first += window.length) {
            int count = (int) Math.min(window.length, n - first);
            readFloats(info, first, count, window);
            out.write(window, 0, first, count);
        }
        return out;
    }

    @Override
    public DataType storedType(String name) {
        return info(name).dtype().heldAs();
    }

    @Override
    public long elements(String name) {
        return info(name).elements();
    }

    /** The tensor's entry, refused with one sentence if jlens cannot hold it as weights. */
    private TensorInfo readable(String name) {
        TensorInfo info = info(name);
        if (!info.dtype().readableAsFloat()) {
            // F8 types are floating point too, but quantised checkpoints need a scale jlens does not read.
            throw tensorError(path, name, "has dtype " + info.dtype() + ", which jlens does not read as weights (it reads F64, F32, F16 and BF16)");
        }
        for (long extent : info.shape()) {
            if (extent > Integer.MAX_VALUE) throw tensorError(path, name, "has an extent of " + extent + " in its shape, past the 2^31 - 1 that jlens's shapes hold");
        }
        return info;
    }

    /** Elements [first, first + count) of the tensor as float32 into out[0..count), a bounded window mapped at a time. */
    private void readFloats(TensorInfo info, long first, int count, float[] out) {
        int bytes = info.dtype().bytes();
        long perWindow = WINDOW / bytes;
        try {
            for (long done = 0; done < count; done += perWindow) {
                int chunk = (int) Math.min(perWindow, count - done);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment src = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin() + (first + done) * bytes,
                            (long) chunk * bytes, arena);
                    convert(info.dtype(), src, out, (int) done, chunk);
                }
            }
        } catch (IOException e) {
            throw unreadable(info.name(), e);
        }
    }

    private JlensException unreadable(String name, IOException e) {
        return new JlensException(path + ": tensor " + JlensException.quote(name) + " cannot be read (" + JlensException.describe(e) + ").", e);
    }

    private static void convert(Dtype dtype, MemorySegment src, float[] out, int at, int n) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, F32_LE, 0, out, at, n);
            case F64 -> {
                for (int i = 0; i < n; i++) out[at + i] = (float) src.getAtIndex(F64_LE, i);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) out[at + i] = Float.float16ToFloat(src.getAtIndex(I16_LE, i));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) out[at + i] = Float.intBitsToFloat((src.getAtIndex(I16_LE, i) & 0xffff) << 16);
            }
            default -> throw new AssertionError(dtype);
        }
    }

    /** Closes the file; tensors already read stay valid. */
    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static JlensException error(Path path, String what) {
        return new JlensException(path + " is not a valid safetensors file: it " + what + ".");
    }

    private static JlensException tensorError(Path path, String tensor, String what) {
        return new JlensException(path + ": tensor " + JlensException.quote(tensor) + " " + what + ".");
    }
}
