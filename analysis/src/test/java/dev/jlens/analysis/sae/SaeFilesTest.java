package dev.jlens.analysis.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.io.Json;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.engine.safetensors.SafetensorsWriter;
import dev.jlens.models.hub.FakeHub;
import dev.jlens.models.hub.HubDownloader;
import dev.jlens.models.hub.HubSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SAELens's directory layout read in both cfg.json forms, written back by its rules, refused when malformed, and fetched by release name. */
class SaeFilesTest {
    @TempDir
    Path dir;

    static final String OLD_TOPK = """
            {"d_in": 6, "d_sae": 12, "dtype": "float32", "device": "cpu", "model_name": "gpt2-small", "hook_name": "blocks.8.hook_resid_pre",
             "hook_layer": 8, "hook_head_index": null, "activation_fn_str": "topk", "activation_fn_kwargs": {"k": 3},
             "apply_b_dec_to_input": true, "finetuning_scaling_factor": false, "context_size": 128, "prepend_bos": true,
             "normalize_activations": "none", "sae_lens_training_version": "3.13.0"}""";
    static final String NEW_JUMPRELU = """
            {"architecture": "jumprelu", "d_in": 6, "d_sae": 12, "dtype": "float32", "device": "cpu", "apply_b_dec_to_input": false,
             "normalize_activations": "none", "reshape_activations": "none",
             "metadata": {"model_name": "gemma-2-2b", "hook_name": "blocks.20.hook_resid_post", "hook_head_index": null, "sae_lens_version": "6.5.0"}}""";

    Path saeDir(String name, String cfg, Map<String, Tensor> weights) throws IOException {
        Path d = dir.resolve(name);
        Files.createDirectories(d);
        Files.writeString(d.resolve("cfg.json"), cfg);
        SafetensorsWriter.write(d.resolve("sae_weights.safetensors"), weights, Map.of());
        return d;
    }

    @Test
    void theOlderFlatFormAndSaeLens6sMetadataFormBothLoad() throws IOException {
        Sae topk = SaeFiles.load(saeDir("old", OLD_TOPK, SaeFixtures.weights(SaeFixtures.config(SaeArchitecture.TOPK, 6, 12, null), 1)));
        assertEquals(SaeArchitecture.TOPK, topk.cfg().architecture());
        assertEquals(3, topk.cfg().k());
        assertEquals("blocks.8.hook_resid_pre", topk.cfg().hookName());
        assertEquals("gpt2-small", topk.cfg().modelName());
        assertTrue(topk.cfg().applyBDecToInput());
        Sae jump = SaeFiles.load(saeDir("new", NEW_JUMPRELU, SaeFixtures.weights(SaeFixtures.config(SaeArchitecture.JUMPRELU, 6, 12, null), 2)));
        assertEquals(SaeArchitecture.JUMPRELU, jump.cfg().architecture());
        assertEquals("blocks.20.hook_resid_post", jump.cfg().hookName());
        assertEquals("gemma-2-2b", jump.cfg().modelName());
        assertEquals(false, jump.cfg().applyBDecToInput());
        // SAELens's own back-compatibility: hook_point for hook_name, a boolean normalize_activations.
        SaeConfig older = SaeConfig.parse(Json.parse("{\"d_in\": 4, \"d_sae\": 8, \"hook_point\": \"blocks.0.hook_resid_pre\", \"normalize_activations\": true}", "x"), "x");
        assertEquals("blocks.0.hook_resid_pre", older.hookName());
        assertEquals(SaeConfig.Normalization.EXPECTED_AVERAGE_ONLY_IN, older.normalization());
        assertEquals(SaeArchitecture.STANDARD, older.architecture());
    }

    /** What jlens writes reads back identically, and follows SAELens 6's rules: tensor names and shapes, cfg.json keys. */
    @Test
    void writtenSaesFollowSaeLensLayoutAndReadBack() throws IOException {
        Sae sae = SaeFixtures.sae(SaeArchitecture.TOPK, 6, 12, "blocks.1.hook_resid_post", 3);
        Path out = dir.resolve("written");
        SaeFiles.write(sae, out, false);
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("sae_weights.safetensors"))) {
            assertEquals(List.of("W_dec", "W_enc", "b_dec", "b_enc"), f.names().stream().sorted().toList());
            assertArrayEquals(new long[] {6, 12}, f.info("W_enc").shape());
            assertArrayEquals(new long[] {12, 6}, f.info("W_dec").shape());
            assertArrayEquals(new long[] {12}, f.info("b_enc").shape());
            assertArrayEquals(new long[] {6}, f.info("b_dec").shape());
        }
        JsonNode cfg = Json.read(out.resolve("cfg.json"));
        for (String key : List.of("architecture", "d_in", "d_sae", "dtype", "device", "apply_b_dec_to_input", "normalize_activations", "reshape_activations", "k", "metadata")) {
            assertTrue(cfg.has(key), key);
        }
        assertEquals("topk", cfg.get("architecture").asText());
        assertEquals("blocks.1.hook_resid_post", cfg.get("metadata").get("hook_name").asText());
        Sae back = SaeFiles.load(out);
        assertEquals(sae.cfg(), back.cfg());
        Tensor x = SaeFixtures.random(new SplittableRandom(4), 1, 5, 6);
        assertArrayEquals(sae.encode(x).data(), back.encode(x).data(), 0f);
        JlensException exists = assertThrows(JlensException.class, () -> SaeFiles.write(sae, out, false));
        assertTrue(exists.getMessage().contains("it was left as it is"), "never overwritten unasked: " + exists.getMessage());
    }

    @Test
    void malformedConfigsAndWeightsAreRefusedInOneSentenceNamingTheField() throws IOException {
        Map<String, Tensor> w = SaeFixtures.weights(SaeFixtures.config(SaeArchitecture.STANDARD, 6, 12, null), 5);
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"{\"d_in\": 6, ", "is not valid JSON"});
        cases.add(new String[] {"{\"d_sae\": 12}", "has no 'd_in'"});
        cases.add(new String[] {"{\"d_in\": \"six\", \"d_sae\": 12}", "'d_in' is '\"six\"', not a whole number"});
        cases.add(new String[] {"{\"d_in\": -6, \"d_sae\": 12}", "'d_in' is -6, not a positive number"});
        cases.add(new String[] {"{\"d_in\": 6, \"d_sae\": 12, \"architecture\": \"matryoshka\"}", "architecture 'matryoshka' is not one jlens runs (standard, topk, jumprelu, gated)"});
        cases.add(new String[] {"{\"d_in\": 6, \"d_sae\": 12, \"architecture\": \"topk\"}", "a topk SAE needs 'k'"});
        cases.add(new String[] {"{\"d_in\": 6, \"d_sae\": 12, \"normalize_activations\": \"layer_norm\"}", "normalize_activations \"layer_norm\" is not one jlens runs"});
        cases.add(new String[] {"{\"d_in\": 6, \"d_sae\": 12, \"metadata\": 3}", "'metadata' is not an object"});
        cases.add(new String[] {"{\"d_in\": 6, \"d_sae\": 12, \"hook_head_index\": 2}", "'hook_head_index' is 2"});
        cases.add(new String[] {"{\"d_in\": 7, \"d_sae\": 12}", "tensor 'W_enc' has shape [6, 12], where the cfg.json's d_in and d_sae make it [7, 12]"});
        int i = 0;
        for (String[] c : cases) {
            Path d = saeDir("bad" + i++, c[0], w);
            JlensException e = assertThrows(JlensException.class, () -> SaeFiles.load(d), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(e.getMessage().startsWith(d.toString()), "names the file: " + e.getMessage());
            assertEquals(1, e.getMessage().split("\\. ").length, "one sentence: " + e.getMessage());
        }
        Map<String, Tensor> missing = new LinkedHashMap<>(w);
        missing.remove("b_enc");
        JlensException e = assertThrows(JlensException.class, () -> SaeFiles.load(saeDir("missing", "{\"d_in\": 6, \"d_sae\": 12}", missing)));
        assertTrue(e.getMessage().endsWith("has no tensor 'b_enc', which a standard SAE needs."), e.getMessage());
        Map<String, Tensor> extra = new LinkedHashMap<>(w);
        extra.put("scaling_factor", Tensor.zeros(12));
        e = assertThrows(JlensException.class, () -> SaeFiles.load(saeDir("extra", "{\"d_in\": 6, \"d_sae\": 12}", extra)));
        assertTrue(e.getMessage().endsWith("holds scaling_factor, which a standard SAE does not have."), e.getMessage());
        e = assertThrows(JlensException.class, () -> SaeFiles.load(dir.resolve("nowhere")));
        assertTrue(e.getMessage().contains("is not a directory holding an SAE"), e.getMessage());
    }

    /**
     * A release/id pair through a hub on loopback: the repository and folder from SAELens's list,
     * the files cached as the hub's cache keeps them, and a release's norm scaling factor folded in
     * (gpt2-small-mlp-tm trained on inputs scaled by it).
     */
    @Test
    void releasesResolveThroughTheHubAndFoldTheirNormScalingFactor() throws IOException {
        Map<String, Tensor> w = SaeFixtures.weights(SaeFixtures.config(SaeArchitecture.STANDARD, 6, 12, null), 6);
        String cfg = "{\"d_in\": 6, \"d_sae\": 12, \"hook_name\": \"blocks.2.hook_mlp_out\", \"normalize_activations\": \"expected_average_only_in\"}";
        Path local = saeDir("tm", cfg, w);
        SaeReleases.Entry entry = SaeReleases.entry("gpt2-small-mlp-tm", "blocks.2.hook_mlp_out");
        assertEquals("tommmcgrath/gpt2-small-mlp-out-saes", entry.repo());
        assertEquals("sae_group_gpt2_blocks.2.hook_mlp_out_24576:v0", entry.folder());
        assertEquals("blocks.8.hook_resid_pre", SaeReleases.entry("gpt2-small-res-jb", "blocks.8.hook_resid_pre").folder());
        assertEquals("e-res-sm", SaeReleases.entry("pythia-70m-deduped-res-sm", "blocks.0.hook_resid_pre").folder());
        try (FakeHub hub = new FakeHub()) {
            Map<String, byte[]> files = new LinkedHashMap<>();
            files.put(entry.folder() + "/cfg.json", Files.readAllBytes(local.resolve("cfg.json")));
            files.put(entry.folder() + "/sae_weights.safetensors", Files.readAllBytes(local.resolve("sae_weights.safetensors")));
            files.put("README.md", new byte[] {'#'});
            hub.put(entry.repo(), files);
            HubSettings settings = new HubSettings(hub.endpoint(), null, dir.resolve("hub"), false);
            Sae fetched = SaeReleases.load("gpt2-small-mlp-tm", "blocks.2.hook_mlp_out", settings, HubDownloader.Listener.NONE);
            assertEquals(SaeConfig.Normalization.NONE, fetched.cfg().normalization());
            // Folded: the SAE reads unscaled x as the original read factor·x, and reconstructs x's own scale.
            Sae original = SaeFiles.load(local);
            double factor = entry.normScalingFactor();
            Tensor x = SaeFixtures.random(new SplittableRandom(7), 1, 4, 6);
            float[] scaled = x.data().clone();
            for (int i = 0; i < scaled.length; i++) scaled[i] *= (float) factor;
            assertArrayEquals(original.encode(Tensor.of(scaled, 4, 6)).data(), fetched.encode(x).data(), 1e-5f);
            float[] back = original.decode(original.encode(Tensor.of(scaled, 4, 6))).data();
            for (int i = 0; i < back.length; i++) back[i] /= (float) factor;
            assertArrayEquals(back, fetched.decode(fetched.encode(x)).data(), 1e-5f);
            // Offline, the cache answers.
            Sae cached = SaeReleases.load("gpt2-small-mlp-tm", "blocks.2.hook_mlp_out", new HubSettings(hub.endpoint(), null, dir.resolve("hub"), true),
                    HubDownloader.Listener.NONE);
            assertArrayEquals(fetched.encode(x).data(), cached.encode(x).data(), 0f);
        }
        JlensException unknown = assertThrows(JlensException.class, () -> SaeReleases.entry("gpt2-small-res-jb", "blocks.13.hook_resid_pre"));
        assertTrue(unknown.getMessage().startsWith("release gpt2-small-res-jb has no SAE 'blocks.13.hook_resid_pre'; its ids are blocks.0.hook_resid_pre"), unknown.getMessage());
        unknown = assertThrows(JlensException.class, () -> SaeReleases.entry("nonsense", "x"));
        assertTrue(unknown.getMessage().startsWith("'nonsense' is not an SAELens release jlens knows"), unknown.getMessage());
    }

    /**
     * A Gemma Scope params.npz as numpy writes it (src/test/resources/npz): a JumpReLU SAE that does
     * not subtract b_dec from its input, placed at the hook it is given, computing as SAELens's
     * formulas say; and the canonical release through the hub, placed at its layer's resid_post.
     */
    @Test
    void gemmaScopeNpzFilesAndTheirCanonicalReleaseLoad() throws Exception {
        Path npz = Path.of(SaeFilesTest.class.getResource("/npz/params.npz").toURI());
        Sae sae = SaeFiles.loadNpz(npz);
        assertEquals(SaeArchitecture.JUMPRELU, sae.cfg().architecture());
        assertEquals(false, sae.cfg().applyBDecToInput());
        assertEquals(8, sae.cfg().dIn());
        assertEquals(16, sae.cfg().dSae());
        assertEquals(null, sae.cfg().hookName());
        assertEquals("blocks.3.hook_resid_post", sae.atHook("blocks.3.hook_resid_post").cfg().hookName());
        Map<String, Tensor> w = new LinkedHashMap<>();
        sae.parameters().forEach((name, p) -> w.put(name, p.value()));
        Tensor x = SaeFixtures.random(new SplittableRandom(9), 2, 5, 8);
        float[] acts = sae.encode(x).data();
        for (int row = 0; row < 5; row++) {
            double[][] ref = SaeTest.reference(sae.cfg(), w, x.data(), row);
            for (int j = 0; j < 16; j++) assertEquals(ref[0][j], acts[row * 16 + j], 1e-5);
        }
        SaeReleases.Entry entry = SaeReleases.entry("gemma-scope-2b-pt-res-canonical", "layer_12/width_16k/canonical");
        assertEquals("google/gemma-scope-2b-pt-res", entry.repo());
        assertEquals("blocks.12.hook_resid_post", entry.npzHook());
        try (FakeHub hub = new FakeHub()) {
            hub.put(entry.repo(), Map.of(entry.folder() + "/params.npz", Files.readAllBytes(npz)));
            Sae fetched = SaeReleases.load("gemma-scope-2b-pt-res-canonical", "layer_12/width_16k/canonical",
                    new HubSettings(hub.endpoint(), null, dir.resolve("hub"), false), HubDownloader.Listener.NONE);
            assertEquals("blocks.12.hook_resid_post", fetched.cfg().hookName());
            assertArrayEquals(acts, fetched.encode(x).data(), 0f);
        }
    }
}
