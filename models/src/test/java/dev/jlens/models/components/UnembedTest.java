package dev.jlens.models.components;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Logits of more values than an array holds are made in native memory a block of rows at a time:
 * the same logits as one product into an array, for blocks that divide the rows and blocks that
 * do not, tied or not. (Past 2^31 values the test would need 8 GB; the blocks are the same code.)
 */
class UnembedTest {
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void logitsInNativeMemoryEqualLogitsInAnArray(boolean tied) {
        int d = 24, vocab = 75, batch = 2, pos = 7;
        SplittableRandom rng = new SplittableRandom(tied ? 3 : 4);
        Parameter bias = Parameter.of("unembed.b_U", random(rng, vocab));
        Unembed unembed = tied ? Unembed.tiedTo(Parameter.of("embed.W_E", random(rng, vocab, d)), bias)
                : Unembed.of(Parameter.of("unembed.W_U", random(rng, d, vocab)), bias);
        Tensor x = random(rng, batch, pos, d);
        Tensor inArray = unembed.forward(x, false);
        assertTrue(!inArray.inSegment());
        for (int blockRows : new int[] {1, 3, 5, 14, 100}) {
            Tensor inSegment = unembed.inNativeMemory(x, blockRows);
            assertTrue(inSegment.inSegment(), "held in native memory");
            assertArrayEquals(inArray.shape(), inSegment.shape());
            for (long i = 0; i < inArray.elements(); i++) {
                assertEquals(inArray.valueAt(i), inSegment.valueAt(i), 1e-5f * (1 + Math.abs(inArray.valueAt(i))), "blocks of " + blockRows + ", value " + i);
            }
            inSegment.free();
        }
    }

    private static Tensor random(SplittableRandom rng, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) t.data()[i] = (float) rng.nextGaussian();
        return t;
    }
}
