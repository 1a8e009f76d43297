package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jlens spark activations} on embedded local[2]: every row what {@code jlens cache} gives for the document alone, each exactly once. */
class ActivationsLocalTest {
    static final String NAMES = "blocks\\.1\\.hook_resid_post|blocks\\.0\\.attn\\.hook_pattern|blocks\\.2\\.mlp\\.hook_post";

    @TempDir
    Path dir;

    static List<String> corpus() {
        return List.of("When John and Mary went to the shops, John gave the bag to Mary.", "The capital of France is Paris.",
                "Il était une fois une petite fille.", "", "A dog ran across the road to the park and back again, twice.",
                "She said that he would come back tomorrow morning.", "Numbers: 1, 2, 3, 4, 5.", "The end.");
    }

    /** Key: doc, pos, hook. */
    static Map<String, float[]> expected(List<String> docs) {
        return expected(docs, NAMES);
    }

    static Map<String, float[]> expected(List<String> docs, String names) {
        LoadedModel loaded = LoadedModel.load(ShippedModels.resolve(ShippedModels.GPT2), WeightProcessing.Options.DEFAULTS);
        HookedTransformer model = loaded.model();
        Map<String, float[]> rows = new HashMap<>();
        for (int d = 0; d < docs.size(); d++) {
            List<ActivationRow> out = new ArrayList<>();
            ActivationsJob.rowsOf(loaded, model, NameFilter.regex(names), docs.get(d), d, out);
            for (ActivationRow r : out) rows.put(r.getDoc() + "/" + r.getPos() + "/" + r.getHook(), r.getValues());
        }
        return rows;
    }

    static void assertSame(Map<String, float[]> expected, List<Row> rows) {
        assertEquals(expected.size(), rows.size(), "one row per (document, position, hook), none twice");
        Map<String, Integer> seen = new HashMap<>();
        for (Row r : rows) {
            // Parquet keeps the types written; JSON reads every number as a long or a double.
            String key = ((Number) r.get(0)).longValue() + "/" + ((Number) r.get(1)).intValue() + "/" + r.getString(3);
            assertEquals(null, seen.put(key, 1), "duplicate row " + key);
            float[] want = expected.get(key);
            assertTrue(want != null, "unexpected row " + key);
            List<Object> got = r.getList(4);
            assertEquals(want.length, got.size(), key);
            for (int i = 0; i < want.length; i++) {
                float g = ((Number) got.get(i)).floatValue();
                assertEquals(want[i], g, 1e-6 * Math.max(1, Math.abs(want[i])), key + "[" + i + "]");
            }
        }
    }

    @Test
    void localTwoGivesWhatJlensCacheGivesForEveryRowInParquetAndJson() throws Exception {
        Path corpus = dir.resolve("corpus.txt");
        Files.write(corpus, corpus());
        Map<String, float[]> expected = expected(corpus());
        for (String format : List.of("parquet", "json")) {
            Path out = dir.resolve("out-" + format);
            int code = SparkCli.run("activations", "--model", ShippedModels.GPT2, "--corpus", corpus.toString(), "--names", NAMES, "--out", out.toString(),
                    "--master", "local[2]", "--partitions", "3", "--format", format);
            assertEquals(0, code);
            assertTrue(Files.isRegularFile(out.resolve("_SUCCESS")));
            SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
            try {
                var read = spark.read().format(format).load(out.toString());
                assertArrayEquals(ActivationsJob.COLUMNS, format.equals("parquet") ? read.columns() : new String[] {"doc", "pos", "token", "hook", "values"},
                        "the columns, in order");
                assertSame(expected, read.select("doc", "pos", "token", "hook", "values").collectAsList());
            } finally {
                spark.stop();
            }
        }
    }

    @Test
    void badInputIsOneSentenceAndNothingIsWritten() throws Exception {
        Path corpus = dir.resolve("corpus.txt");
        Files.write(corpus, corpus());
        Path out = dir.resolve("never");
        assertEquals(1, SparkCli.run("activations", "--corpus", dir.resolve("missing.txt").toString(), "--names", "x", "--out", out.toString()));
        assertEquals(1, SparkCli.run("activations", "--corpus", corpus.toString(), "--names", "(", "--out", out.toString()));
        assertEquals(1, SparkCli.run("activations", "--corpus", corpus.toString(), "--names", "x", "--format", "csv", "--out", out.toString()));
        Files.createDirectories(dir.resolve("mine"));
        Files.writeString(dir.resolve("mine/notes.txt"), "mine");
        assertEquals(1, SparkCli.run("activations", "--corpus", corpus.toString(), "--names", "x", "--out", dir.resolve("mine").toString(), "--overwrite"));
        assertEquals("mine", Files.readString(dir.resolve("mine/notes.txt")));
        assertTrue(!Files.exists(out));
    }
}
