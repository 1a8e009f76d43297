package dev.jlens.spark;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Outputs;
import dev.jlens.models.hub.ShippedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jlens spark activations}: every matching hook's activation at every position of every document, as Parquet or JSON lines. */
@Command(name = "activations", mixinStandardHelpOptions = true,
        description = "Runs the model over a corpus (one document per line) on Spark and writes one row per (document, position, hook): "
                + "doc, pos, token, hook, values.")
final class ActivationsCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = ShippedModels.DEFAULT, paramLabel = "M",
            description = "a model directory every executor can read, a shipped model's name or a Hugging Face name (each executor's cache) "
                    + "(default ${DEFAULT-VALUE})") String model;
    @Option(names = "--ship-model", description = "ship the --model directory with the job (Spark's file distribution) instead of reading it "
            + "at the same path on every executor") boolean shipModel;
    @Option(names = "--process", defaultValue = "default", paramLabel = "STEPS", description = "TransformerLens weight processing (default ${DEFAULT-VALUE})")
    String process;
    @Option(names = "--corpus", required = true, paramLabel = "FILE", description = "text, one document per line, at a path every executor can read")
    Path corpus;
    @Option(names = "--names", required = true, paramLabel = "REGEX", description = "hook points whose whole name matches") String names;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory Spark writes the rows into") Path out;
    @Option(names = "--format", defaultValue = "parquet", paramLabel = "F", description = "parquet or json (JSON lines) (default ${DEFAULT-VALUE})")
    String format;
    @Option(names = "--master", defaultValue = "local[*]", paramLabel = "URL", description = "Spark master: local[N], local[*] or spark://HOST:PORT "
            + "(default ${DEFAULT-VALUE}; under spark-submit, its --master)") String master;
    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N", description = "partitions of the corpus (default: Spark's)") int partitions;
    @Option(names = "--overwrite", description = "replace an earlier output of this command in --out") boolean overwrite;

    /** Extra Spark settings (tests give executors their class path). */
    static Map<String, String> extraConf = Map.of();

    @Override
    public Integer call() throws IOException {
        if (!format.equals("parquet") && !format.equals("json")) throw new JlensException("--format '" + format + "' is not one jlens writes; it takes parquet or json.");
        try {
            Pattern.compile(names);
        } catch (PatternSyntaxException e) {
            throw new JlensException("--names '" + names + "' is not a valid regular expression (" + e.getDescription() + ").");
        }
        if (partitions < 0) throw new JlensException("--partitions must be 0 or more, not " + partitions + ".");
        if (!Files.isRegularFile(corpus)) throw new JlensException("--corpus " + corpus + ": is not a file.");
        checkOut(out, overwrite);
        ModelSource source = source();
        SparkSession spark = Sessions.start("jlens activations", master, extraConf);
        try {
            if (source.kind() == ModelSource.Kind.SHIPPED) spark.sparkContext().addFile(Path.of(model).toAbsolutePath().toString(), true);
            source.load(); // on the driver first: a model that cannot load is one sentence before any task runs
            Dataset<Row> rows = ActivationsJob.run(spark, source, corpus.toAbsolutePath().toString(), names, partitions);
            Path staging = Outputs.temporaryDirectoryBeside(out);
            Files.delete(staging);
            try {
                if (format.equals("parquet")) rows.write().parquet(staging.toString());
                else rows.write().json(staging.toString());
                publish(staging, out);
                // Counted where the rows now lie: Spark skips a directory whose name starts with a dot, as the staging one's does.
                long count = spark.read().format(format).load(out.toString()).count();
                System.out.printf("wrote %,d rows (%s) to %s%n", count, format, out);
            } finally {
                if (Files.exists(staging)) Outputs.discard(staging);
            }
        } finally {
            spark.stop();
        }
        return 0;
    }

    private ModelSource source() {
        if (shipModel) {
            if (!Files.isDirectory(Path.of(model))) throw new JlensException("--ship-model ships a directory, and --model " + model + " is not one.");
            return new ModelSource(ModelSource.Kind.SHIPPED, Path.of(model).toAbsolutePath().normalize().getFileName().toString(), process);
        }
        if (Files.isDirectory(Path.of(model))) return new ModelSource(ModelSource.Kind.PATH, Path.of(model).toAbsolutePath().normalize().toString(), process);
        // A shipped organism is read where the driver's checkout holds it (on a cluster of other machines, --ship-model it).
        if (ShippedModels.NAMES.contains(model)) return new ModelSource(ModelSource.Kind.PATH, ShippedModels.resolve(model).toString(), process);
        return new ModelSource(ModelSource.Kind.NAME, model, process);
    }

    /** --out may not exist yet; with --overwrite it may be an earlier output of this command (Spark's part files and _SUCCESS, nothing else). */
    static void checkOut(Path out, boolean overwrite) throws IOException {
        if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) return;
        if (!overwrite) throw new JlensException("--out " + out + ": already exists; pass --overwrite to replace an earlier output of jlens spark, or name another directory.");
        if (!isOurOutput(out)) throw new JlensException("--out " + out + ": holds more than an earlier output of jlens spark; choose another directory.");
    }

    static boolean isOurOutput(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(dir.resolve("_SUCCESS"))) return false;
        try (var files = Files.list(dir)) {
            return files.allMatch(f -> {
                String n = f.getFileName().toString();
                return Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && (n.startsWith("part-") || n.startsWith(".part-") || n.equals("_SUCCESS") || n.equals("._SUCCESS.crc"));
            });
        }
    }

    /** Moves the finished output into place; an earlier output is set aside first and removed only once the new one is in. */
    private static void publish(Path staging, Path out) throws IOException {
        if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            Outputs.publishDirectory(staging, out);
            return;
        }
        if (!isOurOutput(out)) throw new JlensException("--out " + out + ": was filled with other files while the job ran; they were left as they are.");
        Path old = Outputs.temporaryDirectoryBeside(out);
        Files.delete(old);
        Files.move(out, old);
        Outputs.publishDirectory(staging, out);
        Outputs.discard(old);
    }
}
