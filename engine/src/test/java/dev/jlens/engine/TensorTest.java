package dev.jlens.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
