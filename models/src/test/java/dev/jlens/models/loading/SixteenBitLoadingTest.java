package dev.jlens.models.loading;

import static dev.jlens.testkit.Close.assertCloseToScale;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.safetensors.Dtype;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.Config;
import dev.jlens.models.HeldTypes;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.TestModels;
import dev.jlens.models.Tokens;
import dev.jlens.models.WeightProcessing;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checkpoints of 16-bit weights stay 16-bit when loaded (as stored), in every layout jlens writes:
 * the same logits as the model that was saved, bit for bit; --dtype converts either way.
 */
class SixteenBitLoadingTest {
    @TempDir
    Path dir;

    static Stream<Config> configs() {
        return TestModels.all();
    }

    @ParameterizedTest
    @MethodSource("configs")
    void sixteenBitCheckpointsLoadAsStoredAndConvertOnRequest(Config cfg) {
        for (DataType type : new DataType[] {DataType.BFLOAT16, DataType.FLOAT16}) {
            Map<String, Tensor> state = RandomWeights.of(cfg, 3, 0.2, type);
            HookedTransformer saved = HookedTransformer.fromStateDict(cfg, state);
            Path model = dir.resolve(cfg.family() + "-" + type + "-" + cfg.hashCode());
            ModelExport.write(model, cfg, state);
            String what = cfg.family() + " " + type;
            try (SafetensorsFile file = SafetensorsFile.open(model.resolve("model.safetensors"))) {
                long sixteen = file.names().stream().filter(n -> file.info(n).dtype() == (type == DataType.BFLOAT16 ? Dtype.BF16 : Dtype.F16)).count();
                assertTrue(sixteen > 0, what + ": the matrices are written 16-bit");
            }
            Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 9, 4));
            float[] expected = saved.forward(tokens).data();

            HookedTransformer asStored = ModelLoader.load(model);
            assertEquals(type, HeldTypes.of(asStored), what + " is held as stored");
            asStored.parameters().forEach((name, p) -> assertEquals(HeldTypes.isMatrix(name) ? type : DataType.FLOAT32, p.value().dtype(), what + " " + name));
            assertArrayEquals(expected, asStored.forward(tokens).data(), what + ": the logits of the model saved");
            // Gemma's W_E is √d_model times what the file stores: a copy, where every other family's is the file's bytes.
            assertEquals(!cfg.family().scalesEmbedding(), asStored.parameter("embed.W_E").value().segment().isReadOnly(),
                    what + ": W_E is the file's bytes, mapped, unless scaled");

            HookedTransformer wide = ModelLoader.load(model, WeightProcessing.Options.NONE, DataType.FLOAT32);
            assertEquals(DataType.FLOAT32, HeldTypes.of(wide));
            assertCloseToScale(expected, wide.forward(tokens).data(), 1e-5, what + " held as float32");
        }
    }
}
