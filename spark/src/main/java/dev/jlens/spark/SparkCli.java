package dev.jlens.spark;

import dev.jlens.engine.JlensException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code jlens spark ...}: the commands that run on Apache Spark. The launcher starts this class,
 * with Spark's jars, only for them; every other command runs without Spark.
 */
@Command(name = "jlens spark", mixinStandardHelpOptions = true,
        description = "Activation collection over corpora too large for one machine, as Apache Spark jobs (embedded local[*] by default, "
                + "or --master spark://HOST:PORT).",
        subcommands = {ActivationsCommand.class, SweepCommand.class, SaeTrainFromParquetCommand.class, BenchCommand.class})
public final class SparkCli {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line; a user's mistake is one sentence on stderr and exit 1 (2 for the command line's syntax). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new SparkCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Throwable cause = e;
            // A task's failure reaches the driver wrapped by Spark: the sentence is the jlens exception inside.
            while (cause != null && !(cause instanceof JlensException)) cause = cause.getCause();
            if (cause != null) {
                commandLine.getErr().println("jlens: " + cause.getMessage());
                return 1;
            }
            throw e;
        });
        cli.setParameterExceptionHandler((e, ignored) -> {
            e.getCommandLine().getErr().println("jlens: " + e.getMessage() + " (see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help').");
            return 2;
        });
        return cli.execute(args);
    }
}
