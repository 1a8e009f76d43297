package dev.jlens.cli;

import picocli.CommandLine.Command;

/** {@code jlens bench ...}: quick end-to-end timings whose last line is {@code RESULT <name> <value> <unit>}. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Quick end-to-end timings; the last line is RESULT <name> <value> <unit>.",
        subcommands = {MatmulBench.class, StepBench.class, LoadBench.class, NeuronSweepBench.class, GenerateBench.class, SaeBench.class})
final class BenchCommand {
}
