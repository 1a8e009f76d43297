package dev.jlens.spark;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * Activation collection over a corpus as a Spark job: the corpus's lines, numbered from 0 in file
 * order, are split over partitions; each task runs the model (loaded once per executor) over its
 * documents, each tokenized as {@code --prompt} would be, and yields one row per (document,
 * position, hook point) whose name the regex matches.
 */
public final class ActivationsJob {
    /** The columns, in the order the output holds them. */
    public static final String[] COLUMNS = {"doc", "pos", "token", "hook", "values"};

    private ActivationsJob() {}

    /** The rows for {@code corpus} (a text file every executor can read), over {@code partitions} partitions (0: Spark's choice). */
    public static Dataset<Row> run(SparkSession spark, ModelSource model, String corpus, String names, int partitions) {
        // The file split into (at least) that many partitions where it lies: no shuffle; numbering the lines costs one pass over the text.
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<String> lines = partitions > 0 ? sc.textFile(corpus, partitions) : sc.textFile(corpus);
        JavaRDD<ActivationRow> rows = lines.zipWithIndex().mapPartitions(docs -> activations(model, names, docs));
        return spark.createDataset(rows.rdd(), Encoders.bean(ActivationRow.class)).select(COLUMNS[0], COLUMNS[1], COLUMNS[2], COLUMNS[3], COLUMNS[4]);
    }

    /** One partition's rows, document after document. */
    static Iterator<ActivationRow> activations(ModelSource source, String names, Iterator<Tuple2<String, Long>> docs) {
        LoadedModel loaded = source.load();
        HookedTransformer model = loaded.model();
        NameFilter filter = NameFilter.regex(names);
        return new Iterator<>() {
            private final List<ActivationRow> pending = new ArrayList<>();
            private int next;

            @Override
            public boolean hasNext() {
                while (next == pending.size() && docs.hasNext()) {
                    pending.clear();
                    next = 0;
                    Tuple2<String, Long> doc = docs.next();
                    rowsOf(loaded, model, filter, doc._1(), doc._2(), pending);
                }
                return next < pending.size();
            }

            @Override
            public ActivationRow next() {
                if (!hasNext()) throw new java.util.NoSuchElementException();
                return pending.get(next++);
            }
        };
    }

    /**
     * What {@code jlens cache --prompt TEXT} gives for one document, as rows: [batch, pos, ...]
     * activations a row per position; attention scores and patterns a row per query position.
     */
    static void rowsOf(LoadedModel loaded, HookedTransformer model, NameFilter filter, String text, long doc, List<ActivationRow> out) {
        int[] ids = loaded.tokenizer().toTokens(text, true);
        if (ids.length > model.cfg().nCtx()) ids = java.util.Arrays.copyOf(ids, model.cfg().nCtx());
        ActivationCache cache;
        // An executor runs several tasks at once on its one model, whose hooks and kept state belong to one pass at a time;
        // each pass already spreads its matrix products over every core.
        synchronized (model) {
            cache = model.runWithCache(Tokens.of(ids), filter).cache();
        }
        int n = ids.length;
        for (String hook : cache.names()) {
            Tensor t = cache.get(hook);
            float[] v = t.data();
            if (t.rank() == 4 && t.dim(1) != n && t.dim(2) == n && t.dim(3) == n) {
                // Attention scores and patterns are [batch, head, query, key]: a query position's row holds every head's keys.
                int heads = t.dim(1);
                for (int q = 0; q < n; q++) {
                    float[] row = new float[heads * n];
                    for (int h = 0; h < heads; h++) System.arraycopy(v, (h * n + q) * n, row, h * n, n);
                    out.add(new ActivationRow(doc, q, ids[q], hook, row));
                }
                continue;
            }
            int width = (int) (t.elements() / n);
            for (int p = 0; p < n; p++) out.add(new ActivationRow(doc, p, ids[p], hook, java.util.Arrays.copyOfRange(v, p * width, (p + 1) * width)));
        }
    }
}
