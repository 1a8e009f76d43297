package dev.jlens.experiments.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.kernels.cuda.CudaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jlens} command line. */
@Command(name = "jlens", mixinStandardHelpOptions = true, version = "jlens 0.1.0",
        description = "TransformerLens for the JVM.",
        subcommands = {InitCommand.class, PredictCommand.class, CacheCommand.class, GradsCommand.class, ExperimentCommand.class, TrainCommand.class, DownloadCommand.class, BenchCommand.class})
public final class Jlens {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line and returns its exit code: user mistakes are one sentence on stderr. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Jlens());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof JlensException) {
                commandLine.getErr().println("jlens: " + e.getMessage());
                return 1;
            }
            if (e instanceof CudaException) {
                // The GPU refused mid-run (out of memory for this batch, say): what it said, not a stack trace.
                commandLine.getErr().println("jlens: on the GPU, " + e.getMessage() + ".");
                return 1;
            }
            throw e;
        });
        cli.setParameterExceptionHandler((e, args1) -> {
            CommandLine command = e.getCommandLine();
            command.getErr().println("jlens: " + e.getMessage() + " (see '" + command.getCommandSpec().qualifiedName() + " --help').");
            return 2;
        });
        return cli.execute(args);
    }
}
