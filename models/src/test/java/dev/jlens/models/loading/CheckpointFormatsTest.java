package dev.jlens.models.loading;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.TorchCheckpointWriter;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.TestModels;
import dev.jlens.models.Tokens;
import dev.jlens.models.components.Activation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same model read from every format jlens reads gives the same logits. */
class CheckpointFormatsTest {
    @TempDir
    Path dir;

    @Test
    void aSoluModelInTransformerLensFormatLoadsFromSafetensorsAndFromAPthFile() throws IOException {
        Config cfg = TestModels.solu();
        HookedTransformer original = TestModels.random(cfg, 31);
        Map<String, Tensor> state = state(original);
        Path safetensors = dir.resolve("solu");
        ModelExport.write(safetensors, cfg, state);
        String config = Files.readString(safetensors.resolve("config.json"));
        assertTrue(config.contains("\"act_fn\" : \"solu_ln\""), config);

        Path pth = dir.resolve("solu-pth");
        Files.createDirectories(pth);
        Files.copy(safetensors.resolve("config.json"), pth.resolve("config.json"));
        TorchCheckpointWriter.write(pth.resolve("final.pth"), state);

        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 9, 32));
        float[] expected = original.forward(tokens).data();
        assertArrayEquals(expected, ModelLoader.load(safetensors).forward(tokens).data());
        assertArrayEquals(expected, ModelLoader.load(pth).forward(tokens).data());
    }

    @Test
    void anOldSoluCheckpointIsConvertedAsTransformerLensConvertsIt() throws IOException {
        Config cfg = TestModels.solu();
        HookedTransformer original = TestModels.random(cfg, 37);
        Map<String, Tensor> old = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state(original).entrySet()) {
            String name = e.getKey().replace("ln_final.", "norm.").replace("ln", "norm");
            Tensor t = e.getValue();
            boolean leftFacing = name.contains("W_"); // a 1-layer model: every matrix, W_pos included
            old.put(name, leftFacing ? t.transposeLastTwo() : t);
        }
        Path d = dir.resolve("solu-old");
        ModelExport.write(dir.resolve("solu-new"), cfg, state(original));
        Files.createDirectories(d);
        Files.copy(dir.resolve("solu-new/config.json"), d.resolve("config.json"));
        TorchCheckpointWriter.write(d.resolve("final.pth"), old);
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 9, 38));
        assertArrayEquals(original.forward(tokens).data(), ModelLoader.load(d).forward(tokens).data());
    }

    @Test
    void aMissingOrMisShapedTensorIsNamed() throws IOException {
        Config cfg = TestModels.gpt2();
        Path good = dir.resolve("gpt2-good");
        ModelExport.write(good, cfg, huggingFaceState(TestModels.random(cfg, 41)));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(good.resolve("model.safetensors"))) {
            for (String name : file.names()) tensors.put(name, file.read(name));
        }
        Path missing = dir.resolve("gpt2-missing"), misShaped = dir.resolve("gpt2-misshaped");
        for (Path d : new Path[] {missing, misShaped}) {
            Files.createDirectories(d);
            Files.copy(good.resolve("config.json"), d.resolve("config.json"));
        }
        Map<String, Tensor> without = new LinkedHashMap<>(tensors);
        without.remove("h.1.attn.c_attn.weight");
        dev.jlens.engine.safetensors.SafetensorsWriter.write(missing.resolve("model.safetensors"), without, Map.of());
        JlensException e = assertThrows(JlensException.class, () -> ModelLoader.load(missing));
        assertTrue(e.getMessage().contains("missing tensor 'h.1.attn.c_attn.weight' (expected shape [16, 48])"), e.getMessage());

        Map<String, Tensor> wrong = new LinkedHashMap<>(tensors);
        wrong.put("h.0.mlp.c_fc.weight", Tensor.zeros(16, 33));
        dev.jlens.engine.safetensors.SafetensorsWriter.write(misShaped.resolve("model.safetensors"), wrong, Map.of());
        JlensException e2 = assertThrows(JlensException.class, () -> ModelLoader.load(misShaped));
        assertTrue(e2.getMessage().contains("tensor 'h.0.mlp.c_fc.weight' has shape [16, 33] but the config needs [16, 32]"), e2.getMessage());
    }

    @Test
    void gpt2FromPytorchModelBinEqualsGpt2FromSafetensors() throws IOException {
        Config cfg = TestModels.gpt2();
        Path hf = dir.resolve("gpt2");
        ModelExport.write(hf, cfg, huggingFaceState(TestModels.random(cfg, 33)));
        Path bin = dir.resolve("gpt2-bin");
        Files.createDirectories(bin);
        Files.copy(hf.resolve("config.json"), bin.resolve("config.json"));
        Map<String, Tensor> hfTensors = new LinkedHashMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(hf.resolve("model.safetensors"))) {
            // as GPT2LMHeadModel saves them: the transformer's tensors prefixed, lm_head at the top
            for (String name : file.names()) hfTensors.put(name.startsWith("lm_head") ? name : "transformer." + name, file.read(name));
        }
        TorchCheckpointWriter.write(bin.resolve("pytorch_model.bin"), hfTensors);
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 9, 34));
        assertArrayEquals(ModelLoader.load(hf).forward(tokens).data(), ModelLoader.load(bin).forward(tokens).data());
    }

    @Test
    void neoxWithoutRotaryAndWithASequentialResidualIsAGpt2StyleComputation() {
        Config neox = Config.builder().family(ModelFamily.GPT_NEOX).nLayers(2).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(37).nCtx(24).actFn(Activation.GELU).build();
        Config gpt2 = Config.builder().family(ModelFamily.GPT2).nLayers(2).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(37).nCtx(24).actFn(Activation.GELU).build();
        Map<String, Tensor> state = huggingFaceState(TestModels.random(gpt2, 35));
        java.util.Arrays.fill(state.get("pos_embed.W_pos").data(), 0f); // NeoX without rotary has no positions
        Path neoxDir = dir.resolve("neox-norotary"), gpt2Dir = dir.resolve("gpt2-same");
        ModelExport.write(neoxDir, neox, state);
        ModelExport.write(gpt2Dir, gpt2, state);
        Tokens tokens = Tokens.of(TestModels.randomTokens(gpt2, 10, 36));
        Tensor viaNeox = ModelLoader.load(neoxDir).forward(tokens), viaGpt2 = ModelLoader.load(gpt2Dir).forward(tokens);
        for (int i = 0; i < viaGpt2.size(); i++) assertEquals(viaGpt2.data()[i], viaNeox.data()[i], 1e-5, "logit " + i);
    }

    @Test
    void transformerLensConfigsNameTheirPositionsAsNeelsModelsDo() throws IOException {
        Path d = dir.resolve("shortformer");
        Files.createDirectories(d);
        String common = "\"d_model\": 16, \"n_layers\": 1, \"d_mlp\": 32, \"d_head\": 8, \"n_heads\": 2, "
                + "\"n_ctx\": 24, \"d_vocab\": 37, \"act_fn\": \"solu_ln\", \"normalization\": \"LN\"";
        Files.writeString(d.resolve("config.json"), "{" + common + ", \"shortformer_pos\": true}");
        assertTrue(ModelLoader.config(d).shortformer());
        Files.writeString(d.resolve("config.json"), "{" + common + ", \"shortformer_pos\": false}");
        assertFalse(ModelLoader.config(d).shortformer());
        Files.writeString(d.resolve("config.json"), "{" + common + ", \"positional_embedding_type\": \"alibi\"}");
        JlensException e = assertThrows(JlensException.class, () -> ModelLoader.config(d));
        assertTrue(e.getMessage().contains("positional embeddings of type 'alibi' are not supported"), e.getMessage());
    }

    @Test
    void aShortformerModelRoundTripsThroughItsDirectory() {
        Config cfg = TestModels.shortformer();
        HookedTransformer original = TestModels.random(cfg, 39);
        Path d = dir.resolve("shortformer-model");
        ModelExport.write(d, cfg, state(original));
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 9, 40));
        assertArrayEquals(original.forward(tokens).data(), ModelLoader.load(d).forward(tokens).data());
    }

    /** Weights Hugging Face's classes can hold: no unembedding bias. */
    private static Map<String, Tensor> huggingFaceState(HookedTransformer model) {
        Map<String, Tensor> state = state(model);
        java.util.Arrays.fill(state.get("unembed.b_U").data(), 0f);
        return state;
    }

    private static Map<String, Tensor> state(HookedTransformer model) {
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Parameter p : model.parameters().values()) state.put(p.name(), p.value().copy());
        return state;
    }
}
