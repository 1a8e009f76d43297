package dev.jlens.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void whatTheWriterWritesReadsBackExactly() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("embed.W_E", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2));
        tensors.put("blocks.0.attn.W_Q", Tensor.of(new float[] {-1.5f, 0.25f, 7f, 8f, 9f, 10f, 11f, 12f}, 2, 2, 2));
        tensors.put("unembed.b_U", Tensor.of(new float[] {0.5f}, 1));
        Path file = dir.resolve("model.pth");
        TorchCheckpointWriter.write(file, tensors);
        try (TorchCheckpoint checkpoint = TorchCheckpoint.open(file)) {
            assertEquals(List.copyOf(tensors.keySet()), checkpoint.names());
            for (var e : tensors.entrySet()) {
                Tensor read = checkpoint.read(e.getKey());
                assertArrayEquals(e.getValue().shape(), read.shape(), e.getKey());
                assertArrayEquals(e.getValue().data(), read.data(), e.getKey());
            }
        }
    }

    @Test
    void readsHalfAndBfloat16StoragesStridedViewsMemoAndMetadataAndSkipsNonFloatBuffers() throws IOException {
        PickleBuilder p = new PickleBuilder();
        p.op(0x80).op(2).global("collections", "OrderedDict").op(')').op('R').op('q').op(0); // memo 0 = the dict
        p.op('(');
        // "h": F16 [2] from storage 0
        p.string("h").tensor("HalfStorage", "0", 2, 0, new int[] {2}, new int[] {1});
        // "t": the transpose of a 2x3 F32 storage: shape [3, 2], strides [1, 3]
        p.string("t").tensor("FloatStorage", "1", 6, 0, new int[] {3, 2}, new int[] {1, 3});
        // "b": BF16 [2] at offset 1 of storage 2
        p.string("b").tensor("BFloat16Storage", "2", 3, 1, new int[] {2}, new int[] {1});
        // "mask": a bool buffer, not a weight
        p.string("mask").tensor("BoolStorage", "3", 4, 0, new int[] {4}, new int[] {1});
        p.op('u');
        // state dicts carry _metadata, set with BUILD
        p.op('}').string("_metadata").op('}').op('s').op('b');
        p.op('.');
        Path file = zip("ckpt.bin", p.bytes(), Map.of(
                "0", shorts((short) 0x3C00, (short) 0xC100), // 1.0, -2.5
                "1", floats(1, 2, 3, 4, 5, 6),
                "2", shorts((short) 0, (short) 0x3F80, (short) 0xC020), // offset 1: 1.0, -2.5
                "3", new byte[] {1, 0, 1, 1}));
        try (TorchCheckpoint checkpoint = TorchCheckpoint.open(file)) {
            assertEquals(List.of("h", "t", "b"), checkpoint.names());
            assertArrayEquals(new float[] {1f, -2.5f}, checkpoint.read("h").data());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, checkpoint.read("t").data());
            assertArrayEquals(new int[] {3, 2}, checkpoint.read("t").shape());
            assertArrayEquals(new float[] {1f, -2.5f}, checkpoint.read("b").data());
        }
    }

    @Test
    void aStorageThatInflatesPastItsDeclaredSizeIsRefusedAfterReadingOnlyThat() throws IOException {
        PickleBuilder p = new PickleBuilder();
        p.op(0x80).op(2).op('}').op('(');
        p.string("w").tensor("FloatStorage", "0", 4, 0, new int[] {4}, new int[] {1});
        p.op('u').op('.');
        // 256 MiB of zeros deflate to a few hundred kilobytes; the tensor declares 16 bytes.
        Path file = zip("bomb.pth", p.bytes(), Map.of("0", new byte[256 << 20]));
        assertTrue(Files.size(file) < (2 << 20), "the file is small: " + Files.size(file));
        try (TorchCheckpoint checkpoint = TorchCheckpoint.open(file)) {
            JlensException e = assertThrows(JlensException.class, () -> checkpoint.read("w"));
            assertTrue(e.getMessage().contains("storage '0' inflates past the 16 bytes its tensors declare"), e.getMessage());
        }
    }

    @Test
    void aViewReachingOutsideItsStorageOrSizedToOverflowIsRefused() throws IOException {
        PickleBuilder p = new PickleBuilder();
        p.op(0x80).op(2).op('}').op('(');
        p.string("past").tensor("FloatStorage", "0", 4, 2, new int[] {3}, new int[] {1});
        p.string("negative").tensor("FloatStorage", "0", 4, 0, new int[] {-2}, new int[] {1});
        p.string("huge").tensor("FloatStorage", "0", 4, 0, new int[] {65536, 65536}, new int[] {0, 0});
        p.op('u').op('.');
        Path file = zip("views.pth", p.bytes(), Map.of("0", floats(1, 2, 3, 4)));
        try (TorchCheckpoint checkpoint = TorchCheckpoint.open(file)) {
            assertTrue(assertThrows(JlensException.class, () -> checkpoint.read("past")).getMessage().contains("reaches outside its storage of 4 elements"));
            assertTrue(assertThrows(JlensException.class, () -> checkpoint.read("negative")).getMessage().contains("has a negative size, -2"));
            assertTrue(assertThrows(JlensException.class, () -> checkpoint.read("huge")).getMessage().contains("too many for one float array"));
        }
    }

    @Test
    void aPickleThatNamesAnyOtherGlobalIsRefusedWithoutRunningIt() throws IOException {
        PickleBuilder p = new PickleBuilder();
        p.op(0x80).op(2).global("os", "system").string("touch " + dir.resolve("pwned")).op(0x85).op('R').op('.');
        Path file = zip("evil.pth", p.bytes(), Map.of());
        JlensException e = assertThrows(JlensException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().contains("refers to 'os.system'") && e.getMessage().contains("never run code"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("pwned")));

        PickleBuilder builtins = new PickleBuilder();
        builtins.op(0x80).op(4).string("builtins").string("eval").op(0x93).op('.');
        JlensException e2 = assertThrows(JlensException.class, () -> TorchCheckpoint.open(zip("eval.pth", builtins.bytes(), Map.of())));
        assertTrue(e2.getMessage().contains("builtins.eval"), e2.getMessage());
    }

    @Test
    void filesThatAreNotZipCheckpointsAreNamed() throws IOException {
        Path legacy = dir.resolve("legacy.bin");
        Files.write(legacy, new byte[] {(byte) 0x80, 2, 'K', 1, '.'});
        JlensException e = assertThrows(JlensException.class, () -> TorchCheckpoint.open(legacy));
        assertTrue(e.getMessage().startsWith(legacy + ": is not a zip-format PyTorch checkpoint"), e.getMessage());
        Path noPickle = zip("empty.pth", null, Map.of());
        assertTrue(assertThrows(JlensException.class, () -> TorchCheckpoint.open(noPickle)).getMessage().contains("has no data.pkl"));
    }

    private Path zip(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            if (pickle != null) {
                zip.putNextEntry(new ZipEntry("archive/data.pkl"));
                zip.write(pickle);
            }
            for (var e : storages.entrySet()) {
                zip.putNextEntry(new ZipEntry("archive/data/" + e.getKey()));
                zip.write(e.getValue());
            }
        }
        return file;
    }

    private static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    private static byte[] shorts(short... values) {
        ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : values) b.putShort(v);
        return b.array();
    }

    /** Pickle bytes by opcode, for hand-made checkpoints. */
    private static final class PickleBuilder {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        PickleBuilder op(int code) {
            out.write(code);
            return this;
        }

        PickleBuilder global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        PickleBuilder string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            op(0x8c).op(bytes.length);
            out.writeBytes(bytes);
            return this;
        }

        PickleBuilder integer(int v) {
            if (v >= 0 && v < 256) return op('K').op(v);
            op('J'); // BININT: four bytes, little-endian, signed
            for (int i = 0; i < 4; i++) op((v >>> (8 * i)) & 0xff);
            return this;
        }

        PickleBuilder tensor(String storage, String key, int elements, int offset, int[] size, int[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').string("storage").global("torch", storage).string(key).string("cpu").integer(elements).op('t').op('Q');
            integer(offset);
            op('(');
            for (int s : size) integer(s);
            op('t').op('(');
            for (int s : stride) integer(s);
            op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
