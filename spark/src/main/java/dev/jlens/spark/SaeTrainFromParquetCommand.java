package dev.jlens.spark;

import dev.jlens.analysis.sae.ActivationBuffer;
import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeArchitecture;
import dev.jlens.analysis.sae.SaeConfig;
import dev.jlens.analysis.sae.SaeFiles;
import dev.jlens.analysis.sae.SaeTrainer;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Outputs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jlens spark sae-train}: an SAE trained on activations {@code jlens spark activations} wrote,
 * read back from its Parquet (one hook's rows) and streamed through the same shuffled buffer and
 * trainer as {@code jlens sae train}, which reads them from the model instead.
 */
@Command(name = "sae-train", mixinStandardHelpOptions = true,
        description = "Trains an SAE (topk or relu) on one hook's rows of a jlens spark activations output (Parquet) and writes it in SAELens's layout.")
final class SaeTrainFromParquetCommand implements Callable<Integer> {
    @Option(names = "--activations", required = true, paramLabel = "DIR", description = "the Parquet directory jlens spark activations wrote") Path activations;
    @Option(names = "--hook", required = true, paramLabel = "NAME", description = "the hook whose rows the SAE reads") String hook;
    @Option(names = "--d-sae", required = true, paramLabel = "N", description = "number of features") int dSae;
    @Option(names = "--architecture", defaultValue = "topk", paramLabel = "A", description = "topk or relu (default ${DEFAULT-VALUE})") String architecture;
    @Option(names = "--k", defaultValue = "32", paramLabel = "K", description = "TopK's k (default ${DEFAULT-VALUE})") int k;
    @Option(names = "--l1", defaultValue = "5", paramLabel = "X", description = "L1 coefficient of a relu SAE (default ${DEFAULT-VALUE})") double l1;
    @Option(names = "--tokens", required = true, paramLabel = "T", description = "training rows (the output is read again from the start when it runs out)") long tokens;
    @Option(names = "--batch", defaultValue = "1024", paramLabel = "B", description = "rows per step (default ${DEFAULT-VALUE})") int batch;
    @Option(names = "--lr", defaultValue = "3e-4", paramLabel = "LR", description = "AdamW learning rate (default ${DEFAULT-VALUE})") double lr;
    @Option(names = "--seed", defaultValue = "0", description = "seed (default ${DEFAULT-VALUE})") long seed;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory to write the SAE into") Path out;
    @Option(names = "--overwrite", description = "replace the SAE files of an earlier run in --out") boolean overwrite;
    @Option(names = "--master", defaultValue = "local[*]", paramLabel = "URL", description = "Spark master reading the Parquet (default ${DEFAULT-VALUE})")
    String master;

    @Override
    public Integer call() throws Exception {
        SaeArchitecture arch = SaeArchitecture.trainable(architecture);
        if (dSae < 1 || batch < 1 || tokens < batch) throw new JlensException("--d-sae and --batch must be positive, and --tokens at least --batch.");
        if (!Files.isDirectory(activations)) throw new JlensException("--activations " + activations + ": is not a directory.");
        Outputs.checkDirectory(out, List.of(SaeFiles.CONFIG, SaeFiles.WEIGHTS), overwrite, "--out");
        SparkSession spark = Sessions.start("jlens sae-train", master, ActivationsCommand.extraConf);
        try {
            Dataset<Row> rows = spark.read().parquet(activations.toString()).filter(functions.col("hook").equalTo(hook)).select("values");
            List<Row> first = rows.limit(1).collectAsList();
            if (first.isEmpty()) throw new JlensException("--activations " + activations + " holds no rows of " + hook + ".");
            int width = first.getFirst().getList(0).size();
            SaeConfig cfg = new SaeConfig(arch, width, dSae, arch == SaeArchitecture.TOPK ? Math.min(k, dSae) : 0, true, SaeConfig.Normalization.NONE,
                    hook, null, hook.endsWith("hook_z"));
            ActivationBuffer buffer = new ActivationBuffer(new ParquetRows(rows, width), width, batch, 16, seed);
            SaeTrainer.Options options = SaeTrainer.Options.of(cfg, tokens, batch, lr, l1, false, seed);
            long steps = options.steps();
            double[] last = new double[3];
            Sae sae = SaeTrainer.train(buffer, options, (step, total, mse, aux, l0, dead) -> {
                last[0] = mse;
                last[1] = l0;
                last[2] = dead;
            });
            SaeFiles.write(sae, out, overwrite);
            System.out.printf("trained a %s SAE (%d features, d_in %d) at %s on %,d rows read from %s: last batch mse %.4g, L0 %.1f, dead %.1f%%; wrote %s%n",
                    arch.saeLensName(), dSae, width, hook, steps * batch, activations, last[0], last[1], 100 * last[2], out);
        } finally {
            spark.stop();
        }
        return 0;
    }

    /** The rows' values in the order Spark reads them, from the start again when they run out; a few hundred rows per call. */
    private static final class ParquetRows implements ActivationBuffer.Source {
        private final Dataset<Row> rows;
        private final int width;
        private Iterator<Row> iterator;

        ParquetRows(Dataset<Row> rows, int width) {
            this.rows = rows;
            this.width = width;
        }

        @Override
        public float[] nextRows() {
            if (iterator == null || !iterator.hasNext()) iterator = rows.toLocalIterator();
            int n = 256;
            float[] chunk = new float[n * width];
            int taken = 0;
            while (taken < n && iterator.hasNext()) {
                List<Object> v = iterator.next().getList(0);
                if (v.size() != width) throw new JlensException("a row of the activations has " + v.size() + " values where the first has " + width + ".");
                for (int i = 0; i < width; i++) chunk[taken * width + i] = ((Number) v.get(i)).floatValue();
                taken++;
            }
            return java.util.Arrays.copyOf(chunk, taken * width);
        }
    }
}
