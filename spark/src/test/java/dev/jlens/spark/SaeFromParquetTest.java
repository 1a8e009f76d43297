package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.analysis.sae.ActivationBuffer;
import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeArchitecture;
import dev.jlens.analysis.sae.SaeConfig;
import dev.jlens.analysis.sae.SaeFiles;
import dev.jlens.analysis.sae.SaeTrainer;
import dev.jlens.models.hub.ShippedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SAE training from the Parquet that {@code jlens spark activations} wrote: the SAE it writes is,
 * bit for bit, the one the same trainer makes from the same rows in the same order held in memory.
 */
class SaeFromParquetTest {
    @TempDir
    Path dir;

    @Test
    void trainingFromTheParquetIsTrainingOnItsRows() throws Exception {
        Path corpus = dir.resolve("corpus.txt");
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 40; i++) docs.addAll(ActivationsLocalTest.corpus());
        Files.write(corpus, docs);
        Path acts = dir.resolve("acts"), out = dir.resolve("sae");
        String hook = "blocks.1.hook_resid_pre";
        assertEquals(0, SparkCli.run("activations", "--model", ShippedModels.GPT2, "--corpus", corpus.toString(), "--names", "blocks\\.1\\.hook_resid_pre",
                "--out", acts.toString(), "--master", "local[1]"));
        assertEquals(0, SparkCli.run("sae-train", "--activations", acts.toString(), "--hook", hook, "--d-sae", "64", "--k", "4", "--tokens", "2048",
                "--batch", "128", "--lr", "1e-3", "--out", out.toString(), "--master", "local[1]"));
        Sae written = SaeFiles.load(out);

        List<float[]> rows = new ArrayList<>();
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
        try {
            for (Row r : spark.read().parquet(acts.toString()).filter(org.apache.spark.sql.functions.col("hook").equalTo(hook)).select("values").collectAsList()) {
                List<Object> v = r.getList(0);
                float[] f = new float[v.size()];
                for (int i = 0; i < f.length; i++) f[i] = ((Number) v.get(i)).floatValue();
                rows.add(f);
            }
        } finally {
            spark.stop();
        }
        int width = rows.getFirst().length;
        int[] next = {0};
        ActivationBuffer.Source inMemory = () -> {
            // As the Parquet reader hands them over: up to 256 rows a call, from the start again at the end.
            int n = Math.min(256, rows.size() - next[0]);
            float[] chunk = new float[n * width];
            for (int i = 0; i < n; i++) System.arraycopy(rows.get(next[0] + i), 0, chunk, i * width, width);
            next[0] = next[0] + n == rows.size() ? 0 : next[0] + n;
            return chunk;
        };
        SaeConfig cfg = new SaeConfig(SaeArchitecture.TOPK, width, 64, 4, true, SaeConfig.Normalization.NONE, hook, null, false);
        Sae expected = SaeTrainer.train(new ActivationBuffer(inMemory, width, 128, 16, 0), new SaeTrainer.Options(cfg, 2048, 128, 1e-3, 5, 1, 10, false, 0),
                SaeTrainer.Listener.NONE);
        for (String name : List.of("W_enc", "W_dec", "b_enc", "b_dec")) {
            assertArrayEquals(expected.parameters().get(name).value().data(), written.parameters().get(name).value().data(), 0f, name);
        }
    }
}
