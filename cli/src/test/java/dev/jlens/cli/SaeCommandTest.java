package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeArchitecture;
import dev.jlens.analysis.sae.SaeConfig;
import dev.jlens.analysis.sae.SaeFiles;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.Tokens;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jlens sae encode} on a random GPT-2 of the tiny shape with a random TopK SAE in SAELens's layout. */
class SaeCommandTest {
    @TempDir
    static Path dir;
    static Path gpt2, saeDir;
    static Sae sae;

    @BeforeAll
    static void init() {
        gpt2 = dir.resolve("gpt2-tiny");
        assertEquals(0, CommandLineRun.of("init", "--arch", "gpt2", "--preset", "tiny", "--seed", "5", "--out", gpt2.toString()).exitCode());
        SaeConfig cfg = new SaeConfig(SaeArchitecture.TOPK, 128, 256, 16, true, SaeConfig.Normalization.NONE, "blocks.1.hook_resid_pre", "gpt2-tiny", false);
        SplittableRandom rng = new SplittableRandom(3);
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("W_enc", random(rng, 128, 256));
        w.put("W_dec", random(rng, 256, 128));
        w.put("b_enc", random(rng, 256));
        w.put("b_dec", random(rng, 128));
        sae = Sae.of(cfg, w, "test");
        saeDir = dir.resolve("sae");
        SaeFiles.write(sae, saeDir, false);
    }

    static Tensor random(SplittableRandom rng, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rng.nextDouble() - 0.5) * 0.2f;
        return Tensor.of(v, shape);
    }

    @Test
    void encodeWritesTheFeaturesReconstructionAndErrorAtTheHook() {
        Path out = dir.resolve("enc.safetensors");
        CommandLineRun run = CommandLineRun.of("sae", "encode", "--model", gpt2.toString(), "--sae", saeDir.toString(), "--prompt", "The cat sat on the mat",
                "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("topk at blocks.1.hook_resid_pre: 256 features, 16.0 active per position"), run.out());
        LoadedModel loaded = LoadedModel.load(gpt2, WeightProcessing.Options.DEFAULTS); // as the command loads it
        Tokens tokens = Tokens.of(loaded.tokenizer().toTokens("The cat sat on the mat", true));
        Tensor resid = loaded.model().runWithCache(tokens, NameFilter.exactly("blocks.1.hook_resid_pre")).cache().get("blocks.1.hook_resid_pre");
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            Tensor acts = f.read("feature_acts", null), recon = f.read("sae_out", null), error = f.read("sae_error", null);
            assertArrayEquals(new int[] {1, tokens.pos(), 256}, acts.shape());
            assertArrayEquals(new int[] {1, tokens.pos(), 128}, recon.shape());
            assertArrayEquals(sae.encode(resid).data(), acts.data(), 1e-5f);
            assertArrayEquals(sae.decode(sae.encode(resid)).data(), recon.data(), 1e-5f);
            float[] sum = recon.data().clone();
            for (int i = 0; i < sum.length; i++) sum[i] += error.data()[i];
            assertArrayEquals(resid.data(), sum, 1e-5f);
        }
    }

    /**
     * Training on the shipped neox-organism over a slice of its corpus: SAELens's layout written
     * whole, the evaluation reported, and the SAE read back reconstructs better than chance.
     */
    @Test
    void trainWritesAnSaeInSaeLensLayoutWithItsEvaluation() throws java.io.IOException {
        Path corpus = dir.resolve("corpus.txt");
        Files.write(corpus, dev.jlens.experiments.organisms.OrganismCorpus.documents(
                dev.jlens.experiments.organisms.Recipe.named("neox-organism").corpus().mixture(), 9, 300));
        Path out = dir.resolve("trained");
        CommandLineRun run = CommandLineRun.of("sae", "train", "--model", "neox-organism", "--hook", "blocks.1.hook_resid_post", "--d-sae", "256",
                "--architecture", "topk", "--k", "8", "--corpus", corpus.toString(), "--tokens", "40960", "--batch", "512", "--lr", "2e-3",
                "--normalize", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("trained a topk SAE (256 features) at blocks.1.hook_resid_post on 40,960 activations"), run.out());
        for (String f : new String[] {"cfg.json", "sae_weights.safetensors", "sparsity.safetensors", "training.json"}) assertTrue(Files.isRegularFile(out.resolve(f)), f);
        Sae trained = dev.jlens.analysis.sae.SaeFiles.load(out);
        assertEquals(SaeConfig.Normalization.NONE, trained.cfg().normalization(), "the norm scaling is folded in");
        assertEquals("blocks.1.hook_resid_post", trained.cfg().hookName());
        com.fasterxml.jackson.databind.JsonNode summary = dev.jlens.engine.io.Json.read(out.resolve("training.json"));
        assertTrue(summary.get("explained_variance").asDouble() > 0.5, summary.toString());
        assertTrue(summary.get("ce_loss_recovered").asDouble() > 0.5, summary.toString());
        assertEquals(8.0, summary.get("l0").asDouble(), 1e-9);
        // Again into the same directory: refused before any work, the first run's files untouched.
        byte[] before = Files.readAllBytes(out.resolve("sae_weights.safetensors"));
        CommandLineRun again = CommandLineRun.of("sae", "train", "--model", "neox-organism", "--hook", "blocks.1.hook_resid_post", "--d-sae", "256",
                "--corpus", corpus.toString(), "--tokens", "40960", "--out", out.toString());
        assertEquals(1, again.exitCode());
        assertTrue(again.err().contains("already holds cfg.json; pass --overwrite"), again.err());
        assertArrayEquals(before, Files.readAllBytes(out.resolve("sae_weights.safetensors")));
    }

    /** Dashboards: one page per live feature whose shaded tokens carry the feature's activations, an index, and the dead list. */
    @Test
    void featuresWritesADashboardPerLiveFeatureAndListsTheDeadOnes() throws java.io.IOException {
        Path corpus = dir.resolve("feature-corpus.txt");
        Files.write(corpus, java.util.List.of("The cat sat on the mat and looked at the dog.", "A dog ran across the road to the park.",
                "Le chat est sur le tapis.", "She said that he would come back tomorrow morning."));
        Path out = dir.resolve("dashboards");
        CommandLineRun run = CommandLineRun.of("sae", "features", "--model", gpt2.toString(), "--sae", saeDir.toString(), "--corpus", corpus.toString(),
                "--contexts", "6", "--context", "16", "--examples", "3", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        com.fasterxml.jackson.databind.JsonNode summary = dev.jlens.engine.io.Json.read(out.resolve("features.json"));
        int live = 0;
        for (com.fasterxml.jackson.databind.JsonNode f : summary.get("features")) {
            Path page = out.resolve(dev.jlens.experiments.saefeatures.FeatureDashboards.fileName(f.get("index").asInt()));
            if (f.get("fires").asLong() == 0) {
                assertFalse(Files.exists(page));
                continue;
            }
            live++;
            String html = Files.readString(page);
            assertTrue(html.contains("Top activating contexts") && html.contains("Activation histogram") && html.contains("Promoted tokens"), page.toString());
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("data-value=\"([^\"]+)\"").matcher(html);
            float strongest = 0;
            while (m.find()) strongest = Math.max(strongest, Float.parseFloat(m.group(1)));
            assertEquals(f.get("max").asDouble(), strongest, 1e-4 * Math.max(1, strongest), "the shaded tokens carry the activations");
        }
        assertTrue(live > 0);
        assertEquals(256 - live, summary.get("dead").size());
        String index = Files.readString(out.resolve("index.html"));
        assertTrue(index.contains(live + " of 256 features fire"), index);
        assertTrue(run.out().startsWith(live + " of 256 features fire over "), run.out());
    }

    /** A Gemma Scope params.npz (written by numpy) at the hook --hook names; without --hook, one sentence. */
    @Test
    void encodeTakesAGemmaScopeNpzAtTheHookGiven() throws Exception {
        Path npz = Path.of(SaeCommandTest.class.getResource("/npz/params.npz").toURI());
        Path out = dir.resolve("npz.safetensors");
        CommandLineRun run = CommandLineRun.of("sae", "encode", "--model", gpt2.toString(), "--sae", npz.toString(), "--hook", "blocks.1.hook_resid_post",
                "--prompt", "The cat sat", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().startsWith("jumprelu at blocks.1.hook_resid_post: 64 features"), run.out());
        LoadedModel loaded = LoadedModel.load(gpt2, WeightProcessing.Options.DEFAULTS);
        Tokens tokens = Tokens.of(loaded.tokenizer().toTokens("The cat sat", true));
        Tensor resid = loaded.model().runWithCache(tokens, NameFilter.exactly("blocks.1.hook_resid_post")).cache().get("blocks.1.hook_resid_post");
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertArrayEquals(dev.jlens.analysis.sae.SaeFiles.loadNpz(npz).encode(resid).data(), f.read("feature_acts", null).data(), 1e-5f);
        }
        CommandLineRun noHook = CommandLineRun.of("sae", "encode", "--model", gpt2.toString(), "--sae", npz.toString(), "--prompt", "Hi", "--out",
                dir.resolve("never2.safetensors").toString());
        assertEquals(1, noHook.exitCode());
        assertTrue(noHook.err().contains("names no hook point; give one with --hook."), noHook.err());
    }

    /**
     * Gemma Scope's own use: its npz spliced into a Gemma 2 (a random one of jlens's tiny shape, whose
     * d_model the npz's 128 fits) at the residual stream, equal to the library's encoding of the
     * model's activation there; the npz at a hook of another width is one sentence naming both.
     */
    @Test
    void aGemmaScopeNpzRunsOnGemma2() throws Exception {
        Path gemma = dir.resolve("gemma2-tiny");
        CommandLineRun init = CommandLineRun.of("init", "--arch", "gemma2", "--preset", "tiny", "--seed", "4", "--out", gemma.toString());
        assertEquals(0, init.exitCode(), init.err());
        Path npz = Path.of(SaeCommandTest.class.getResource("/npz/params.npz").toURI());
        Path out = dir.resolve("gemma-npz.safetensors");
        CommandLineRun run = CommandLineRun.of("sae", "encode", "--model", gemma.toString(), "--sae", npz.toString(), "--hook", "blocks.1.hook_resid_post",
                "--prompt", "The cat sat", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        LoadedModel loaded = LoadedModel.load(gemma, WeightProcessing.Options.DEFAULTS);
        assertEquals(dev.jlens.models.ModelFamily.GEMMA2, loaded.model().cfg().family());
        Tokens tokens = Tokens.of(loaded.tokenizer().toTokens("The cat sat", true));
        Tensor resid = loaded.model().runWithCache(tokens, NameFilter.exactly("blocks.1.hook_resid_post")).cache().get("blocks.1.hook_resid_post");
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertArrayEquals(dev.jlens.analysis.sae.SaeFiles.loadNpz(npz).encode(resid).data(), f.read("feature_acts", null).data(), 1e-5f);
        }
        Path never = dir.resolve("gemma-never.safetensors");
        CommandLineRun wide = CommandLineRun.of("sae", "encode", "--model", gemma.toString(), "--sae", npz.toString(), "--hook", "blocks.0.mlp.hook_post",
                "--prompt", "Hi", "--out", never.toString());
        assertEquals(1, wide.exitCode());
        assertEquals("jlens: the SAE's d_in is 128, but blocks.0.mlp.hook_post carries 384 values per position in this model.", wide.err().strip());
        assertFalse(Files.exists(never));
    }

    @Test
    void badInputIsOneSentenceAndWritesNothing() {
        Path out = dir.resolve("never.safetensors");
        String[][] cases = {
                {"--sae", "gpt2-small-res-jb", "names a release but no SAE in it; give RELEASE/ID, such as gpt2-small-res-jb/blocks.0.hook_resid_pre."},
                {"--sae", "no-such-release/x", "is neither a directory holding an SAE nor RELEASE/ID of an SAELens release jlens knows"},
                {"--sae", "gpt2-small-res-jb/blocks.99.hook_resid_pre", "release gpt2-small-res-jb has no SAE 'blocks.99.hook_resid_pre'"},
                {"--hook", "blocks.0.mlp.hook_post", "the SAE's d_in is 128, but blocks.0.mlp.hook_post carries 512 values per position in this model."},
                {"--hook", "blocks.0.hook_nothing", "unknown hook point 'blocks.0.hook_nothing'"},
        };
        for (String[] c : cases) {
            String[] args = c[0].equals("--sae")
                    ? new String[] {"sae", "encode", "--model", gpt2.toString(), c[0], c[1], "--prompt", "Hi", "--out", out.toString()}
                    : new String[] {"sae", "encode", "--model", gpt2.toString(), "--sae", saeDir.toString(), c[0], c[1], "--prompt", "Hi", "--out", out.toString()};
            CommandLineRun run = CommandLineRun.of(args);
            assertEquals(1, run.exitCode(), String.join(" ", c));
            assertTrue(run.err().contains(c[2]), run.err());
            assertEquals(1, run.err().strip().lines().count(), run.err());
            assertFalse(Files.exists(out));
        }
    }
}
