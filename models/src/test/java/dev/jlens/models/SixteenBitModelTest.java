package dev.jlens.models;

import static dev.jlens.testkit.Close.assertCloseToScale;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A model whose matrices are held 16-bit computes what a float32 model of the very same (rounded)
 * values computes, forward and backward, on every architecture; and its matrices are still 16-bit
 * afterwards, so no step widened them behind the kernels' back. Gradients are float32.
 */
class SixteenBitModelTest {
    static Stream<Config> configs() {
        return TestModels.all();
    }

    @ParameterizedTest
    @MethodSource("configs")
    void forwardAndBackwardEqualFloat32OfTheRoundedValues(Config cfg) {
        for (DataType type : new DataType[] {DataType.BFLOAT16, DataType.FLOAT16}) {
            Map<String, Tensor> rounded = new LinkedHashMap<>();
            TestModels.random(cfg, 5).parameters().forEach((name, p) -> {
                Tensor t = p.value().copy();
                t.convertTo(type);
                t.convertTo(DataType.FLOAT32);
                rounded.put(name, t);
            });
            Map<String, Tensor> held = new LinkedHashMap<>();
            rounded.forEach((name, t) -> held.put(name, t.copy()));
            HeldTypes.hold(held, type);
            HookedTransformer wide = HookedTransformer.fromStateDict(cfg, rounded), narrow = HookedTransformer.fromStateDict(cfg, held);
            Tokens tokens = Tokens.padded(0, TestModels.randomTokens(cfg, 9, 6), TestModels.randomTokens(cfg, 5, 7));

            assertCloseToScale(wide.forward(tokens).data(), narrow.forward(tokens).data(), 1e-5, cfg.family() + " " + type + " logits");
            wide.zeroGrad();
            narrow.zeroGrad();
            wide.lossAndBackward(tokens);
            narrow.lossAndBackward(tokens);
            for (Map.Entry<String, Parameter> e : narrow.parameters().entrySet()) {
                Parameter p = e.getValue();
                String what = cfg.family() + " " + type + " " + e.getKey();
                assertEquals(HeldTypes.isMatrix(e.getKey()) ? type : DataType.FLOAT32, p.value().dtype(), what + " keeps its type");
                assertEquals(DataType.FLOAT32, p.grad().dtype(), what + " has a float32 gradient");
                assertCloseToScale(wide.parameter(e.getKey()).grad().data(), p.grad().data(), 1e-4, what + " gradient");
            }
        }
    }
}
