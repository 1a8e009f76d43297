package dev.jlens.spark;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.engine.io.TextLines;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jlens spark bench}: activation collection over one corpus through Spark and through the
 * single-JVM path (the same rows, document after document), timed in one run. Both make every row
 * and keep none, so the difference is what Spark costs: scheduling, serialising rows, and tasks
 * sharing an executor's one model.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Times activation collection through Spark against the single-JVM path on the same corpus; last line RESULT spark_overhead <x> x.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = ShippedModels.DEFAULT, paramLabel = "M", description = "model (default ${DEFAULT-VALUE})") String model;
    @Option(names = "--corpus", required = true, paramLabel = "FILE", description = "text, one document per line") Path corpus;
    @Option(names = "--names", defaultValue = "blocks\\.1\\.hook_resid_post", paramLabel = "REGEX", description = "hook points (default ${DEFAULT-VALUE})")
    String names;
    @Option(names = "--master", defaultValue = "local[2]", paramLabel = "URL", description = "Spark master (default ${DEFAULT-VALUE})") String master;
    @Option(names = "--partitions", defaultValue = "8", paramLabel = "N", description = "partitions (default ${DEFAULT-VALUE})") int partitions;
    @Option(names = "--repeats", defaultValue = "3", paramLabel = "R", description = "timed runs of each, the best kept (default ${DEFAULT-VALUE})") int repeats;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(corpus)) throw new JlensException("--corpus " + corpus + ": is not a file.");
        List<String> docs = TextLines.read(corpus, "--corpus");
        ModelSource source = Files.isDirectory(Path.of(model)) ? new ModelSource(ModelSource.Kind.PATH, Path.of(model).toAbsolutePath().toString(), "default")
                : new ModelSource(ModelSource.Kind.PATH, ShippedModels.resolve(model).toString(), "default");
        LoadedModel loaded = source.load();
        HookedTransformer m = loaded.model();
        long tokens = 0;
        for (String d : docs) tokens += Math.min(loaded.tokenizer().toTokens(d, true).length, m.cfg().nCtx());

        double single = Double.MAX_VALUE;
        NameFilter filter = NameFilter.regex(names);
        for (int r = 0; r < repeats + 1; r++) {
            long t0 = System.nanoTime(), rows = 0;
            for (int d = 0; d < docs.size(); d++) {
                List<ActivationRow> out = new ArrayList<>();
                ActivationsJob.rowsOf(loaded, m, filter, docs.get(d), d, out);
                rows += out.size();
            }
            if (r > 0) single = Math.min(single, (System.nanoTime() - t0) / 1e9); // the first run warms the JIT
            if (rows == 0) throw new JlensException("--names '" + names + "' matches no hook point.");
        }
        SparkSession spark = Sessions.start("jlens bench", master, ActivationsCommand.extraConf);
        double distributed = Double.MAX_VALUE;
        long sparkRows = 0;
        try {
            for (int r = 0; r < repeats + 1; r++) {
                long t0 = System.nanoTime();
                sparkRows = ActivationsJob.run(spark, source, corpus.toAbsolutePath().toString(), names, partitions).count();
                if (r > 0) distributed = Math.min(distributed, (System.nanoTime() - t0) / 1e9);
            }
        } finally {
            spark.stop();
        }
        System.out.printf("%s, %d documents, %,d tokens, %,d rows (%s)%n", model, docs.size(), tokens, sparkRows, names);
        System.out.printf("single JVM: %.2f s, %.0f tokens/s; Spark %s, %d partitions: %.2f s, %.0f tokens/s (best of %d each)%n",
                single, tokens / single, master, partitions, distributed, tokens / distributed, repeats);
        System.out.printf("RESULT spark_overhead %.2f x%n", distributed / single);
        return 0;
    }
}
