package dev.jlens.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Tensor;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class RandomWeightsTest {
    static java.util.stream.Stream<Config> configs() {
        return TestModels.all();
    }

    /** GPT-2's initialisation: zero biases (grouped-query attention's _b_K and _b_V included), unit norm weights, random matrices. */
    @ParameterizedTest
    @MethodSource("configs")
    void biasesAreZeroNormWeightsOneAndMatricesRandom(Config cfg) {
        for (Map.Entry<String, Tensor> e : RandomWeights.of(cfg, 3, 0.02).entrySet()) {
            String last = e.getKey().substring(e.getKey().lastIndexOf('.') + 1);
            float[] d = e.getValue().data();
            if (last.matches("_?b(_.*)?")) {
                for (float v : d) assertEquals(0f, v, e.getKey());
            } else if (last.equals("w")) {
                for (float v : d) assertEquals(1f, v, e.getKey());
            } else {
                double sumSquares = 0;
                for (float v : d) sumSquares += v * v;
                assertTrue(sumSquares > 0, e.getKey() + " is random");
            }
        }
    }
}
