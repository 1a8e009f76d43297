package dev.jlens.spark;

import dev.jlens.engine.JlensException;
import dev.jlens.experiments.report.Report;
import dev.jlens.experiments.report.Table;
import dev.jlens.experiments.sweeps.PromptSweep;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import scala.Tuple2;

/**
 * {@code jlens spark sweep}: notebook 003's neuron sweep or notebook 002's head patching over a file
 * of many prompt pairs, sharded by pair over the executors and reduced on the driver, in the file's
 * order, to the tables {@code jlens experiment sweep} prints on one machine.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Patching sweeps over many prompt pairs (one per line: clean, corrupted, answer, wrong, tab-separated) as a Spark job: "
                + "every neuron of one MLP layer (--kind neurons) or every head's z (--kind heads), the mean normalised metric over the pairs.")
final class SweepCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = ShippedModels.DEFAULT, paramLabel = "M", description = "model (default ${DEFAULT-VALUE})") String model;
    @Option(names = "--process", defaultValue = "default", paramLabel = "STEPS", description = "weight processing (default ${DEFAULT-VALUE})") String process;
    @Option(names = "--prompts", required = true, paramLabel = "FILE", description = "prompt pairs, one per line") Path prompts;
    @Option(names = "--kind", defaultValue = "neurons", paramLabel = "K", description = "neurons, heads, resid_pre, attn_out or mlp_out (default ${DEFAULT-VALUE})") String kind;
    @Option(names = "--layer", paramLabel = "L", description = "the MLP layer of a neuron sweep (default: the last)") Integer layer;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory for the tables (CSV, JSON) and index.html") Path out;
    @Option(names = "--master", defaultValue = "local[*]", paramLabel = "URL", description = "Spark master (default ${DEFAULT-VALUE})") String master;
    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N", description = "partitions of the pairs (default: Spark's)") int partitions;

    @Override
    public Integer call() {
        List<PromptSweep.Pair> pairs = PromptSweep.read(prompts);
        ModelSource source = Files.isDirectory(Path.of(model)) ? new ModelSource(ModelSource.Kind.PATH, Path.of(model).toAbsolutePath().toString(), process)
                : ShippedModels.NAMES.contains(model) ? new ModelSource(ModelSource.Kind.PATH, ShippedModels.resolve(model).toString(), process)
                : new ModelSource(ModelSource.Kind.NAME, model, process);
        LoadedModel loaded = source.load();
        PromptSweep.Options o = PromptSweep.options(kind, layer, loaded.model().cfg());
        try (Report report = new Report("Patching sweep over " + pairs.size() + " prompt pairs (" + kind + ") on " + model, out, System.out)) {
            double[] mean = sweep(source, pairs, o, master, partitions);
            for (Table t : PromptSweep.tables(loaded, mean, pairs.size(), o)) report.table(t);
            report.finish();
        }
        return 0;
    }

    /** Every pair's values computed on the executors, then their mean in the file's order. */
    static double[] sweep(ModelSource source, List<PromptSweep.Pair> pairs, PromptSweep.Options o, String master, int partitions) {
        SparkSession spark = Sessions.start("jlens sweep", master, ActivationsCommand.extraConf);
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            List<Tuple2<Integer, PromptSweep.Pair>> indexed = new ArrayList<>();
            for (int i = 0; i < pairs.size(); i++) indexed.add(new Tuple2<>(i, pairs.get(i)));
            JavaRDD<Tuple2<Integer, PromptSweep.Pair>> rdd = partitions > 0 ? sc.parallelize(indexed, partitions) : sc.parallelize(indexed);
            List<Tuple2<Integer, double[]>> values = new ArrayList<>(rdd.mapPartitions(part -> {
                LoadedModel loaded = source.load();
                List<Tuple2<Integer, double[]>> out = new ArrayList<>();
                while (part.hasNext()) {
                    Tuple2<Integer, PromptSweep.Pair> p = part.next();
                    // One pass at a time on an executor's one model (its hooks belong to one pass).
                    synchronized (loaded.model()) {
                        out.add(new Tuple2<>(p._1(), PromptSweep.perPair(loaded, p._2(), o)));
                    }
                }
                return out.iterator();
            }).collect());
            values.sort(Comparator.comparing(Tuple2::_1));
            return PromptSweep.mean(values.stream().map(Tuple2::_2).toList());
        } finally {
            spark.stop();
        }
    }
}
