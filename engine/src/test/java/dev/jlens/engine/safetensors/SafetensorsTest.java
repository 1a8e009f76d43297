package dev.jlens.engine.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.testkit.Shared;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void writeThenReadRoundTripsValuesShapesAndMetadata() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a", Tensor.of(new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, 7}, 2, 3));
        tensors.put("b.scalar", Tensor.scalar(42f));
        tensors.put("c.empty", Tensor.zeros(0, 4));
        Path file = dir.resolve("round.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(java.util.List.of("a", "b.scalar", "c.empty"), st.names());
            assertEquals("pt", st.metadata().get("format"));
            for (var entry : tensors.entrySet()) {
                Tensor read = st.read(entry.getKey());
                assertArrayEquals(entry.getValue().shape(), read.shape(), entry.getKey());
                assertArrayEquals(entry.getValue().data(), read.data(), entry.getKey());
            }
        }
        assertFalse(Files.exists(dir.resolve(".round.safetensors.partial")), "no temporary file left behind");
    }

    /** Pending tensors are made as the writer reaches them, in order; one that is not what it announced leaves no file. */
    @Test
    void pendingTensorsAreMadeInTurnAndAMismatchLeavesNothing() {
        java.util.List<String> made = new java.util.ArrayList<>();
        Map<String, SafetensorsWriter.Pending> tensors = new LinkedHashMap<>();
        Tensor first = Tensor.of(new float[] {1, 2, 3}, 3);
        tensors.put("first", SafetensorsWriter.Pending.of(first));
        tensors.put("second", SafetensorsWriter.Pending.later(DataType.BFLOAT16, new int[] {2, 2}, () -> {
            made.add("second");
            Tensor t = Tensor.of(new float[] {0.5f, -1, 2, 4}, 2, 2);
            t.convertTo(DataType.BFLOAT16);
            return t;
        }));
        Path file = dir.resolve("pending.safetensors");
        SafetensorsWriter.writePending(file, tensors, Map.of(), false);
        assertEquals(java.util.List.of("second"), made);
        assertArrayEquals(new float[] {1, 2, 3}, first.data(), "a tensor that existed is left as it was");
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(DataType.BFLOAT16, st.read("second", null, java.lang.foreign.Arena.ofAuto()).dtype());
            assertArrayEquals(new float[] {0.5f, -1, 2, 4}, st.read("second").data());
        }

        tensors.put("third", SafetensorsWriter.Pending.later(DataType.FLOAT32, new int[] {5}, () -> Tensor.zeros(4)));
        Path wrong = dir.resolve("wrong.safetensors");
        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.writePending(wrong, tensors, Map.of(), false));
        try (var files = Files.list(dir)) {
            assertEquals(java.util.List.of("pending.safetensors"), files.map(f -> f.getFileName().toString()).toList());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void dataSectionIsEightByteAligned() throws IOException {
        Path file = dir.resolve("aligned.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.zeros(3)), Map.of());
        ByteBuffer head = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, head.getLong() % 8);
    }

    @Test
    void halfAndBfloat16AreWidenedExactly() throws IOException {
        // 1.0, -2.5, 65504 (largest half), a subnormal half (2^-24)
        short[] half = {(short) 0x3C00, (short) 0xC100, (short) 0x7BFF, (short) 0x0001};
        // bf16 is the top half of a float's bits
        short[] bf16 = {(short) 0x3F80, (short) 0xC020, (short) 0x4049};
        byte[] data = concat(RawSafetensors.shorts(half), RawSafetensors.shorts(bf16));
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[8,14]}}";
        Path file = RawSafetensors.write(dir.resolve("mixed.safetensors"), header, data);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {1f, -2.5f, 65504f, (float) Math.pow(2, -24)}, st.read("h").data());
            assertArrayEquals(new float[] {1f, -2.5f, Float.intBitsToFloat(0x40490000)}, st.read("b").data());
        }
    }

    @Test
    void readsTensorsPastTwoGigabytes() throws IOException {
        // A sparse file: 2.2 GB of unread U8 padding, then a float tensor whose offsets exceed 2^31.
        long pad = 2_200_000_000L;
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + pad + "],\"data_offsets\":[0," + pad + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + pad + "," + (pad + 8) + "]}}";
        byte[] headerBytes = header.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer head = ByteBuffer.allocate(8 + headerBytes.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(headerBytes.length).put(headerBytes);
            raf.write(head.array());
            raf.seek(8 + headerBytes.length + pad);
            raf.write(RawSafetensors.floats(3.25f, -1f));
        }
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {3.25f, -1f}, st.read("tail").data());
            JlensException notFloat = assertThrows(JlensException.class, () -> st.read("pad"));
            assertTrue(notFloat.getMessage().contains("'pad'"), notFloat.getMessage());
        }
    }

    @Test
    void readsTheGoldenModelFile() {
        Path golden = Shared.path("golden/gpt2-micro/model.safetensors");
        try (SafetensorsFile st = SafetensorsFile.open(golden)) {
            assertTrue(st.names().size() > 10, "tensors: " + st.names());
            for (String name : st.names()) {
                TensorInfo info = st.info(name);
                if (info.dtype().readableAsFloat()) assertEquals(info.elements(), st.read(name).size(), name);
            }
        }
    }

    // ---- malformed files: one case each, one sentence naming the file and the tensor ----

    @Test
    void headerLengthPastTheEndOfTheFile() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("long.safetensors"), 10_000, "{}", new byte[0]);
        assertRefused(file, "past the end of the file");
    }

    @Test
    void fileShorterThanTheHeaderLength() throws IOException {
        Path file = dir.resolve("tiny.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertRefused(file, "too short");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("json.safetensors"), "{\"a\": [1, 2", new byte[0]);
        assertRefused(file, "not valid JSON");
    }

    @Test
    void unknownDtype() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        Path file = RawSafetensors.write(dir.resolve("dtype.safetensors"), header, new byte[4]);
        assertRefused(file, "tensor 'w' has unknown dtype 'F17'");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        Path file = RawSafetensors.write(dir.resolve("range.safetensors"), header, new byte[8]);
        assertRefused(file, "tensor 'w' has data offsets [0, 16) outside the data section of 8 bytes");
    }

    @Test
    void offsetsBackwards() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}";
        Path file = RawSafetensors.write(dir.resolve("backwards.safetensors"), header, new byte[8]);
        assertRefused(file, "tensor 'w' has data offsets [8, 4)");
    }

    @Test
    void overlappingTensors() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        Path file = RawSafetensors.write(dir.resolve("overlap.safetensors"), header, new byte[12]);
        assertRefused(file, "tensor 'b' has data [4, 12) overlapping tensor 'a'");
    }

    @Test
    void shapeNotMatchingTheByteCount() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}";
        Path file = RawSafetensors.write(dir.resolve("shape.safetensors"), header, new byte[20]);
        assertRefused(file, "tensor 'w' has shape [2, 3] of F32, which needs 24 bytes, but its data offsets span 20");
    }

    @Test
    void negativeExtentInShape() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}";
        Path file = RawSafetensors.write(dir.resolve("negative.safetensors"), header, new byte[4]);
        assertRefused(file, "tensor 'w' has an invalid shape");
    }

    @Test
    void missingFileAndMissingTensor() throws IOException {
        assertRefused(dir.resolve("absent.safetensors"), "no such file");
        Path file = dir.resolve("one.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.zeros(1)), Map.of());
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            JlensException e = assertThrows(JlensException.class, () -> st.read("y"));
            assertTrue(e.getMessage().contains("has no tensor 'y'"), e.getMessage());
        }
    }

    private static void assertRefused(Path file, String expected) {
        JlensException e = assertThrows(JlensException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().endsWith("."), "one sentence: " + e.getMessage());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
