package dev.jlens.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void indexingIsRowMajorAndReshapeSharesData() {
        Tensor t = Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 2, 3);
        assertEquals(5, t.get(1, 2));
        assertEquals(3, t.dim(-1));
        Tensor flat = t.reshape(3, 2);
        flat.set(9, 2, 1);
        assertEquals(9, t.get(1, 2));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(2, 0));
    }

    @Test
    void plusAddsElementwiseIntoANewTensorAndRefusesOtherShapes() {
        Tensor a = Tensor.of(new float[] {1, 2, 3}, 3), b = Tensor.of(new float[] {10, 20, 30}, 3);
        assertArrayEquals(new float[] {11, 22, 33}, a.plus(b).data());
        assertArrayEquals(new float[] {1, 2, 3}, a.data());
        assertThrows(IllegalArgumentException.class, () -> a.plus(Tensor.zeros(1, 3)));
    }

    @Test
    void ioFailuresAreDescribedInWords() {
        assertEquals("no such file or directory: /a/b", JlensException.describe(new java.nio.file.NoSuchFileException("/a/b")));
        assertEquals("permission denied: /c", JlensException.describe(new java.nio.file.AccessDeniedException("/c")));
        assertEquals("disk full", JlensException.describe(new java.io.IOException("disk full")));
    }

    @Test
    void parameterGradientsStartAtZeroAndZeroGradClearsThem() {
        Parameter p = Parameter.of("embed.W_E", Tensor.zeros(2, 2));
        p.grad().data()[3] = 5;
        p.zeroGrad();
        assertArrayEquals(new float[4], p.grad().data());
    }

    @Test
    void sixteenBitTensorsRoundToNearestEvenAndWidenExactly() {
        // 1 + 2^-8 lies halfway between bf16's 1 and 1 + 2^-7: ties go to the even one, 1.
        float[] values = {1f, 1f + 0x1p-8f, 1f + 0x1p-8f + 0x1p-12f, -3.3f, 65504f, 0x1p-24f};
        Tensor bf16 = Tensor.of(values.clone(), 2, 3);
        bf16.convertTo(DataType.BFLOAT16);
        assertEquals(DataType.BFLOAT16, bf16.dtype());
        assertEquals(12, bf16.segment().byteSize());
        assertEquals(1f, bf16.get(0, 1));
        assertEquals(1f + 0x1p-7f, bf16.get(0, 2));
        assertEquals(Float.intBitsToFloat(Float.floatToIntBits(-3.3f) + 0x8000 & 0xFFFF0000), bf16.get(1, 0));
        Tensor f16 = Tensor.of(values.clone(), 6);
        f16.convertTo(DataType.FLOAT16);
        for (int i = 0; i < values.length; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(values[i])), f16.get(i), "f16 " + i);

        float[] widened = bf16.copy().data();
        for (int i = 0; i < 6; i++) assertEquals(bf16.get(i / 3, i % 3), widened[i], "widening is exact: " + i);
        assertEquals(DataType.BFLOAT16, bf16.dtype(), "copy() leaves the original 16-bit");
    }

    @Test
    void sixteenBitSetCopyAndTransposeKeepTheType() {
        Tensor t = Tensor.zeros(DataType.BFLOAT16, 2, 3);
        t.set(2.5f, 1, 2);
        t.set(-1f, 0, 1);
        Tensor transposed = t.transposeLastTwo();
        assertEquals(DataType.BFLOAT16, transposed.dtype());
        assertArrayEquals(new int[] {3, 2}, transposed.shape());
        assertEquals(2.5f, transposed.get(2, 1));
        assertEquals(-1f, transposed.get(1, 0));
        Tensor copy = t.copy();
        copy.set(7f, 0, 0);
        assertEquals(0f, t.get(0, 0), "a copy does not alias");
        assertEquals(true, t.sameValues(t.copy()));
        assertEquals(false, t.sameValues(copy));
        Tensor other = Tensor.zeros(DataType.BFLOAT16, 6);
        t.copyTo(3, other, 0, 3);
        assertEquals(2.5f, other.get(2));
        assertThrows(IllegalArgumentException.class, () -> t.copyTo(0, Tensor.zeros(6), 0, 3));
    }

    @Test
    void aReadOnlyMappingIsCopiedBeforeItIsEdited() {
        java.lang.foreign.MemorySegment bytes = java.lang.foreign.Arena.ofAuto().allocate(4);
        bytes.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) 0x3F80); // 1.0 in bf16, little-endian
        java.lang.foreign.MemorySegment readOnly = bytes.asReadOnly();
        Tensor mapped = Tensor.ofSegment(DataType.BFLOAT16, readOnly, 2);
        mapped.set(4f, 1);
        assertEquals(1f, mapped.get(0));
        assertEquals(4f, mapped.get(1));
        assertEquals(0, bytes.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2), "the mapped bytes are never written");
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofSegment(DataType.BFLOAT16, readOnly, 3));
    }

    @Test
    void timesScalesIntoANewTensorOfTheSameTypeRoundingSixteenBitValuesOnce() {
        Tensor floats = Tensor.of(new float[] {1, -2, 0.1f, 3}, 2, 2);
        Tensor scaled = floats.times(48f);
        assertArrayEquals(new float[] {48, -96, 0.1f * 48f, 144}, scaled.data());
        assertEquals(1f, floats.get(0, 0), "the original is left as it was");
        // 1 + 2^-7 is exact in bfloat16; times 3 it is 3 + 3·2^-7, which needs a ninth bit and rounds to even (3 + 2^-5).
        Tensor bf16 = Tensor.of(new float[] {1 + 0x1p-7f, 0.5f}, 2);
        bf16.convertTo(DataType.BFLOAT16);
        Tensor tripled = bf16.times(3f);
        assertEquals(DataType.BFLOAT16, tripled.dtype());
        assertEquals(3 + 0x1p-5f, tripled.valueAt(0));
        assertEquals(1.5f, tripled.valueAt(1));
        assertEquals(1 + 0x1p-7f, bf16.valueAt(0), "the original is left as it was");
    }

    @Test
    void aDerivedTensorHoldsNoValuesUntilReadThenEqualsWhatTimesOrTransposeMakes() {
        for (DataType type : DataType.values()) {
            Tensor source = Tensor.of(new float[] {1 + 0x1p-7f, -2, 0.1f, 3, 5e-3f, -0.75f}, 2, 3);
            source.convertTo(type);
            Tensor scaled = Tensor.derived(new Tensor.Scaled(source, 48f)), transposed = Tensor.derived(new Tensor.Transposed(source));
            assertArrayEquals(new int[] {2, 3}, scaled.shape());
            assertArrayEquals(new int[] {3, 2}, transposed.shape());
            assertEquals(type, scaled.dtype(), "of the source's type before it is made");
            assertFalse(scaled.isOnDevice());
            scaled.convertTo(type); // to its own type: nothing to make
            assertSame(source, scaled.derivation().source(), "still pending");
            assertSame(source, transposed.derivation().source());

            Tensor expectedScaled = source.times(48f), expectedTransposed = source.transposeLastTwo();
            // Any read makes the values: an element, a block, the whole as the kernels take it.
            assertEquals(expectedScaled.valueAt(4), scaled.valueAt(4), type + ": " + scaled);
            assertNull(scaled.derivation(), "made once read");
            float[] block = new float[6];
            transposed.read(0, block, 0, 6);
            assertNull(transposed.derivation());
            for (int i = 0; i < 6; i++) {
                assertEquals(expectedScaled.valueAt(i), scaled.valueAt(i), type + " scaled " + i);
                assertEquals(expectedTransposed.valueAt(i), block[i], type + " transposed " + i);
            }
            assertTrue(scaled.sameValues(expectedScaled) && transposed.sameValues(expectedTransposed), type.toString());
            assertEquals(type, scaled.dtype());
        }
    }

    @Test
    void aCopyOfAPendingDerivedTensorIsAnotherMakingNothingAndEditedApart() {
        Tensor source = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor transposed = Tensor.derived(new Tensor.Transposed(source)), copy = transposed.copy(), viewCopy = transposed.reshape(6).copy();
        assertSame(source, copy.derivation().source());
        assertSame(source, transposed.derivation().source(), "the original still pending");
        assertArrayEquals(new int[] {6}, viewCopy.shape());
        copy.set(-1f, 0, 0);
        assertArrayEquals(new float[] {-1, 4, 2, 5, 3, 6}, copy.data());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, transposed.data(), "the original unaffected by the copy's edit");
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, viewCopy.data());
    }

    @Test
    void writingToADerivedTensorMakesItFirstAndLeavesTheSourceAsItWas() {
        Tensor source = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor scaled = Tensor.derived(new Tensor.Scaled(source, 2f)), view = scaled.reshape(4);
        scaled.set(-1f, 0, 1);
        assertArrayEquals(new float[] {2, -1, 6, 8}, view.data(), "made, then edited, and seen by its view");
        assertArrayEquals(new float[] {1, 2, 3, 4}, source.data());
        Tensor transposed = Tensor.derived(new Tensor.Transposed(source));
        transposed.data()[1] = 9f;
        assertArrayEquals(new float[] {1, 9, 2, 4}, transposed.data());
        assertArrayEquals(new float[] {1, 2, 3, 4}, source.data());
    }

    @Test
    void aDerivedTensorIsMadeOnceWhenManyThreadsReachForItAtOnce() throws Exception {
        Tensor source = Tensor.of(new float[1 << 16], 256, 256);
        for (int i = 0; i < source.size(); i++) source.data()[i] = i;
        source.convertTo(DataType.BFLOAT16);
        Tensor transposed = Tensor.derived(new Tensor.Transposed(source));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            java.util.List<java.util.concurrent.Future<java.lang.foreign.MemorySegment>> segments = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) segments.add(pool.submit(transposed::segment));
            java.lang.foreign.MemorySegment first = segments.getFirst().get();
            for (var s : segments) assertEquals(first.address(), s.get().address(), "one set of values");
        } finally {
            pool.shutdown();
        }
        assertEquals(source.get(3, 200), transposed.get(200, 3));
    }
}
