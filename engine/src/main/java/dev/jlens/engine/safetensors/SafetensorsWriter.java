package dev.jlens.engine.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.io.Outputs;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Writes tensors as a safetensors file, each in the type it is held in (F32, BF16 or F16). The file appears whole or not at all: it is
 * written beside its destination under a temporary name and moved into place at the end.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /** Writes {@code tensors} in their iteration order, with optional string metadata, replacing a file of that name. */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {
        write(path, tensors, metadata, true);
    }

    /**
     * As {@link #write(Path, Map, Map)}; without {@code replace} an existing file (one that appeared
     * while this one was written included) is left as it is and the write fails.
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata, boolean replace) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode header = mapper.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> entry : tensors.entrySet()) {
            Tensor t = entry.getValue();
            ObjectNode node = header.putObject(entry.getKey());
            node.put("dtype", stored(t.dtype()).name());
            ArrayNode shape = node.putArray("shape");
            for (int extent : t.shape()) shape.add(extent);
            long bytes = (long) t.dtype().bytes() * t.size();
            node.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the data section starts 8-byte aligned
        Path temp = null;
        try {
            temp = Outputs.temporaryFileBeside(path);
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(padded).put(json);
                while (head.hasRemaining()) head.put((byte) ' ');
                writeFully(out, head.flip());
                ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                for (Tensor t : tensors.values()) {
                    if (t.dtype().isHalf()) {
                        // The 16-bit values are already little-endian, as the file wants them; a byte buffer holds < 2 GB.
                        MemorySegment values = t.halfValues();
                        for (long at = 0; at < values.byteSize(); at += 1L << 30) {
                            writeFully(out, values.asSlice(at, Math.min(1L << 30, values.byteSize() - at)).asByteBuffer());
                        }
                        continue;
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
            }
            Outputs.publishFile(temp, path, replace);
        } catch (IOException e) {
            if (temp != null) Outputs.discard(temp);
            throw new JlensException(path + ": cannot be written (" + JlensException.describe(e) + ").", e);
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
}
