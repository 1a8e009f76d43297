package dev.jlens.engine.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.io.Outputs;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Writes tensors as a safetensors file, each in the type it is held in (F32, BF16 or F16). The file appears whole or not at all: it is
 * written beside its destination under a temporary name and moved into place at the end.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /**
     * A tensor to write, made only when its turn comes and freed as soon as it is written: an export
     * that lays weights out anew (transposed, say) then holds one of them at a time, not a second
     * copy of the model.
     */
    public record Pending(DataType type, int[] shape, Supplier<Tensor> values, boolean made) {
        /** A tensor that exists already and is left as it is. */
        public static Pending of(Tensor t) {
            return new Pending(t.dtype(), t.shape(), () -> t, false);
        }

        /** A tensor of this type and shape that {@code values} makes when it is written. */
        public static Pending later(DataType type, int[] shape, Supplier<Tensor> values) {
            return new Pending(type, shape.clone(), values, true);
        }

        long bytes() {
            long n = type.bytes();
            for (int extent : shape) n *= extent;
            return n;
        }
    }

    /** Writes {@code tensors} in their iteration order, with optional string metadata, replacing a file of that name. */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {
        write(path, tensors, metadata, true);
    }

    /**
     * As {@link #write(Path, Map, Map)}; without {@code replace} an existing file (one that appeared
     * while this one was written included) is left as it is and the write fails.
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata, boolean replace) {
        Map<String, Pending> pending = new LinkedHashMap<>();
        tensors.forEach((name, t) -> pending.put(name, Pending.of(t)));
        writePending(path, pending, metadata, replace);
    }

    /** As {@link #write(Path, Map, Map, boolean)}, each tensor made as it is written. */
    public static void writePending(Path path, Map<String, Pending> tensors, Map<String, String> metadata, boolean replace) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode header = mapper.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Pending> entry : tensors.entrySet()) {
            Pending t = entry.getValue();
            ObjectNode node = header.putObject(entry.getKey());
            node.put("dtype", stored(t.type()).name());
            ArrayNode shape = node.putArray("shape");
            for (int extent : t.shape()) shape.add(extent);
            long bytes = t.bytes();
            node.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the data section starts 8-byte aligned
        Path temp = null;
        boolean published = false;
        try {
            temp = Outputs.temporaryFileBeside(path);
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(padded).put(json);
                while (head.hasRemaining()) head.put((byte) ' ');
                writeFully(out, head.flip());
                ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                for (Map.Entry<String, Pending> entry : tensors.entrySet()) {
                    Pending pending = entry.getValue();
                    Tensor t = pending.values().get();
                    if (t.dtype() != pending.type() || !Arrays.equals(t.shape(), pending.shape())) {
                        throw new IllegalStateException(entry.getKey() + " was announced as " + pending.type() + " " + Arrays.toString(pending.shape())
                                + " but made as " + t);
                    }
                    write(out, t, chunk);
                    if (pending.made()) t.free();
                }
                // A file that ends in a hole gets its length from one last zero byte.
                if (out.size() < out.position()) writeFully(out, ByteBuffer.allocate(1), out.position() - 1);
            }
            Outputs.publishFile(temp, path, replace);
            published = true;
        } catch (IOException e) {
            throw new JlensException(path + ": cannot be written (" + JlensException.describe(e) + ").", e);
        } finally {
            if (!published && temp != null) Outputs.discard(temp);
        }
    }

    /** Blocks of a segment that are all zero are skipped, leaving holes: the file is as sparse as its tensors. */
    private static final long BLOCK = 1 << 20;
    private static final MemorySegment ZEROS = Arena.global().allocate(BLOCK);

    /** One tensor's values as the file stores them, at the channel's position, which it leaves after them. */
    private static void write(FileChannel out, Tensor t, ByteBuffer chunk) throws IOException {
        if (t.inSegment()) {
            // Already little-endian, as the file wants them (16-bit values, or float32 too many for an array).
            MemorySegment values = t.segment();
            for (long at = 0; at < values.byteSize(); at += BLOCK) {
                long n = Math.min(BLOCK, values.byteSize() - at);
                MemorySegment block = values.asSlice(at, n);
                if (block.mismatch(ZEROS.asSlice(0, n)) == -1) out.position(out.position() + n);
                else writeFully(out, block.asByteBuffer());
            }
            return;
        }
        float[] values = t.data();
        for (int i = 0; i < values.length; ) {
            int n = Math.min(values.length - i, chunk.capacity() / 4);
            chunk.clear();
            chunk.asFloatBuffer().put(values, i, n);
            chunk.limit(4 * n);
            writeFully(out, chunk);
            i += n;
        }
    }

    private static Dtype stored(DataType type) {
        return switch (type) {
            case FLOAT32 -> Dtype.F32;
            case BFLOAT16 -> Dtype.BF16;
            case FLOAT16 -> Dtype.F16;
        };
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) out.write(buffer);
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) position += out.write(buffer, position);
    }
}
