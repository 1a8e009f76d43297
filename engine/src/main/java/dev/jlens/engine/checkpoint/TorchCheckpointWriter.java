package dev.jlens.engine.checkpoint;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes float32 tensors as torch.save writes a state dict: a zip archive holding
 * {@code archive/data.pkl} (pickle protocol 2: an OrderedDict of torch._utils._rebuild_tensor_v2
 * calls on persistent storages), {@code archive/data/<i>} (each storage's raw little-endian floats),
 * and {@code archive/version}. {@code torch.load} reads the result; so does {@link TorchCheckpoint}.
 */
public final class TorchCheckpointWriter {
    private TorchCheckpointWriter() {}

    public static void write(Path path, Map<String, Tensor> tensors) {
        Path temp = path.toAbsolutePath().resolveSibling("." + path.getFileName() + ".partial");
        try (OutputStream file = Files.newOutputStream(temp); ZipOutputStream zip = new ZipOutputStream(file)) {
            stored(zip, "archive/data.pkl", pickle(tensors));
            int key = 0;
            for (Tensor t : tensors.values()) {
                ByteBuffer data = ByteBuffer.allocate(4 * t.size()).order(ByteOrder.LITTLE_ENDIAN);
                data.asFloatBuffer().put(t.data());
                stored(zip, "archive/data/" + key++, data.array());
            }
            stored(zip, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new JlensException(path + ": cannot be written (" + JlensException.describe(e) + ").", e);
        }
        try {
            Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new JlensException(path + ": cannot be written (" + JlensException.describe(e) + ").", e);
        }
    }

    /** Entries are stored uncompressed, as torch.save does, so storages can be read in place. */
    private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(bytes.length);
        CRC32 crc = new CRC32();
        crc.update(bytes);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(bytes);
        zip.closeEntry();
    }

    static byte[] pickle(Map<String, Tensor> tensors) {
        Pickle p = new Pickle();
        p.op(0x80).op(2); // PROTO 2
        p.global("collections", "OrderedDict").op(')').op('R'); // OrderedDict()
        p.op('(');
        int key = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            p.string(e.getKey());
            p.global("torch._utils", "_rebuild_tensor_v2");
            p.op('(');
            p.op('(').string("storage").global("torch", "FloatStorage").string(String.valueOf(key++)).string("cpu").integer(t.size())
                    .op('t').op('Q'); // BINPERSID
            p.integer(0);
            int[] shape = t.shape();
            p.op('(');
            for (int extent : shape) p.integer(extent);
            p.op('t');
            p.op('(');
            long stride = 1;
            long[] strides = new long[shape.length];
            for (int axis = shape.length - 1; axis >= 0; axis--) {
                strides[axis] = stride;
                stride *= shape[axis];
            }
            for (long s : strides) p.integer((int) s);
            p.op('t');
            p.op(0x89); // requires_grad = False
            p.global("collections", "OrderedDict").op(')').op('R'); // backward hooks
            p.op('t').op('R');
        }
        p.op('u'); // SETITEMS
        p.op('.');
        return p.bytes();
    }

    /** The few pickle opcodes a state dict needs. */
    private static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int code) {
            out.write(code);
            return this;
        }

        Pickle global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length).array());
            out.writeBytes(bytes);
            return this;
        }

        Pickle integer(int v) {
            op('J');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
