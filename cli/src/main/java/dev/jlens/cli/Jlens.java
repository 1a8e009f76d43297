package dev.jlens.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.kernels.cuda.CudaException;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** The {@code jlens} command line. */
@Command(name = "jlens", mixinStandardHelpOptions = true, version = "jlens 0.1.0",
        description = "TransformerLens for the JVM.",
        subcommands = {InitCommand.class, TokenizeCommand.class, PredictCommand.class, CacheCommand.class, GradsCommand.class, GenerateCommand.class, ExperimentCommand.class, TrainCommand.class, SaeCommand.class, ViewCommand.class, DownloadCommand.class, BenchCommand.class})
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
            String name = command.getCommandSpec().qualifiedName();
            String unknown = unknownSubcommand(e);
            if (unknown != null) {
                command.getErr().println("jlens: '" + unknown + "' is not a command of '" + name + "' (it has "
                        + String.join(", ", command.getSubcommands().keySet()) + ").");
            } else {
                command.getErr().println("jlens: " + e.getMessage() + " (see '" + name + " --help').");
            }
            return 2;
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            cli.getErr().println("jlens: " + OutOfMemory.sentence(cli));
            return 1;
        }
    }

    /** The word given where a command with subcommands expects one of their names, or null when the mistake is another. */
    private static String unknownSubcommand(CommandLine.ParameterException e) {
        if (!(e instanceof CommandLine.UnmatchedArgumentException unmatched) || e.getCommandLine().getSubcommands().isEmpty()) return null;
        String first = unmatched.getUnmatched().isEmpty() ? null : unmatched.getUnmatched().get(0);
        return first == null || first.startsWith("-") ? null : first;
    }
}
